// HTML to readable text, for snippets and for a text view of mail that has only HTML: tags
// dropped, the content of script, style, head and title dropped, common entities decoded.
// Not an HTML parser: it never builds a tree, and each byte is looked at a bounded number of
// times, whatever the markup.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/base/utf8.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {

namespace {

// The named references mail actually uses (HTML Living Standard §13.5 has 2,231).
constexpr std::array<std::pair<std::string_view, unsigned long>, 40> kEntities = {{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},    {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122}, {"mdash", 0x2014},
    {"ndash", 0x2013}, {"hellip", 0x2026}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"laquo", 0xAB},    {"raquo", 0xBB},   {"bull", 0x2022},  {"middot", 0xB7},
    {"euro", 0x20AC},  {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},    {"sect", 0xA7},
    {"deg", 0xB0},     {"times", 0xD7},    {"divide", 0xF7},  {"shy", 0xAD},     {"zwnj", 0x200C},
    {"zwj", 0x200D},   {"thinsp", 0x2009}, {"ensp", 0x2002},  {"emsp", 0x2003},  {"eacute", 0xE9},
    {"egrave", 0xE8},  {"agrave", 0xE0},   {"uuml", 0xFC},    {"ouml", 0xF6},    {"auml", 0xE4},
}};

// Decodes the reference at s[i] == '&'; returns the characters consumed, 0 when it is none.
size_t decode_entity(std::string_view s, size_t i, std::string& out) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    bool hex = j + 1 < s.size() && (s[j + 1] == 'x' || s[j + 1] == 'X');
    size_t k = j + (hex ? 2 : 1);
    unsigned long cp = 0;
    size_t digits = 0;
    for (; k < s.size(); ++k, ++digits) {
      char c = s[k];
      unsigned long d;
      if (base::is_digit(c)) {
        d = static_cast<unsigned long>(c - '0');
      } else if (hex && base::to_lower(c) >= 'a' && base::to_lower(c) <= 'f') {
        d = static_cast<unsigned long>(base::to_lower(c) - 'a' + 10);
      } else {
        break;
      }
      cp = std::min(cp * (hex ? 16 : 10) + d, 0x110000UL);  // past U+10FFFF: U+FFFD
    }
    if (digits == 0) {
      return 0;
    }
    if (k < s.size() && s[k] == ';') {
      ++k;
    }
    detail::append_utf8(out, cp == 0 ? 0xFFFD : cp);
    return k - i;
  }
  size_t k = j;
  while (k < s.size() && k - j < 8 && base::is_alnum(s[k])) {
    ++k;
  }
  std::string_view name = s.substr(j, k - j);
  for (const auto& [n, cp] : kEntities) {
    if (n == name) {
      if (k < s.size() && s[k] == ';') {
        ++k;
      }
      detail::append_utf8(out, cp);
      return k - i;
    }
  }
  return 0;
}

bool block_tag(std::string_view name) {
  for (std::string_view b :
       {"br",  "p",       "div",     "tr",     "li",     "h1",     "h2",         "h3",
        "h4",  "h5",      "h6",      "table",  "ul",     "ol",     "blockquote", "hr",
        "pre", "section", "article", "header", "footer", "center", "dd",         "dt"}) {
    if (base::iequals(name, b)) {
      return true;
    }
  }
  return false;
}

// Where the tag that starts at s[i] == '<' ends (after its '>'), quotes in attributes honoured.
size_t tag_end(std::string_view s, size_t i) {
  char quote = 0;
  for (size_t k = i + 1; k < s.size(); ++k) {
    char c = s[k];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      // Only an attribute value's quote (after '='): a stray apostrophe elsewhere must not
      // swallow the rest of the document.
      size_t b = k;
      while (b > i && (s[b - 1] == ' ' || s[b - 1] == '\t')) {
        --b;
      }
      if (b > i && s[b - 1] == '=') {
        quote = c;
      }
    } else if (c == '>') {
      return k + 1;
    }
  }
  return s.size();
}

}  // namespace

