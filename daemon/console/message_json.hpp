// Mailpit's JSON shapes (its public /api/v1 documentation; docs/api.md lists every field we
// write) made from the capture store's summaries and the MIME reader's messages: pure functions,
// text in and JSON text out, so that the shapes are unit-tested without a server.
//
// Every string goes through base::append_json_string, so any header value or body — anybody's
// mail — comes out as valid JSON (invalid UTF-8 as U+FFFD).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/capture/capture_store.hpp"
#include "lib/mime/mime.hpp"

namespace hk::console {

// RFC 3339 §5.6 in UTC with milliseconds, as Mailpit writes Created: "2026-12-07T05:01:52.123Z".
std::string rfc3339_millis(queue::TimePoint t);
// Parses an RFC 3339 date-time ("2026-12-07T05:01:52Z", "...52.5+09:00"; 't'/'z' too).
std::optional<queue::TimePoint> parse_rfc3339(std::string_view text);
// Parses an RFC 5322 §3.3 date-time (the Date header), with the obsolete forms of §4.3 that
// mail still carries: optional day name and seconds, two-digit years, zone names (UT, GMT, EST
// ...); nothing when it cannot be read.
std::optional<queue::TimePoint> parse_rfc5322_date(std::string_view text);

// {"Name": "...", "Address": "..."}
void append_address(std::string& out, const mime::Address& a);
// [{...}, ...]
void append_addresses(std::string& out, const std::vector<mime::Address>& list);

// One element of messages[] (Mailpit's MessageSummary): ID, MessageID, Read, From, To, Cc, Bcc,
// ReplyTo, Subject, Created, Username, Tags, Size, Attachments, Snippet. Also what the wait call
// answers and the data of a live event.
std::string summary_json(const capture::Summary& s);

// The list and search answer (Mailpit's MessagesSummary).
struct ListPage {
  size_t total = 0;            // messages in the store
  size_t unread = 0;           // unread messages in the store
  size_t messages_count = 0;   // messages matching (the search), = total for the list
  size_t messages_unread = 0;  // unread messages matching
  size_t start = 0;
  std::vector<capture::SummaryPtr> messages;
};
std::string list_json(const ListPage& page);

// GET /api/v1/message/{ID} (Mailpit's Message): ID, MessageID, From, To, Cc, Bcc, ReplyTo,
// ReturnPath, Subject, ListUnsubscribe, Date, Tags, Username, Text, HTML, Size, Inline[],
// Attachments[]; plus hikyaku's Read and Authentication[] (the badges).
std::string message_json(const capture::Summary& s, const mime::Message& m,
                         const std::vector<mime::AuthBadge>& auth);

// The badges of the Authentication-Results fields our own daemon added (RFC 8601 §5: only the
// fields of our own border are to be trusted). Our authserv-id is our hostname, which the
// topmost Received field names after "by" (the daemon adds it on top of everything the sender
// wrote); nothing when there is no such field.
std::vector<mime::AuthBadge> our_auth_badges(const mime::Message& m);

// GET /api/v1/message/{ID}/headers: {"Name": ["value", ...], ...}, names in alphabetical order
// (case-insensitive, the first spelling seen), values as written (unfolded) in message order.
std::string headers_json(const mime::Message& m);

// GET /api/v1/info (Mailpit's AppInformation, the fields that mean something here).
std::string info_json(std::string_view version, size_t messages, size_t unread);

}  // namespace hk::console
