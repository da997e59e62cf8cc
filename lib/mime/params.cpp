// Content-Type / Content-Disposition values and their parameters (RFC 2045 §5.1, RFC 2183 §2),
// with RFC 2231 continuations, charsets and languages, and the RFC 2047 encoded words that
// Outlook and many libraries put into quoted filenames although §5 forbids it.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime::detail {

namespace {

// Bounds a hostile field cannot push past: RFC 2231 §3 continuations are numbered from 0, and a
// real filename needs a handful of them.
constexpr long kMaxSection = 999;

struct Section {
  long index;     // -1: "name*" or "name" without a number
  bool extended;  // the value is charset'lang'%XX (first section) or %XX (later ones)
  std::string value;
};

int hex(char c) {
  if (base::is_digit(c)) {
    return c - '0';
  }
  char l = base::to_lower(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "utf-8'en'%E2%82%AC" → charset and the rest; no two quotes → no charset, all of it the value.
std::string_view split_charset(std::string_view v, std::string& charset) {
  size_t q1 = v.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    return v;
  }
  charset = std::string(v.substr(0, q1));
  return v.substr(q2 + 1);
}

std::string assemble(std::vector<Section>& sections) {
  // RFC 2231 §4.1: "name*" (one extended value) wins over continuations and over a plain "name"
  // given for old readers.
  for (const Section& s : sections) {
    if (s.index < 0 && s.extended) {
      std::string charset;
      std::string_view rest = split_charset(s.value, charset);
      return to_utf8(percent_decode(rest), charset);
    }
  }
  std::vector<const Section*> numbered;
  for (const Section& s : sections) {
    if (s.index >= 0) {
      numbered.push_back(&s);
    }
  }
  if (!numbered.empty()) {
    std::stable_sort(numbered.begin(), numbered.end(),
                     [](const Section* a, const Section* b) { return a->index < b->index; });
    std::string charset;
    std::string bytes;
    bool any_extended = false;
    long expect = 0;
    for (const Section* s : numbered) {
      if (s->index != expect) {
        if (s->index < expect) {
          continue;  // a repeated number: the first one counts
        }
        break;  // a gap ends the value (§3)
      }
      ++expect;
      if (s->extended) {
        any_extended = true;
        std::string_view v = s->value;
        if (s->index == 0) {
          v = split_charset(v, charset);
        }
        bytes += percent_decode(v);
      } else {
        bytes += s->value;
      }
    }
    if (any_extended || !charset.empty()) {
      return to_utf8(bytes, charset);
    }
    return decode_words(bytes);
  }
  return sections.empty() ? std::string() : decode_words(sections.front().value);
}

}  // namespace

std::string strip_comments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (depth == 0 && quoted) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) {
        out += s[++i];
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (depth > 0) {
      if (c == '\\') {
        ++i;  // quoted-pair inside a comment
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) {
          out += ' ';
        }
      }
      continue;
    }
    if (c == '(') {
      depth = 1;
    } else {
      if (c == '"') {
        quoted = true;
      }
      out += c;
    }
  }
  if (depth > 0) {
    out += ' ';
  }
  return out;
}

const std::string* FieldWithParams::param(std::string_view name) const {
  for (const Param& p : params) {
    if (p.name == name) {
      return &p.value;
    }
  }
  return nullptr;
}

FieldWithParams parse_field_with_params(std::string_view raw) {
  FieldWithParams out;
  std::string text = strip_comments(raw);
  std::string_view s = text;
  size_t semi = s.find(';');
  out.value = base::to_lower(base::trim(s.substr(0, semi), " \t\r\n\""));
  if (semi == std::string_view::npos) {
    return out;
  }
  std::map<std::string, std::vector<Section>> by_name;
  std::vector<std::string> order;
  size_t i = semi + 1;
  while (i < s.size()) {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == ';' || s[i] == '\r' || s[i] == '\n')) {
      ++i;
    }
    size_t eq = s.find_first_of("=;", i);
    if (eq == std::string_view::npos || s[eq] == ';') {
      i = eq;  // a parameter without a value: skipped
      continue;
    }
    std::string name = base::to_lower(base::trim(s.substr(i, eq - i), " \t\r\n"));
    i = eq + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
      ++i;
    }
    std::string value;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        }
        value += s[i];
      }
      ++i;  // the closing quote; anything up to the next ';' is dropped
      size_t next = s.find(';', std::min(i, s.size()));
      i = next == std::string_view::npos ? s.size() : next;
    } else {
      // Lenient: an unquoted value runs to the next ';' (Outlook leaves spaces in filenames).
      size_t next = s.find(';', i);
      size_t end = next == std::string_view::npos ? s.size() : next;
      value = std::string(base::trim(s.substr(i, end - i), " \t\r\n"));
      i = end;
    }
    if (name.empty()) {
      continue;
    }
    Section section{-1, false, std::move(value)};
    if (name.back() == '*') {
      section.extended = true;
      name.pop_back();
    }
    if (size_t star = name.find('*'); star != std::string::npos) {
      std::string_view num = std::string_view(name).substr(star + 1);
      if (num.empty() || num.size() > 3 ||
          !std::all_of(num.begin(), num.end(), [](char c) { return base::is_digit(c); })) {
        continue;  // not a name RFC 2231 defines
      }
      section.index = std::stol(std::string(num));
      if (section.index > kMaxSection) {
        continue;
      }
      name.resize(star);
    }
    auto [it, fresh] = by_name.try_emplace(name);
    if (fresh) {
      order.push_back(name);
    }
    if (it->second.size() <= static_cast<size_t>(kMaxSection)) {
      it->second.push_back(std::move(section));
    }
  }
  for (const std::string& name : order) {
    out.params.push_back({name, assemble(by_name[name])});
  }
  return out;
}

}  // namespace hk::mime::detail
