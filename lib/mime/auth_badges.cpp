// Authentication-Results fields (RFC 8601 §2.2) read for display: method, result and the
// properties of each resinfo. Lenient about spacing and comments anywhere (§2.2 allows CFWS
// between every token); strict only about whose field it is (§5: trust only your own authserv-id).
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {

namespace {

constexpr size_t kMaxBadges = 100;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The field value split at ';' outside quoted strings (comments are already gone).
std::vector<std::string_view> split_semicolons(std::string_view s) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quoted) {
      if (s[i] == '\\') {
        ++i;
      } else if (s[i] == '"') {
        quoted = false;
      }
    } else if (s[i] == '"') {
      quoted = true;
    } else if (s[i] == ';') {
      out.push_back(s.substr(from, i - from));
      from = i + 1;
    }
  }
  out.push_back(s.substr(std::min(from, s.size())));
  return out;
}

// Whitespace-separated tokens, with "a = b" glued back to "a=b" and quoted strings kept whole.
std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  bool glue = false;  // the next token continues the last one (after an '=')
  while (i < s.size()) {
    if (is_space(s[i])) {
      ++i;
      continue;
    }
    std::string tok;
    bool quoted = false;
    while (i < s.size() && (quoted || !is_space(s[i]))) {
      char c = s[i];
      if (quoted && c == '\\' && i + 1 < s.size()) {
        tok += c;
        tok += s[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') {
        quoted = !quoted;
      }
      tok += c;
      ++i;
    }
    if (glue && !out.empty()) {
      out.back() += tok;
    } else if (tok.starts_with('=') && !out.empty()) {
      out.back() += tok;
    } else {
      out.push_back(std::move(tok));
    }
    glue = out.back().ends_with('=');
  }
  return out;
}

std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') {
    return std::string(v);
  }
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) {
      ++i;
    }
    out += v[i];
  }
  return out;
}

void read_field(std::string_view raw, std::string_view authserv_id, std::vector<AuthBadge>& out) {
  std::string value = detail::strip_comments(raw);
  std::vector<std::string_view> pieces = split_semicolons(value);
  // authserv-id [ CFWS authres-version ]
  std::vector<std::string> head = tokens(pieces[0]);
  if (head.empty()) {
    return;
  }
  std::string id = unquote(head[0]);
  if (!authserv_id.empty() && !base::iequals(id, authserv_id)) {
    return;
  }
  for (size_t k = 1; k < pieces.size() && out.size() < kMaxBadges; ++k) {
    std::vector<std::string> t = tokens(pieces[k]);
    if (t.empty()) {
      continue;
    }
    size_t eq = t[0].find('=');
    if (eq == std::string::npos || eq == 0) {
      continue;  // "none" (§2.2 no-result) or garbage
    }
    AuthBadge b;
    b.method = base::to_lower(std::string_view(t[0]).substr(0, std::min(eq, t[0].find('/'))));
    b.result = base::to_lower(unquote(std::string_view(t[0]).substr(eq + 1)));
    if (b.method.empty() || b.result.empty()) {
      continue;
    }
    std::string reason;
    for (size_t j = 1; j < t.size(); ++j) {
      std::string_view tok = t[j];
      if (base::istarts_with(tok, "reason=")) {
        reason = "reason=\"" + unquote(tok.substr(7)) + "\"";
        continue;
      }
      if (tok.find('=') == std::string_view::npos) {
        continue;  // a stray word
      }
      if (!b.detail.empty()) {
        b.detail += ' ';
      }
      size_t e = tok.find('=');
      b.detail += std::string(tok.substr(0, e + 1)) + unquote(tok.substr(e + 1));
    }
    if (!reason.empty()) {
      b.detail += (b.detail.empty() ? "" : " ") + reason;
    }
    b.detail = detail::fix_utf8(b.detail);
    b.method = detail::fix_utf8(b.method);
    b.result = detail::fix_utf8(b.result);
    out.push_back(std::move(b));
  }
}

}  // namespace

std::vector<AuthBadge> auth_badges(const std::vector<Header>& headers,
                                   std::string_view authserv_id) {
  std::vector<AuthBadge> out;
  for (const Header& h : headers) {
    if (base::iequals(h.name, "Authentication-Results")) {
      read_field(h.raw, authserv_id, out);
    }
  }
  return out;
}

}  // namespace hk::mime
