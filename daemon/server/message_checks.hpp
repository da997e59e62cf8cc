// Checks and fix-ups on a message's header section: the addresses in From: (an authenticated user
// may only write their own), the Date/Message-ID a submission server adds, and forged
// Authentication-Results fields in mail from outside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hk::server {

// The header section: everything before the first empty line (RFC 5322 §2.1).
std::string_view header_section(std::string_view message);

// Addresses (local@domain, domain lower-cased) in every From: header of the message. Handles
// folding, comments, display names, quoted strings and groups well enough for authorization:
// anything that looks like an address is returned, so a trick cannot hide one.
std::vector<std::string> header_from_addresses(std::string_view message);

// The same, field by field: one entry per From: field of the message (DMARC, RFC 7489 §6.6.1,
// tells "several From: fields" from "several addresses in one").
std::vector<std::vector<std::string>> header_from_fields(std::string_view message);

// Where the Authentication-Results fields (RFC 8601) of the header section `headers` start that
// carry `authserv_id` (ours): from outside our trust boundary they are forged, and §5 asks that
// they be removed or renamed before the message is stored. Offsets of the field names, in order.
std::vector<size_t> forged_auth_results(std::string_view headers, std::string_view authserv_id);

// The name a forged Authentication-Results field gets instead (RFC 8601 §5 "rename"): as long
// as the original, so that it is replaced in place and no other offset moves.
inline constexpr std::string_view kRenamedAuthResults = "X-Invalid-Auth-Results";

// "Date: …\r\n" and/or "Message-ID: <id@host>\r\n" when the message lacks them (RFC 6409 §8).
std::string missing_submission_headers(std::string_view message, const std::string& id,
                                       const std::string& hostname, const std::string& date);

}  // namespace hk::server
