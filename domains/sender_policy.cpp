// Parsing of domain.toml with toml++.
#include "domains/sender_policy.hpp"

#include <toml++/toml.h>

#include "domains/domains_error.hpp"
#include "domains/local_part.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/files.hpp"

namespace hk::domains {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view file_name) : file_(file_name) {}

  [[noreturn]] void fail(const toml::source_region& where, std::string_view key,
                         std::string_view msg) const {
    throw DomainsError(file_ + ":" + std::to_string(where.begin.line) + ": " + std::string(key) +
                       ": " + std::string(msg));
  }

  SendAs parse_send_as(const toml::node& node) const {
    const auto* s = node.as_string();
    if (s != nullptr) {
      if (s->get() == "own") {
        return SendAs::Own;
      }
      if (s->get() == "domain") {
        return SendAs::Domain;
      }
      if (s->get() == "any") {
        return SendAs::Any;
      }
    }
    fail(node.source(), "send_as", "expected \"own\", \"domain\" or \"any\"");
  }

  std::vector<std::string> parse_extra(const toml::node& node, const std::string& key) const {
    const auto* array = node.as_array();
    if (array == nullptr) {
      fail(node.source(), key, "expected an array of addresses");
    }
    std::vector<std::string> out;
    for (const toml::node& item : *array) {
      const auto* s = item.as_string();
      if (s == nullptr) {
        fail(item.source(), key, "expected a string");
      }
      std::string_view text = s->get();
      if (text.starts_with("@")) {
        std::string domain = base::to_lower(text.substr(1));
        if (!is_valid_domain_name(domain)) {
          fail(item.source(), key, "invalid domain \"" + std::string(text) + "\"");
        }
        out.push_back("@" + domain);
        continue;
      }
      auto address = split_address(text);
      if (!address || !is_valid_domain_name(address->domain)) {
        fail(item.source(), key,
             "invalid address \"" + std::string(text) + "\" (expected local@domain or @domain)");
      }
      out.push_back(address->local + "@" + address->domain);
    }
    return out;
  }

  void parse_users(const toml::node& node, SenderPolicy& policy) const {
    const auto* users = node.as_table();
    if (users == nullptr) {
      fail(node.source(), "users", "expected a table");
    }
    for (const auto& [user_key, user_node] : *users) {
      std::string prefix = "users." + std::string(user_key.str());
      if (!is_valid_user_name(user_key.str())) {
        fail(user_key.source(), prefix, "invalid user name");
      }
      const auto* table = user_node.as_table();
      if (table == nullptr) {
        fail(user_node.source(), prefix, "expected a table");
      }
      for (const auto& [key, value] : *table) {
        std::string full = prefix + "." + std::string(key.str());
        if (key.str() != "send_as") {
          fail(key.source(), full, "unknown key");
        }
        auto extra = parse_extra(value, full);
        auto& list = policy.extra[normalize_local(user_key.str())];
        list.insert(list.end(), extra.begin(), extra.end());
      }
    }
  }

  SenderPolicy parse(std::string_view text) const {
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      throw DomainsError(file_ + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
    }
    SenderPolicy policy;
    for (const auto& [key, value] : root) {
      if (key.str() == "send_as") {
        policy.send_as = parse_send_as(value);
      } else if (key.str() == "users") {
        parse_users(value, policy);
      } else {
        fail(key.source(), key.str(), "unknown key");
      }
    }
    return policy;
  }

 private:
  std::string file_;
};

}  // namespace

SenderPolicy SenderPolicy::parse(std::string_view text, std::string_view file_name) {
  return Parser(file_name).parse(text);
}

SenderPolicy SenderPolicy::load(const std::filesystem::path& file) {
  std::string text;
  if (std::error_code ec = base::read_file(file, text)) {
    throw DomainsError(file.string() + ": " + ec.message());
  }
  return parse(text, file.string());
}

}  // namespace hk::domains