std::string html_to_text(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 2);
  // Elements whose content is not text. A missing end tag is remembered, so that a thousand
  // unclosed <script>s cost one search each, not one search of the rest each.
  constexpr std::array<std::string_view, 6> kSkip = {"script", "style",    "head",
                                                     "title",  "noscript", "template"};
  std::array<bool, kSkip.size()> no_end_tag{};
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '&') {
      size_t n = decode_entity(s, i, out);
      if (n > 0) {
        i += n;
        continue;
      }
      out += c;
      ++i;
      continue;
    }
    if (c != '<' || i + 1 >= s.size()) {
      out += c;
      ++i;
      continue;
    }
    if (s.substr(i, 4) == "<!--") {
      size_t end = s.find("-->", i + 4);
      i = end == std::string_view::npos ? s.size() : end + 3;
      continue;
    }
    char n1 = s[i + 1];
    if (!base::is_alpha(n1) && n1 != '/' && n1 != '!' && n1 != '?') {
      out += c;  // "a < b" is text
      ++i;
      continue;
    }
    size_t name_from = i + (n1 == '/' ? 2 : 1);
    size_t name_to = name_from;
    while (name_to < s.size() && (base::is_alnum(s[name_to]) || s[name_to] == '-')) {
      ++name_to;
    }
    std::string_view name = s.substr(name_from, name_to - name_from);
    size_t after = tag_end(s, i);
    if (block_tag(name)) {
      out += '\n';
    } else if (base::iequals(name, "td") || base::iequals(name, "th")) {
      out += ' ';
    }
    i = after;
    if (n1 == '/') {
      continue;
    }
    for (size_t k = 0; k < kSkip.size(); ++k) {
      if (!base::iequals(name, kSkip[k]) || no_end_tag[k]) {
        continue;
      }
      // Find "</name" in any case.
      size_t p = i;
      bool found = false;
      while ((p = s.find("</", p)) != std::string_view::npos) {
        if (base::istarts_with(s.substr(p + 2), kSkip[k])) {
          found = true;
          break;
        }
        p += 2;
      }
      if (found) {
        i = tag_end(s, p);
      } else {
        no_end_tag[k] = true;
      }
    }
  }
  return detail::fix_utf8(out);
}

std::string snippet(const Message& m, size_t max_chars) {
  std::string from_html;
  std::string_view text = m.text;
  if (base::trim(text, " \t\r\n").empty()) {
    from_html = html_to_text(m.html);
    text = from_html;
  }
  std::string out;
  size_t chars = 0;
  bool space = false;
  while (!text.empty() && chars < max_chars) {
    size_t n = base::utf8_sequence_length(text);
    if (n == 0) {
      n = 1;  // cannot happen after fix_utf8; skipped if it does
      text.remove_prefix(n);
      continue;
    }
    std::string_view ch = text.substr(0, n);
    text.remove_prefix(n);
    // Whitespace, NBSP and the invisible characters newsletters pad their preheaders with.
    bool white = ch == " " || ch == "\t" || ch == "\r" || ch == "\n" || ch == "\f" || ch == "\v" ||
                 ch == "\xC2\xA0" || ch == "\xE2\x80\x89" || ch == "\xE3\x80\x80";
    bool invisible = ch == "\xC2\xAD" || ch == "\xE2\x80\x8B" || ch == "\xE2\x80\x8C" ||
                     ch == "\xE2\x80\x8D" || ch == "\xEF\xBB\xBF" || ch == "\xCD\x8F";
    if (invisible || (ch.size() == 1 && static_cast<unsigned char>(ch[0]) < 0x20 && !white)) {
      continue;
    }
    if (white) {
      space = !out.empty();
      continue;
    }
    if (space) {
      if (chars + 1 >= max_chars) {
        break;  // never end on the space
      }
      out += ' ';
      ++chars;
      space = false;
    }
    out += ch;
    ++chars;
  }
  return out;
}

}  // namespace hk::mime
