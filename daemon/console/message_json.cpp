// Mailpit's JSON shapes, written field by field.
#include "daemon/console/message_json.hpp"

#include <openssl/evp.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>

#include "lib/base/ascii.hpp"
#include "lib/base/date.hpp"
#include "lib/base/json.hpp"
#include "lib/base/text.hpp"

namespace hk::console {
namespace {

using base::append_json_string;

// Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse; valid for
// every year we can meet).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? static_cast<unsigned>(-3) : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

struct Civil {
  int64_t year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int64_t offset_minutes = 0;  // east of UTC
};

std::optional<queue::TimePoint> to_time_point(const Civil& c) {
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > days_in_month(c.year, c.month) ||
      c.hour > 23 || c.minute > 59 || c.second > 60) {
    return std::nullopt;
  }
  // A leap second (RFC 3339 §5.7) is read as the last second of its minute.
  unsigned second = c.second == 60 ? 59 : c.second;
  int64_t secs = days_from_civil(c.year, c.month, c.day) * 86400 +
                 static_cast<int64_t>(c.hour) * 3600 + static_cast<int64_t>(c.minute) * 60 +
                 second - c.offset_minutes * 60;
  auto d = std::chrono::seconds(secs) + std::chrono::nanoseconds(c.nanos);
  return queue::TimePoint(std::chrono::duration_cast<queue::TimePoint::duration>(d));
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t& pos, size_t n, unsigned& out) {
  if (s.size() - pos < n) {
    return false;
  }
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!base::is_digit(s[pos + i])) {
      return false;
    }
    out = out * 10 + static_cast<unsigned>(s[pos + i] - '0');
  }
  pos += n;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && base::to_lower(s[pos]) == base::to_lower(c)) {
    ++pos;
    return true;
  }
  return false;
}

// RFC 5322 §3.2.2: comments in parentheses (nested, with quoted-pairs) are read as whitespace;
// quoted strings are kept as they are.
std::string strip_comments(std::string_view s) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (quoted || depth > 0)) {
      if (depth == 0) {
        out += c;
        out += s[i + 1];
      }
      ++i;
      continue;
    }
    if (depth == 0 && c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == '(') {
      ++depth;
      out += ' ';
      continue;
    } else if (!quoted && c == ')' && depth > 0) {
      --depth;
      continue;
    }
    if (depth == 0) {
      out += c;
    }
  }
  return out;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
      ++i;
    }
    if (i > start) {
      out.push_back(s.substr(start, i - start));
    }
  }
  return out;
}

bool parse_uint(std::string_view s, unsigned& out) {
  if (s.empty() || s.size() > 9) {
    return false;
  }
  out = 0;
  for (char c : s) {
    if (!base::is_digit(c)) {
      return false;
    }
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

// RFC 5322 §3.3 zone, and §4.3's obsolete names (military letters other than Z: "-0000").
bool parse_zone(std::string_view z, int64_t& minutes) {
  if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
    unsigned hh = 0, mm = 0;
    if (!parse_uint(z.substr(1, 2), hh) || !parse_uint(z.substr(3, 2), mm) || mm > 59) {
      return false;
    }
    minutes = static_cast<int64_t>(hh * 60 + mm) * (z[0] == '-' ? -1 : 1);
    return true;
  }
  static const std::map<std::string, int64_t> kNames = {
      {"ut", 0},        {"gmt", 0},       {"utc", 0},       {"z", 0},
      {"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
      {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60},
  };
  auto it = kNames.find(base::to_lower(z));
  if (it != kNames.end()) {
    minutes = it->second;
    return true;
  }
  if (z.size() == 1 && base::is_alpha(z[0])) {
    minutes = 0;
    return true;
  }
  return false;
}

void append_size(std::string& out, size_t n) { out += std::to_string(n); }

void append_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out += ':';
}

// The hex digest of `data`, as Mailpit's Attachment.Checksums gives it.
std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

void append_parts(std::string& out, const std::vector<mime::Part>& parts) {
  out += '[';
  bool first = true;
  for (const mime::Part& p : parts) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += '{';
    append_key(out, "PartID");
    append_json_string(out, p.part_id);
    out += ',';
    append_key(out, "FileName");
    append_json_string(out, p.filename);
    out += ',';
    append_key(out, "ContentType");
    append_json_string(out, p.content_type);
    out += ',';
    append_key(out, "ContentID");
    append_json_string(out, p.content_id);
    out += ',';
    append_key(out, "Size");
    append_size(out, p.data.size());
    out += ',';
    append_key(out, "Checksums");
    out += '{';
    append_key(out, "MD5");
    append_json_string(out, hex_digest(EVP_md5(), p.data));
    out += ',';
    append_key(out, "SHA1");
    append_json_string(out, hex_digest(EVP_sha1(), p.data));
    out += ',';
    append_key(out, "SHA256");
    append_json_string(out, hex_digest(EVP_sha256(), p.data));
    out += "}}";
  }
  out += ']';
}

