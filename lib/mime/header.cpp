// The header section (RFC 5322 §2.2: fields, folding) and RFC 2047 encoded words.
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 §3.6.8 field-name: printable US-ASCII but ':'; obs-optional (§4.5) allows WSP before
// the colon, which the caller trimmed.
bool valid_field_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) {
      return false;
    }
  }
  return true;
}

// The line that starts at `pos`: its text without CR LF, and where the next one starts.
struct Line {
  std::string_view text;
  size_t next;
};
Line line_at(std::string_view raw, size_t pos) {
  size_t lf = raw.find('\n', pos);
  size_t end = lf == std::string_view::npos ? raw.size() : lf;
  size_t next = lf == std::string_view::npos ? raw.size() : lf + 1;
  std::string_view text = raw.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  return {text, next};
}

// Encoded-word text bytes waiting to be converted: adjacent words in one charset are converted
// together, so a character split across two words (some mailers cut inside one) comes out whole.
struct Pending {
  std::string charset;
  std::string bytes;
  bool active = false;
};

void flush(Pending& p, std::string& out) {
  if (!p.active) {
    return;
  }
  std::string text = to_utf8(p.bytes, p.charset);
  // A decoded word is text for one line: CR, LF and NUL in it would only confuse what shows it.
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\0') {
      c = ' ';
    }
  }
  out += text;
  p = Pending{};
}

bool base64_text(std::string_view s) {
  for (char c : s) {
    if (!base::is_alnum(c) && c != '+' && c != '/' && c != '=') {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace detail {

std::vector<Header> parse_header_block(std::string_view raw, size_t& body_start, bool& malformed) {
  std::vector<Header> headers;
  malformed = false;
  size_t pos = 0;
  // An mbox "From " separator before the first field is not a field ("From : x" is one, with the
  // obsolete space before the colon).
  if (raw.starts_with("From ") && !base::trim(raw.substr(5)).starts_with(':')) {
    pos = line_at(raw, 0).next;
  }
  std::string current_raw;
  std::string current_name;
  bool have = false;
  auto finish = [&] {
    if (!have) {
      return;
    }
    std::string_view value = base::trim(current_raw, " \t\r\n");
    headers.push_back({std::move(current_name), decode_words(value), std::string(value)});
    current_raw.clear();
    current_name.clear();
    have = false;
  };
  while (pos < raw.size()) {
    Line line = line_at(raw, pos);
    if (line.text.empty()) {
      pos = line.next;  // the empty line that ends the section
      break;
    }
    if (is_wsp(line.text[0])) {
      // RFC 5322 §2.2.3 unfolding: the CRLF goes, the WSP stays. A continuation before any field
      // has nothing to continue and is dropped.
      if (have) {
        current_raw += line.text;
      } else {
        malformed = true;
      }
      pos = line.next;
      continue;
    }
    size_t colon = line.text.find(':');
    std::string_view name = colon == std::string_view::npos
                                ? std::string_view()
                                : base::trim(line.text.substr(0, colon));
    if (!valid_field_name(name)) {
      // Not a field: the body starts here (the empty line was forgotten), as mail readers do.
      malformed = true;
      break;
    }
    finish();
    current_name = std::string(name);
    current_raw = std::string(line.text.substr(colon + 1));
    have = true;
    pos = line.next;
  }
  finish();
  body_start = pos;
  return headers;
}

}  // namespace detail

std::vector<Header> parse_headers(std::string_view raw) {
  size_t body_start = 0;
  bool malformed = false;
  return detail::parse_header_block(raw, body_start, malformed);
}

std::string decode_words(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  Pending pending;
  // Where the last literal text started and whether everything since the previous encoded word
  // was whitespace (RFC 2047 §6.2: such whitespace between two encoded words is dropped).
  size_t literal_from = 0;
  size_t p = 0;
  while ((p = value.find("=?", p)) != std::string_view::npos) {
    // =?charset?E?text?=  (RFC 2047 §2); the charset may carry "*lang" (RFC 2231 §5).
    size_t q1 = value.find('?', p + 2);
    if (q1 == std::string_view::npos || q1 == p + 2 || q1 - p > 64 || q1 + 3 > value.size() ||
        value[q1 + 2] != '?') {
      p += 2;
      continue;
    }
    std::string_view charset = value.substr(p + 2, q1 - p - 2);
    char enc = base::to_upper(value[q1 + 1]);
    size_t text_from = q1 + 3;
    // The encoded text has no '?' and no whitespace (§2), so it ends at the next '?', which must
    // be followed by '='. Every search stops at a '?', so failed candidates cost no rescans.
    size_t end = value.find('?', text_from);
    if ((enc != 'B' && enc != 'Q') || end == std::string_view::npos || end + 1 >= value.size() ||
        value[end + 1] != '=' || charset.find_first_of(" \t\r\n") != std::string_view::npos ||
        value.substr(text_from, end - text_from).find_first_of(" \t\r\n") !=
            std::string_view::npos) {
      p += 2;
      continue;
    }
    std::string_view text = value.substr(text_from, end - text_from);
    if (enc == 'B' && !base64_text(text)) {
      p += 2;
      continue;
    }
    std::string_view gap = value.substr(literal_from, p - literal_from);
    bool only_space = base::trim(gap, " \t\r\n").empty();
    if (!(pending.active && only_space)) {
      flush(pending, out);
      out += detail::fix_utf8(gap);
    }
    std::string bytes = enc == 'B' ? detail::decode_base64(text) : detail::decode_q(text);
    std::string cs = base::to_lower(charset);
    if (pending.active && pending.charset != cs) {
      flush(pending, out);
    }
    pending.active = true;
    pending.charset = cs;
    pending.bytes += bytes;
    p = end + 2;
    literal_from = p;
  }
  flush(pending, out);
  out += detail::fix_utf8(value.substr(literal_from));
  return std::string(base::trim(out, " \t\r\n"));
}

std::optional<std::string> Message::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (base::iequals(h.name, name)) {
      return h.value;
    }
  }
  return std::nullopt;
}

}  // namespace hk::mime
