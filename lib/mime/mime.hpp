// A MIME reader for looking at mail (RFC 5322 headers, RFC 2045-2049 bodies, RFC 2047 encoded
// words, RFC 2231 parameters): what the console and the /api/v1 need to show a captured message —
// its headers decoded to UTF-8, its text and HTML, its attachments and inline parts. It reads; it
// never changes a message (what is delivered or released is always the raw bytes).
//
// SECURITY: the input is anybody's mail. Nothing here may throw on bad input, recurse without a
// bound, or grow memory beyond a small multiple of the input: malformed parts are kept as
// best-effort text and noted in Message::problems. Decoded values are text for the caller to
// escape; nothing here is safe to paste into HTML as it is.
//
// OWNER: the lib/mime engineer. Others code against this header and must not change it; the
// owner may add to it (keep what is here, with these meanings).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::mime {

// One mailbox of an address header: display name (decoded, UTF-8) and addr-spec.
struct Address {
  std::string name;     // "" when none
  std::string address;  // "local@domain"; may be "" for a group or an unparsable entry
  bool operator==(const Address&) const = default;
};

struct Header {
  std::string name;   // as written ("Subject")
  std::string value;  // unfolded, encoded words decoded to UTF-8, outer whitespace trimmed
  std::string raw;    // unfolded, as written (encoded words kept); outer whitespace trimmed;
                      // the input's bytes, so not necessarily UTF-8 (every other string this
                      // library returns, but Part::data, is valid UTF-8)
};

// A leaf part that is not the message's chosen text or HTML body: an attachment or an inline
// part (an image the HTML refers to by cid:).
//
// Part IDs number the MIME tree as IMAP's body sections do (RFC 3501 §6.4.5): the children of a
// multipart are 1, 2, 3, ...; the children of a multipart that is child 2 are 2.1, 2.2, ...; a
// message that is not multipart has one part, "1". The top-level multipart itself has no number,
// and a message/rfc822 part is a leaf (its own parts are not numbered). Every leaf has its number
// whether it became the text or HTML body, an attachment or an inline part, so the numbers of a
// message never depend on what is shown.
struct Part {
  std::string part_id;              // its place in the tree, "1", "2.1", ... (stable for a message)
  std::string content_type;         // lower case, "image/png"
  std::string filename;             // RFC 2231 / RFC 2047 decoded; "" when none
  std::string content_id;           // without the angle brackets; "" when none
  bool inline_disposition = false;  // Content-Disposition: inline (or none, with a Content-ID)
  std::string data;                 // the decoded bytes (base64 / quoted-printable undone)
};

// The text and HTML bodies are the first text/plain and the first text/html leaf that are not
// attachments (no "Content-Disposition: attachment", no filename), wherever they are in the
// tree; a later such leaf outside a multipart/alternative (a mailing list's footer, Apple Mail's
// text between inline images) is appended, a later one in a multipart/alternative is kept as a
// part (another alternative). Every other leaf is a Part: in `inlines` when inline_disposition,
// else in `attachments`, both in the order of the message. message/rfc822 parts are attachments
// (parse() their data to read them).
struct Message {
  std::vector<Header> headers;  // the top-level header section, in order
  std::string text;             // the text/plain body, UTF-8 (charset converted); "" when none
  std::string html;             // the text/html body, UTF-8; "" when none
  std::vector<Part> attachments;
  std::vector<Part> inlines;
  std::vector<std::string> problems;  // what was malformed and how it was read anyway

  // The first header of that name (case-insensitive), decoded; nothing when absent.
  std::optional<std::string> header(std::string_view name) const;
};

struct Limits {
  size_t max_depth = 20;    // nested multiparts deeper than this are kept as opaque parts
  size_t max_parts = 1000;  // leaf parts beyond this are ignored (and noted in problems)
};

// Parses a whole message (CRLF or LF line ends).
Message parse(std::string_view raw, const Limits& limits = {});

// Only the header section (up to the first empty line): what an index needs, without the body.
std::vector<Header> parse_headers(std::string_view raw);

// RFC 2047 encoded words in a header value, decoded to UTF-8 (unknown charsets: as Latin-1 with
// the bytes kept readable; bad encodings: left as written).
std::string decode_words(std::string_view value);

// An address-list header value (From, To, Cc, Reply-To), raw as written: groups flattened,
// comments dropped, display names decoded. Read leniently, as mail readers do: encoded words
// are decoded inside quoted names too, obsolete routes and spaces in addresses are dropped, the
// comment of "user@example.com (Name)" is the name when there is no other, and a name without
// an address gives an entry with address "".
std::vector<Address> parse_address_list(std::string_view raw_value);

// The first `max_chars` characters of readable text for a list view: the text body, or the HTML
// body's text when there is no text part; whitespace collapsed, cut at a UTF-8 boundary.
std::string snippet(const Message& m, size_t max_chars = 250);

// ---- Additions (lib/mime owner) ----

// `bytes` in `charset` (a MIME charset label, any case) as UTF-8. Labels are read as mail means
// them: iso-8859-1 and us-ascii as windows-1252, gb2312/gbk as GB18030, shift_jis as CP932,
// iso-2022-jp with the JIS X 0213 additions; other labels go to iconv. Text in an unknown charset
// (or none) is kept when it is valid UTF-8 and read as Latin-1 otherwise. Bytes the charset does
// not define become U+FFFD. The result is always valid UTF-8.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// The readable text of an HTML document: tags dropped, the content of script, style, head,
// title, noscript and template dropped, comments dropped, common entities and every numeric
// reference decoded, a line break for block elements. Valid UTF-8; whitespace not collapsed.
std::string html_to_text(std::string_view html);

// One result of an Authentication-Results field (RFC 8601 §2.2), for a badge: "dkim" "pass"
// "header.d=example.com".
struct AuthBadge {
  std::string method;  // lower case, without a version: dkim, spf, dmarc, arc, auth, iprev, ...
  std::string result;  // lower case: pass, fail, softfail, neutral, none, temperror, ...
  std::string detail;  // the properties ("header.d=example.com header.s=sel"), then any
                       // reason="..."; comments dropped; "" when none
  bool operator==(const AuthBadge&) const = default;
};

// The results of every Authentication-Results field among `headers` (in order), only of fields
// whose authserv-id equals `authserv_id` (ASCII case-insensitive) when that is not empty: a
// receiver trusts only the fields its own border added (§5). Fields that do not parse and
// "none" results give nothing.
std::vector<AuthBadge> auth_badges(const std::vector<Header>& headers,
                                   std::string_view authserv_id);

}  // namespace hk::mime
