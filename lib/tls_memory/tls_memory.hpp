// TlsMemory: which recipient domains have given us verified TLS (a certificate verified for the
// MX host name, or DANE), so that later deliveries to them are never downgraded to plaintext or
// to an unverified certificate (as chasquid's domaininfo). One small file per domain under
// data_dir/domaininfo/, written atomically; `hikyaku-util domaininfo` reads and removes them.
// SECURITY: a domain name becomes a file name only after is_domain_name(); file contents are
// parsed strictly and a file that does not parse counts as a record (fail safe: TLS stays
// required until the operator removes it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace hk::tls_memory {

struct Record {
  std::string domain;      // lower case, no trailing dot
  std::string mx;          // the MX host that first gave verified TLS
  std::string method;      // "verified" (the roots, for the MX name) or "dane"
  std::int64_t since = 0;  // when, in seconds since the epoch
  bool operator==(const Record&) const = default;
};

// The file's text: "tls=<method>\nmx=<host>\nsince=<seconds>\n" after a comment line.
std::string format(const Record& r);
// nullopt when `text` is not what format() writes.
std::optional<Record> parse(std::string_view domain, std::string_view text);

// The domain as a file name: lower-cased, the trailing dot dropped; empty when it is no domain
// name.
std::string normalize(std::string_view domain);

class Store {
 public:
  explicit Store(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The record of `domain`, read from its file each time, so that a removal by hikyaku-util
  // takes effect at the next delivery without telling the daemon. A file that exists but does
  // not parse gives a record with method "unreadable".
  std::optional<Record> get(std::string_view domain) const;
  // Writes the record atomically (creating the folder).
  std::error_code put(const Record& r) const;
  // Removes the domain's record; no_such_file_or_directory when there was none.
  std::error_code remove(std::string_view domain) const;
  // Every record, by domain name.
  std::vector<Record> list() const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace hk::tls_memory
