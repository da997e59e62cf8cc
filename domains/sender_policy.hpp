// SenderPolicy: a domain's optional domain.toml, which says which sender addresses the domain's
// authenticated users may use (MAIL FROM and From:) beyond their own.
//
//   send_as = "own"          # default: own address, its +suffix forms, aliases resolving to them
//   # send_as = "domain"     # any address of this domain
//   # send_as = "any"        # any address at all (a trusted relay user)
//   [users.alice]
//   send_as = ["sales@example.com", "@example.org"]   # extra addresses; "@dom" = all of dom
//
// Unknown keys are errors, so that a typo does not silently grant nothing. Errors read
// "file:line: key: message". How the policy is applied is Domains::may_send_as().
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hk::domains {

enum class SendAs { Own, Domain, Any };

struct SenderPolicy {
  SendAs send_as = SendAs::Own;
  // Normalized user name -> extra senders: "local@domain" (domain lower-cased, local as written)
  // or "@domain".
  std::map<std::string, std::vector<std::string>, std::less<>> extra;

  // Throws DomainsError.
  static SenderPolicy load(const std::filesystem::path& file);
  // As load(), from text; `file_name` only prefixes error messages.
  static SenderPolicy parse(std::string_view text, std::string_view file_name);
};

}  // namespace hk::domains