// RFC 2369 §3.1 (List-Unsubscribe): a list of <URL>s, comma-separated, comments allowed.
std::vector<std::string> list_unsubscribe_links(std::string_view value) {
  std::vector<std::string> links;
  std::string s = strip_comments(value);
  size_t pos = 0;
  while ((pos = s.find('<', pos)) != std::string::npos) {
    size_t end = s.find('>', pos);
    if (end == std::string::npos) {
      break;
    }
    std::string link;
    for (char c : std::string_view(s).substr(pos + 1, end - pos - 1)) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        link += c;
      }
    }
    links.push_back(std::move(link));
    pos = end + 1;
  }
  return links;
}

// From, To, Cc, Bcc and ReplyTo with a comma after each: the list's and the message's shapes
// share them.
void append_people(std::string& out, const capture::Summary& s) {
  append_key(out, "From");
  append_address(out, s.from);
  out += ',';
  append_key(out, "To");
  append_addresses(out, s.to);
  out += ',';
  append_key(out, "Cc");
  append_addresses(out, s.cc);
  out += ',';
  append_key(out, "Bcc");
  append_addresses(out, s.bcc);
  out += ',';
  append_key(out, "ReplyTo");
  append_addresses(out, s.reply_to);
  out += ',';
}

}  // namespace

std::string rfc3339_millis(queue::TimePoint t) {
  return base::rfc3339_utc(t, base::DateFraction::Millis);
}

std::optional<queue::TimePoint> parse_rfc3339(std::string_view s) {
  // date-fullyear "-" date-month "-" date-mday "T" time-hour ":" time-minute ":" time-second
  // [time-secfrac] time-offset (RFC 3339 §5.6)
  Civil c;
  size_t pos = 0;
  unsigned year = 0;
  if (!digits(s, pos, 4, year) || !expect(s, pos, '-') || !digits(s, pos, 2, c.month) ||
      !expect(s, pos, '-') || !digits(s, pos, 2, c.day) || !expect(s, pos, 'T') ||
      !digits(s, pos, 2, c.hour) || !expect(s, pos, ':') || !digits(s, pos, 2, c.minute) ||
      !expect(s, pos, ':') || !digits(s, pos, 2, c.second)) {
    return std::nullopt;
  }
  c.year = year;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    int64_t scale = 100000000;
    while (pos < s.size() && base::is_digit(s[pos])) {
      c.nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0) {
      return std::nullopt;
    }
  }
  if (expect(s, pos, 'Z')) {
    c.offset_minutes = 0;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    bool minus = s[pos] == '-';
    ++pos;
    unsigned hh = 0, mm = 0;
    if (!digits(s, pos, 2, hh) || !expect(s, pos, ':') || !digits(s, pos, 2, mm) || hh > 23 ||
        mm > 59) {
      return std::nullopt;
    }
    c.offset_minutes = static_cast<int64_t>(hh * 60 + mm) * (minus ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) {
    return std::nullopt;
  }
  return to_time_point(c);
}

