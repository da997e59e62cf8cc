// Argument parsing for hikyaku-util commands.
#include "util/args.hpp"

#include <algorithm>

#include "lib/base/ascii.hpp"
#include "util/command.hpp"

namespace hk::util {

Args::Args(const std::vector<std::string>& words, std::initializer_list<std::string_view> flags,
           std::initializer_list<std::string_view> options) {
  auto known = [](std::initializer_list<std::string_view> list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  bool only_positional = false;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (only_positional || !w.starts_with("--")) {
      positional_.emplace_back(w);
      continue;
    }
    if (w == "--") {
      only_positional = true;
      continue;
    }
    std::string_view name = w.substr(
        2, w.find('=') == std::string_view::npos ? std::string_view::npos : w.find('=') - 2);
    bool has_value = w.find('=') != std::string_view::npos;
    if (known(flags, name)) {
      if (has_value) {
        throw UsageError("option --" + std::string(name) + " takes no value");
      }
      flags_.emplace_back(name);
    } else if (known(options, name)) {
      std::string value;
      if (has_value) {
        value = std::string(w.substr(w.find('=') + 1));
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        throw UsageError("option --" + std::string(name) + " needs a value");
      }
      options_.emplace_back(std::string(name), std::move(value));
    } else {
      throw UsageError("unknown option " + std::string(w.substr(0, w.find('='))));
    }
  }
}

bool Args::has(std::string_view flag) const {
  return std::find(flags_.begin(), flags_.end(), flag) != flags_.end();
}

std::optional<std::string> Args::value(std::string_view option) const {
  for (const auto& [name, value] : options_) {
    if (name == option) {
      return value;
    }
  }
  return std::nullopt;
}

void Args::expect(size_t n, std::string_view what) const {
  if (positional_.size() < n) {
    throw UsageError("missing " + std::string(what));
  }
  if (positional_.size() > n) {
    throw UsageError("unexpected argument \"" + positional_[n] + "\"");
  }
}

domains::Address parse_user_address(std::string_view text, std::string_view what) {
  auto address = domains::split_address(text);
  if (!address) {
    throw UsageError(std::string(what) + " must be USER@DOMAIN, got \"" + std::string(text) + "\"");
  }
  if (!domains::is_valid_domain_name(address->domain)) {
    throw UsageError("invalid domain \"" + address->domain + "\"");
  }
  if (!domains::is_valid_user_name(address->local)) {
    throw UsageError("invalid user name \"" + address->local + "\"");
  }
  return *address;
}

std::string parse_domain(std::string_view text) {
  std::string domain = base::to_lower(text);
  if (!domains::is_valid_domain_name(domain)) {
    throw UsageError("invalid domain \"" + std::string(text) + "\"");
  }
  return domain;
}

}  // namespace hk::util
