// The message views' headers and the cid: rewriting.
#include "daemon/console/view_html.hpp"

#include "lib/base/ascii.hpp"

namespace hk::console {
namespace {

// RFC 2392 §2: the cid URL is the Content-ID's addr-spec, %hh-encoded where needed.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = base::hex_value(s[i + 1]);
      int lo = base::hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Where a URL written in an attribute or in CSS ends.
bool ends_url(char c) {
  return c == '"' || c == '\'' || c == ')' || c == '>' || c == '<' || c == ' ' || c == '\t' ||
         c == '\r' || c == '\n' || c == '\f';
}

// RFC 6838 §4.2 restricted-name characters.
bool is_type_char(char c) {
  return base::is_alnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '-' ||
         c == '^' || c == '_' || c == '.' || c == '+';
}

bool is_restricted_name(std::string_view s) {
  if (s.empty() || s.size() > 127 || !base::is_alnum(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!is_type_char(c)) {
      return false;
    }
  }
  return true;
}

// RFC 8187 §3.2.1 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~"
bool is_attr_char(char c) {
  return base::is_alnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '+' ||
         c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}

}  // namespace

std::string view_csp(bool remote_images) {
  std::string csp =
      "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
      "script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; font-src data:; "
      "img-src 'self' data:";
  if (remote_images) {
    csp += " http: https:";
  }
  csp += "; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";
  return csp;
}

std::string rewrite_cid(std::string_view html, const std::vector<const mime::Part*>& parts,
                        std::string_view part_url_prefix) {
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  while (i < html.size()) {
    size_t at = i;
    // Find the next "cid:" in any case.
    for (; at + 4 <= html.size(); ++at) {
      if (base::istarts_with(html.substr(at), "cid:")) {
        break;
      }
    }
    if (at + 4 > html.size()) {
      out.append(html.substr(i));
      break;
    }
    out.append(html.substr(i, at - i));
    size_t end = at + 4;
    while (end < html.size() && !ends_url(html[end])) {
      ++end;
    }
    std::string id = percent_decode(html.substr(at + 4, end - at - 4));
    const mime::Part* found = nullptr;
    for (const mime::Part* p : parts) {
      // Content-IDs are msg-ids (RFC 2045 §7); compared exactly, as RFC 2392 says.
      if (!p->content_id.empty() && p->content_id == id) {
        found = p;
        break;
      }
    }
    if (found != nullptr) {
      out.append(part_url_prefix);
      out.append(found->part_id);
    } else {
      out.append(html.substr(at, end - at));
    }
    i = end;
  }
  return out;
}

std::string content_disposition(std::string_view filename) {
  if (filename.empty()) {
    return "attachment";
  }
  std::string ascii;
  bool plain = true;
  for (char c : filename) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '/' || c == '%') {
      plain = false;
      // A stand-in for what a quoted-string cannot carry: one '_' per character, not per byte.
      if (u < 0x80 || u >= 0xC0) {
        ascii += '_';
      }
    } else {
      ascii += c;
    }
  }
  std::string out = "attachment; filename=\"" + ascii + "\"";
  if (!plain) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    out += "; filename*=UTF-8''";
    for (char c : filename) {
      if (is_attr_char(c)) {
        out += c;
      } else {
        auto u = static_cast<unsigned char>(c);
        out += '%';
        out += kHex[u >> 4];
        out += kHex[u & 0xF];
      }
    }
  }
  return out;
}

std::string safe_content_type(std::string_view type) {
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_restricted_name(type.substr(0, slash)) ||
      !is_restricted_name(type.substr(slash + 1))) {
    return "application/octet-stream";
  }
  return base::to_lower(type);
}

}  // namespace hk::console
