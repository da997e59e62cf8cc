// PasswordFile: the operator's hash file, re-read on change, and the cache of successful checks.
#include "daemon/console/password_file.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "domains/password.hpp"
#include "lib/base/files.hpp"
#include "lib/base/log.hpp"

namespace hk::console {

PasswordFile::PasswordFile() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    throw std::runtime_error("no random key for the console's password cache");
  }
}

PasswordFile::~PasswordFile() {
  clear();
  OPENSSL_cleanse(key_.data(), key_.size());
}

void PasswordFile::clear() {
  for (Entry& e : cache_) {
    OPENSSL_cleanse(e.tag.data(), e.tag.size());
  }
  cache_.clear();
}

PasswordFile::Tag PasswordFile::tag_of(std::string_view password) const {
  Tag tag{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(password.data()), password.size(), tag.data(),
           &len) == nullptr) {
    tag.fill(0);  // never matches a stored tag: remember() stores no such tag
  }
  return tag;
}

void PasswordFile::configure(std::filesystem::path path, std::chrono::seconds cache_ttl,
                             size_t cache_size) {
  if (path != path_) {
    seen_ = false;
    hash_.clear();
  }
  path_ = std::move(path);
  ttl_ = cache_ttl;
  size_ = cache_size;
  clear();  // whatever changed
}

const std::string* PasswordFile::hash() {
  if (path_.empty()) {
    return nullptr;
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    st = {};  // missing: remembered as "all zero", so that its return is noticed
  }
  if (!seen_ || st.st_ino != stat_.st_ino || st.st_dev != stat_.st_dev ||
      st.st_size != stat_.st_size || st.st_mtim.tv_sec != stat_.st_mtim.tv_sec ||
      st.st_mtim.tv_nsec != stat_.st_mtim.tv_nsec || st.st_ctim.tv_sec != stat_.st_ctim.tv_sec ||
      st.st_ctim.tv_nsec != stat_.st_ctim.tv_nsec) {
    reload(st);
  }
  return hash_.empty() ? nullptr : &hash_;
}

void PasswordFile::reload(const struct stat& st) {
  seen_ = true;
  stat_ = st;
  hash_.clear();
  clear();
  std::string text;
  if (std::error_code ec = base::read_file(path_, text)) {
    base::log_error() << "console password_file=" << base::log_quote(path_.string())
                      << " result=unusable error=" << base::log_quote(ec.message());
    return;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (!domains::is_valid_password_hash(text)) {
    base::log_error() << "console password_file=" << base::log_quote(path_.string())
                      << " result=unusable error=\"not a hash written by hikyaku-util "
                         "console-password\"";
    return;
  }
  hash_ = std::move(text);
  base::log_info() << "console password_file=" << base::log_quote(path_.string())
                   << " result=loaded";
}

bool PasswordFile::cached(std::string_view password) {
  const auto now = std::chrono::steady_clock::now();
  while (!cache_.empty() && cache_.front().expires <= now) {
    OPENSSL_cleanse(cache_.front().tag.data(), cache_.front().tag.size());
    cache_.erase(cache_.begin());
  }
  if (hash_.empty() || cache_.empty()) {
    return false;
  }
  const Tag tag = tag_of(password);
  for (const Entry& e : cache_) {
    if (CRYPTO_memcmp(e.tag.data(), tag.data(), tag.size()) == 0) {
      return true;
    }
  }
  return false;
}

void PasswordFile::remember(std::string_view password) {
  if (ttl_.count() <= 0 || size_ == 0 || hash_.empty()) {
    return;
  }
  if (cache_.size() >= size_) {
    OPENSSL_cleanse(cache_.front().tag.data(), cache_.front().tag.size());
    cache_.erase(cache_.begin());
  }
  cache_.push_back({tag_of(password), std::chrono::steady_clock::now() + ttl_});
}

bool verify_password_ok(const std::string& hash, const std::string& password) {
  return domains::verify_password(hash, password);
}

}  // namespace hk::console
