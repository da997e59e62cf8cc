// TLSA records of the live certificates; see tlsa.hpp.
#include "lib/dns_check/tlsa.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "lib/base/files.hpp"
#include "lib/base/openssl.hpp"

namespace hk::dns_check {
namespace {

namespace fs = std::filesystem;

std::vector<unsigned char> spki_der(const std::vector<unsigned char>& cert_der) {
  const unsigned char* p = cert_der.data();
  base::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  if (!cert) {
    return {};
  }
  unsigned char* out = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &out);
  std::vector<unsigned char> der;
  if (n > 0) {
    der.assign(out, out + n);
  }
  OPENSSL_free(out);
  return der;
}

std::vector<unsigned char> digest(const EVP_MD* md, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> out(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1) {
    return {};
  }
  out.resize(n);
  return out;
}

// The association data of `cert_der` for a selector and matching type; empty when unknown.
std::vector<unsigned char> association(const std::vector<unsigned char>& cert_der, int selector,
                                       int matching_type) {
  std::vector<unsigned char> selected;
  if (selector == 0) {
    selected = cert_der;
  } else if (selector == 1) {
    selected = spki_der(cert_der);
  }
  if (selected.empty()) {
    return {};
  }
  switch (matching_type) {
    case 0:
      return selected;
    case 1:
      return digest(EVP_sha256(), selected);
    case 2:
      return digest(EVP_sha512(), selected);
    default:
      return {};
  }
}

// The chain of one fullchain.pem as DER; empty when it holds no certificate.
std::vector<std::vector<unsigned char>> read_chain(const fs::path& file, std::string& error) {
  std::string pem;
  if (std::error_code ec = base::read_file(file, pem)) {
    error = file.string() + ": " + ec.message();
    return {};
  }
  base::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<std::vector<unsigned char>> chain;
  for (;;) {
    base::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    unsigned char* out = nullptr;
    int n = i2d_X509(cert.get(), &out);
    if (n > 0) {
      chain.emplace_back(out, out + n);
    }
    OPENSSL_free(out);
  }
  ERR_clear_error();  // the normal end of the file
  if (chain.empty()) {
    error = file.string() + ": no certificate";
  }
  return chain;
}

bool names_host(const std::vector<unsigned char>& leaf_der, const std::string& hostname) {
  const unsigned char* p = leaf_der.data();
  base::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(leaf_der.size())));
  return cert && X509_check_host(cert.get(), hostname.data(), hostname.size(), 0, nullptr) == 1;
}

}  // namespace

std::vector<LiveChain> live_chains(const fs::path& certs_dir, const std::string& hostname,
                                   std::string& error) {
  std::vector<LiveChain> all;
  std::error_code ec;
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(certs_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && fs::is_directory(it->path())) {
      folders.push_back(it->path());
    }
  }
  if (ec) {
    error = "certs dir " + certs_dir.string() + ": " + ec.message();
    return {};
  }
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    LiveChain c{folder.filename().string(), read_chain(folder / "fullchain.pem", error)};
    if (c.certs_der.empty()) {
      return {};
    }
    all.push_back(std::move(c));
  }
  if (all.empty()) {
    error = "no certificate folder in " + certs_dir.string();
    return {};
  }
  std::vector<LiveChain> named;
  for (const LiveChain& c : all) {
    if (names_host(c.certs_der.front(), hostname)) {
      named.push_back(c);
    }
  }
  return named.empty() ? all : named;
}

dns::TlsaRecord dane_ee_record(const LiveChain& chain) {
  return {3, 1, 1, association(chain.certs_der.front(), 1, 1)};
}

bool tlsa_matches(const dns::TlsaRecord& r, const LiveChain& chain) {
  if (chain.certs_der.empty()) {
    return false;
  }
  size_t first = 0;
  size_t last = 0;  // inclusive
  if (r.usage == 3 || r.usage == 1) {
    last = 0;
  } else if (r.usage == 2 || r.usage == 0) {
    last = chain.certs_der.size() - 1;
  } else {
    return false;
  }
  for (size_t i = first; i <= last; ++i) {
    std::vector<unsigned char> a = association(chain.certs_der[i], r.selector, r.matching_type);
    if (!a.empty() && a == r.data) {
      return true;
    }
  }
  return false;
}

std::string tlsa_text(const dns::TlsaRecord& r) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
                    std::to_string(r.matching_type) + " ";
  for (unsigned char b : r.data) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace hk::dns_check