std::optional<queue::TimePoint> parse_rfc5322_date(std::string_view text) {
  std::string clean = strip_comments(text);
  for (char& ch : clean) {
    if (ch == ',') {
      ch = ' ';
    }
  }
  std::vector<std::string_view> t = split_ws(clean);
  size_t i = 0;
  if (i < t.size() && !t[i].empty() && base::is_alpha(t[i][0])) {
    ++i;  // the day name; its consistency with the date is not checked (RFC 5322 §3.3)
  }
  if (t.size() - i < 5) {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  Civil c;
  unsigned year = 0;
  if (!parse_uint(t[i], c.day)) {
    return std::nullopt;
  }
  std::string month = base::to_lower(t[i + 1]);
  auto m = std::find(kMonths.begin(), kMonths.end(), std::string_view(month).substr(0, 3));
  if (m == kMonths.end() || month.size() < 3) {
    return std::nullopt;
  }
  c.month = static_cast<unsigned>(m - kMonths.begin()) + 1;
  if (!parse_uint(t[i + 2], year)) {
    return std::nullopt;
  }
  // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 and three digits add 1900.
  if (t[i + 2].size() == 2) {
    year += year < 50 ? 2000 : 1900;
  } else if (t[i + 2].size() == 3) {
    year += 1900;
  }
  c.year = year;
  std::string_view tod = t[i + 3];
  size_t pos = 0;
  if (!digits(tod, pos, 2, c.hour) || !expect(tod, pos, ':') || !digits(tod, pos, 2, c.minute)) {
    return std::nullopt;
  }
  if (pos < tod.size()) {
    if (!expect(tod, pos, ':') || !digits(tod, pos, 2, c.second) || pos != tod.size()) {
      return std::nullopt;
    }
  }
  if (!parse_zone(t[i + 4], c.offset_minutes)) {
    return std::nullopt;
  }
  return to_time_point(c);
}

void append_address(std::string& out, const mime::Address& a) {
  out += '{';
  append_key(out, "Name");
  append_json_string(out, a.name);
  out += ',';
  append_key(out, "Address");
  append_json_string(out, a.address);
  out += '}';
}

void append_addresses(std::string& out, const std::vector<mime::Address>& list) {
  out += '[';
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    append_address(out, list[i]);
  }
  out += ']';
}

std::string summary_json(const capture::Summary& s) {
  std::string out = "{";
  append_key(out, "ID");
  append_json_string(out, s.id);
  out += ',';
  append_key(out, "MessageID");
  append_json_string(out, s.message_id);
  out += ',';
  append_key(out, "Read");
  out += s.read ? "true" : "false";
  out += ',';
  append_people(out, s);
  append_key(out, "Subject");
  append_json_string(out, s.subject);
  out += ',';
  append_key(out, "Created");
  append_json_string(out, rfc3339_millis(s.created));
  out += ',';
  append_key(out, "Username");
  out += "\"\",";
  append_key(out, "Tags");
  out += "[],";
  append_key(out, "Size");
  append_size(out, s.size);
  out += ',';
  append_key(out, "Attachments");
  append_size(out, s.attachments);
  out += ',';
  append_key(out, "Snippet");
  append_json_string(out, s.snippet);
  out += '}';
  return out;
}

std::string list_json(const ListPage& page) {
  std::string out = "{";
  append_key(out, "total");
  append_size(out, page.total);
  out += ',';
  append_key(out, "unread");
  append_size(out, page.unread);
  out += ',';
  // "count" is what Mailpit's older releases called the number of messages in this answer;
  // "messages_count" is today's total of matches. Both are here so clients of either work.
  append_key(out, "count");
  append_size(out, page.messages.size());
  out += ',';
  append_key(out, "messages_count");
  append_size(out, page.messages_count);
  out += ',';
  append_key(out, "messages_unread");
  append_size(out, page.messages_unread);
  out += ',';
  append_key(out, "start");
  append_size(out, page.start);
  out += ',';
  append_key(out, "tags");
  out += "[],";
  append_key(out, "messages");
  out += '[';
  for (size_t i = 0; i < page.messages.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += summary_json(*page.messages[i]);
  }
  out += "]}";
  return out;
}

