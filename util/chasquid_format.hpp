// chasquid's configuration files, read into plain structs for `hikyaku-util import-chasquid`:
// the users database (domains/<domain>/users, protobuf text format of chasquid's userdb.ProtoDB),
// chasquid.conf (protobuf text format of its Config message) and the aliases files. The formats
// are chasquid's documented ones (its userdb.proto, config.proto and docs/aliases.md); this is
// our own reader, no chasquid code. Nothing here maps to hikyaku: import_chasquid.cpp does that.
// Errors are FormatError with what() "file:line: message".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "util/prototext.hpp"

namespace hk::util::chasquid {

struct FormatError : std::runtime_error {
  using runtime_error::runtime_error;
};

// userdb.proto's Scrypt message: the key is scrypt(password, salt, N = 2^log_n, r, p, key_len)
// (RFC 7914), `salt` and `encrypted` raw bytes.
struct Scrypt {
  uint64_t log_n = 0;
  int64_t r = 0;
  int64_t p = 0;
  int64_t key_len = 0;
  std::string salt;
  std::string encrypted;
};

enum class Scheme { None, Scrypt, Plain, Denied };

struct User {
  std::string name;  // the map key as written (chasquid stores it normalized, lower-case)
  int line = 0;
  Scheme scheme = Scheme::None;
  Scrypt scrypt;
  std::string plain;  // Scheme::Plain: the password itself
};

// The `users` entries of a ProtoDB in file order. A key given twice is kept twice (the caller
// decides; protobuf's rule is that the last one wins). Throws FormatError.
std::vector<User> parse_users(std::string_view text, std::string_view file_name);

// chasquid.conf: each field as written (repeated fields appear once per value). Every field must
// be a scalar; names are not checked here (a newer chasquid may have more).
std::vector<prototext::Field> parse_config(std::string_view text, std::string_view file_name);

enum class AliasKind { Addresses, Pipe };

struct Alias {
  std::string name;  // the left side, trimmed, as written
  int line = 0;
  AliasKind kind = AliasKind::Addresses;
  std::vector<std::string> targets;  // Addresses: each as written, trimmed; empty ones dropped
  std::string command;               // Pipe: the command after '|', trimmed
};

// An aliases file: '#' comment lines and blank lines skipped, `name: target, target` or
// `name: | command`. As chasquid, a line without ':', with an empty side or with '@' on the left
// is an error. Entries are returned in file order, duplicates included.
std::vector<Alias> parse_aliases(std::string_view text, std::string_view file_name);

// A Go duration ("20h", "1h30m", "90m", "2.5h", "300s"), as chasquid.conf's give_up_send_after
// holds, in whole seconds (rounded down); false when malformed or negative.
bool parse_go_duration(std::string_view text, int64_t& seconds);

}  // namespace hk::util::chasquid
