// TOML nodes to values for parse.cpp: type and range checks, unknown keys, ${ENV} expansion, and
// errors of the form "FILE:LINE: KEY: message" (ConfigError). Internal to hk_config.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hk::config {

class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  // Throws ConfigError("FILE:LINE: KEY: message"); the line is left out when unknown (0) and the
  // key when empty.
  [[noreturn]] void fail(const toml::source_region& where, std::string_view key,
                         std::string_view message) const;
  [[noreturn]] void fail(const toml::node& n, std::string_view key, std::string_view message) const;
  // "must be <expected>, not a string".
  [[noreturn]] void wrong_type(const toml::node& n, std::string_view key,
                               std::string_view expected) const;
  // "must be between <min> and <max>, got <got>".
  [[noreturn]] void out_of_range(const toml::node& n, std::string_view key, const std::string& min,
                                 const std::string& max, const std::string& got) const;

  // Every string is read here, so ${ENV} works in any string value.
  std::string string(const toml::node& n, std::string_view key) const;
  bool boolean(const toml::node& n, std::string_view key) const;
  int64_t integer(const toml::node& n, std::string_view key, int64_t min, int64_t max) const;
  // A size string ("50MiB") or an integer number of bytes.
  uint64_t size(const toml::node& n, std::string_view key, uint64_t min, uint64_t max) const;
  // A duration string ("1h30m"; "500ms" too when `allow_ms`) or an integer number of seconds.
  std::chrono::milliseconds duration(const toml::node& n, std::string_view key,
                                     std::chrono::milliseconds min, std::chrono::milliseconds max,
                                     bool allow_ms = false) const;
  // A domain name, lower-cased.
  std::string domain(const toml::node& n, std::string_view key) const;
  std::vector<std::string> domains(const toml::node& n, std::string_view key) const;
  // `header` is how the table is written, for the message: "[limits]", "[[relay]]".
  const toml::table& table(const toml::node& n, std::string_view key,
                           std::string_view header) const;

  // Fails on the first key of `t` (toml++ keeps them sorted) that is not in `known`, naming it
  // "prefix.key" ("key" at the top level, where `prefix` is empty).
  void check_keys(const toml::table& t, std::string_view prefix,
                  const std::vector<std::string_view>& known) const;

  // Calls f(element, "key[i]") for each element of an array.
  template <class F>
  void each(const toml::node& n, std::string_view key, F&& f) const {
    const auto* a = n.as_array();
    if (a == nullptr) {
      wrong_type(n, key, "an array");
    }
    size_t i = 0;
    for (const toml::node& e : *a) {
      f(e, std::string(key) + "[" + std::to_string(i++) + "]");
    }
  }

 private:
  std::string file_;
};

}  // namespace hk::config