std::string message_json(const capture::Summary& s, const mime::Message& m,
                         const std::vector<mime::AuthBadge>& auth) {
  std::string out = "{";
  append_key(out, "ID");
  append_json_string(out, s.id);
  out += ',';
  append_key(out, "MessageID");
  append_json_string(out, s.message_id);
  out += ',';
  append_people(out, s);
  append_key(out, "ReturnPath");
  append_json_string(out, s.envelope_from);
  out += ',';
  append_key(out, "Subject");
  append_json_string(out, s.subject);
  out += ',';
  append_key(out, "ListUnsubscribe");
  {
    std::string header, post;
    for (const mime::Header& h : m.headers) {
      if (header.empty() && base::iequals(h.name, "List-Unsubscribe")) {
        header = h.raw;
      } else if (post.empty() && base::iequals(h.name, "List-Unsubscribe-Post")) {
        post = h.raw;
      }
    }
    out += '{';
    append_key(out, "Header");
    append_json_string(out, base::trim(header));
    out += ',';
    append_key(out, "Links");
    out += '[';
    bool first = true;
    for (const std::string& link : list_unsubscribe_links(header)) {
      if (!first) {
        out += ',';
      }
      first = false;
      append_json_string(out, link);
    }
    out += "],";
    append_key(out, "Errors");
    out += "\"\",";
    append_key(out, "HeaderPost");
    append_json_string(out, base::trim(post));
    out += "},";
  }
  append_key(out, "Date");
  {
    // Mailpit: the Date header when it can be read, else when the message arrived.
    std::optional<queue::TimePoint> date;
    for (const mime::Header& h : m.headers) {
      if (base::iequals(h.name, "Date")) {
        date = parse_rfc5322_date(h.raw);
        break;
      }
    }
    append_json_string(out, rfc3339_millis(date.value_or(s.created)));
  }
  out += ',';
  append_key(out, "Created");
  append_json_string(out, rfc3339_millis(s.created));
  out += ',';
  append_key(out, "Tags");
  out += "[],";
  append_key(out, "Username");
  out += "\"\",";
  append_key(out, "Text");
  append_json_string(out, m.text);
  out += ',';
  append_key(out, "HTML");
  append_json_string(out, m.html);
  out += ',';
  append_key(out, "Size");
  append_size(out, s.size);
  out += ',';
  append_key(out, "Inline");
  append_parts(out, m.inlines);
  out += ',';
  append_key(out, "Attachments");
  append_parts(out, m.attachments);
  out += ',';
  append_key(out, "Read");
  out += s.read ? "true" : "false";
  out += ',';
  append_key(out, "Authentication");
  out += '[';
  for (size_t i = 0; i < auth.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += '{';
    append_key(out, "Method");
    append_json_string(out, auth[i].method);
    out += ',';
    append_key(out, "Result");
    append_json_string(out, auth[i].result);
    out += ',';
    append_key(out, "Detail");
    append_json_string(out, auth[i].detail);
    out += '}';
  }
  out += "]}";
  return out;
}

std::vector<mime::AuthBadge> our_auth_badges(const mime::Message& m) {
  for (const mime::Header& h : m.headers) {
    if (!base::iequals(h.name, "Received")) {
      continue;
    }
    // RFC 5321 §4.4: "from" domain ... "by" SP Domain; comments are not part of the value.
    std::string value = strip_comments(h.raw);
    std::vector<std::string_view> words = split_ws(value);
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (base::iequals(words[i], "by")) {
        std::string_view host = words[i + 1];
        while (!host.empty() && host.back() == ';') {
          host.remove_suffix(1);
        }
        return host.empty() ? std::vector<mime::AuthBadge>{} : mime::auth_badges(m.headers, host);
      }
    }
    return {};  // the topmost Received names no host: no trusted results
  }
  return {};
}

std::string headers_json(const mime::Message& m) {
  struct Less {
    bool operator()(const std::string& a, const std::string& b) const {
      return base::to_lower(a) < base::to_lower(b);
    }
  };
  std::map<std::string, std::vector<std::string_view>, Less> by_name;
  for (const mime::Header& h : m.headers) {
    by_name[h.name].push_back(h.raw);
  }
  std::string out = "{";
  bool first = true;
  for (const auto& [name, values] : by_name) {
    if (!first) {
      out += ',';
    }
    first = false;
    append_key(out, name);
    out += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      append_json_string(out, base::trim(values[i]));
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string info_json(std::string_view version, size_t messages, size_t unread) {
  std::string out = "{";
  append_key(out, "Version");
  append_json_string(out, version);
  out += ',';
  append_key(out, "LatestVersion");
  out += "\"\",";
  append_key(out, "Database");
  out += "\"\",";
  append_key(out, "DatabaseSize");
  out += "0,";
  append_key(out, "Messages");
  append_size(out, messages);
  out += ',';
  append_key(out, "Unread");
  append_size(out, unread);
  out += ',';
  append_key(out, "Tags");
  out += "{}}";
  return out;
}

}  // namespace hk::console
