// Argument parsing for hikyaku-util commands: positional words and --options.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domains/local_part.hpp"

namespace hk::util {

class Args {
 public:
  // `flags` take no value (--force); `options` take one, as --name=VALUE or --name VALUE.
  // Anything after "--" is positional. Throws UsageError on an unknown option.
  Args(const std::vector<std::string>& words, std::initializer_list<std::string_view> flags,
       std::initializer_list<std::string_view> options);

  bool has(std::string_view flag) const;
  std::optional<std::string> value(std::string_view option) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Throws UsageError unless there are exactly `n` positional words; `what` names them.
  void expect(size_t n, std::string_view what) const;

 private:
  std::vector<std::string> flags_;
  std::vector<std::pair<std::string, std::string>> options_;
  std::vector<std::string> positional_;
};

// "user@domain" as a command argument: the domain lower-cased and valid, the local part a valid
// user name (not normalized). Throws UsageError naming `what`.
domains::Address parse_user_address(std::string_view text, std::string_view what);
// A domain argument, lower-cased. Throws UsageError.
std::string parse_domain(std::string_view text);

}  // namespace hk::util
