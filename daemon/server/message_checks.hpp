// Checks and fix-ups on a submitted message's header section: the addresses in From: (an
// authenticated user may only write their own) and the Date/Message-ID a submission server adds.
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

// "Date: …\r\n" and/or "Message-ID: <id@host>\r\n" when the message lacks them (RFC 6409 §8).
std::string missing_submission_headers(std::string_view message, const std::string& id,
                                       const std::string& hostname, const std::string& date);

}  // namespace hk::server
