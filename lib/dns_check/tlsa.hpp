// TLSA records (RFC 6698) of this server's live certificates: what `dns-records --dane` prints
// and what `check-dns --dane` compares the published records with. Reads the certificate folders
// the daemon serves (CONFIG_DIR/certs/<name>/fullchain.pem); never a private key.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/dns/answer.hpp"

namespace hk::dns_check {

// One certificate folder the daemon serves: its chain as DER, leaf first.
struct LiveChain {
  std::string folder;
  std::vector<std::vector<unsigned char>> certs_der;
};

// The folders whose leaf certificate names `hostname` (the name a DANE sender checks, RFC 7672
// §3.2.2); when none does, every folder (the daemon then serves its default one). Empty with
// `error` set when the certs dir or a fullchain.pem cannot be read.
std::vector<LiveChain> live_chains(const std::filesystem::path& certs_dir,
                                   const std::string& hostname, std::string& error);

// The DANE-EE record of a chain's leaf, "3 1 1": SHA-256 of its SubjectPublicKeyInfo (RFC 7671
// §5.1, RFC 7672 §3.1.1: the recommended form, which survives a renewal that keeps the key).
dns::TlsaRecord dane_ee_record(const LiveChain& chain);

// Whether `r` matches `chain` as a DANE client checks it (RFC 6698 §2.1, RFC 7672 §3.1): usage 3
// and 1 against the leaf, 2 and 0 against any certificate of the chain; selector 0 the whole
// certificate, 1 its SubjectPublicKeyInfo; matching type 0 exact, 1 SHA-256, 2 SHA-512.
bool tlsa_matches(const dns::TlsaRecord& r, const LiveChain& chain);

// "3 1 1 0a1b…" (lower-case hex), the presentation form of RFC 6698 §2.2.
std::string tlsa_text(const dns::TlsaRecord& r);

}  // namespace hk::dns_check
