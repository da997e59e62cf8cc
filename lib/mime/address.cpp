// Address lists (RFC 5322 §3.4: mailbox, name-addr, angle-addr, group; §4.4 obsolete forms),
// read leniently for display: what a mail reader would show, not a validator.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/text.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {

namespace {

// One word of a mailbox outside the angle brackets: an atom run or a quoted string, with what
// separated it from the previous word.
struct Word {
  std::string raw;      // as written (a quoted string keeps its quotes), for an addr-spec
  std::string display;  // unquoted and unescaped, for a display name
  bool space_before = false;
  bool quoted = false;
};

struct Entry {
  std::vector<Word> words;
  std::string angle;  // the content of <...>, comments removed
  bool has_angle = false;
  std::string comment;  // the first comment's text, a name for "addr (Name)"
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

// "@a.example,@b.example:user@c.example" (RFC 5322 §4.4 obs-route) → "user@c.example"; spaces
// (obsolete CFWS around the dots) removed.
std::string clean_angle(std::string_view a) {
  std::string s;
  for (char c : a) {
    if (!is_space(c)) {
      s += c;
    }
  }
  if (s.starts_with('@')) {
    size_t colon = s.find(':');
    if (colon != std::string::npos) {
      s.erase(0, colon + 1);
    }
  }
  return s;
}

std::string name_from(const std::vector<Word>& words, size_t from, size_t to) {
  std::string joined;
  for (size_t i = from; i < to; ++i) {
    if (i > from) {
      joined += ' ';
    }
    joined += words[i].display;
  }
  // Encoded words are decoded inside quoted strings too: RFC 2047 §5 forbids them there, but
  // Outlook and many libraries write them so and every reader decodes them.
  return collapse_spaces(decode_words(joined));
}

void finish(Entry& e, std::vector<Address>& out) {
  if (e.has_angle) {
    std::string name = name_from(e.words, 0, e.words.size());
    if (name.empty() && !e.comment.empty()) {
      name = collapse_spaces(decode_words(e.comment));
    }
    out.push_back({std::move(name), detail::fix_utf8(clean_angle(e.angle))});
  } else if (!e.words.empty()) {
    // No angle brackets: an addr-spec, maybe spread over several words by obsolete CFWS
    // ("john . doe @ example . com"), maybe after a name whose brackets were forgotten.
    size_t at = e.words.size();
    for (size_t i = 0; i < e.words.size(); ++i) {
      if (!e.words[i].quoted && e.words[i].raw.find('@') != std::string::npos) {
        at = i;
        break;
      }
    }
    if (at == e.words.size()) {
      if (e.words.size() == 1) {
        out.push_back({collapse_spaces(decode_words(e.comment)), detail::fix_utf8(e.words[0].raw)});
      } else {
        out.push_back({name_from(e.words, 0, e.words.size()), ""});
      }
    } else {
      // Grow the addr-spec over the words glued to it by '.' or '@' at their edges.
      size_t first = at;
      size_t last = at;
      auto glue = [](const Word& a, const Word& b) {
        return !b.space_before || a.raw.ends_with('.') || a.raw.ends_with('@') ||
               b.raw.starts_with('.') || b.raw.starts_with('@');
      };
      while (first > 0 && glue(e.words[first - 1], e.words[first])) {
        --first;
      }
      while (last + 1 < e.words.size() && glue(e.words[last], e.words[last + 1])) {
        ++last;
      }
      std::string address;
      for (size_t i = first; i <= last; ++i) {
        address += e.words[i].raw;
      }
      std::string name = name_from(e.words, 0, first);
      if (name.empty() && !e.comment.empty()) {
        name = collapse_spaces(decode_words(e.comment));
      }
      out.push_back({std::move(name), detail::fix_utf8(address)});
    }
  }
  e = Entry{};
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view s) {
  std::vector<Address> out;
  Entry e;
  bool space = false;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    if (c == '(') {
      // A comment (nested, with quoted-pairs); dropped, but the first one is kept as a possible
      // name for "user@example.com (Name)".
      int depth = 1;
      size_t from = ++i;
      while (i < s.size() && depth > 0) {
        if (s[i] == '\\') {
          ++i;
        } else if (s[i] == '(') {
          ++depth;
        } else if (s[i] == ')') {
          --depth;
        }
        ++i;
      }
      if (e.comment.empty()) {
        size_t to = depth == 0 ? i - 1 : s.size();
        e.comment = std::string(base::trim(s.substr(from, std::min(to, s.size()) - from)));
      }
      space = true;
      continue;
    }
    if (c == ',' || c == ';') {
      finish(e, out);
      space = false;
      ++i;
      continue;
    }
    if (c == ':' && !e.has_angle) {
      // A group's name (RFC 5322 §3.4): dropped; its members follow as mailboxes.
      e = Entry{};
      space = false;
      ++i;
      continue;
    }
    if (c == '<') {
      size_t close = i + 1;
      std::string angle;
      bool quoted = false;
      for (; close < s.size(); ++close) {
        char a = s[close];
        if (quoted) {
          if (a == '\\' && close + 1 < s.size()) {
            angle += a;
            a = s[++close];
          } else if (a == '"') {
            quoted = false;
          }
        } else if (a == '"') {
          quoted = true;
        } else if (a == '>') {
          break;
        } else if (a == '(') {
          // A comment inside the brackets: skipped.
          int depth = 1;
          while (++close < s.size() && depth > 0) {
            if (s[close] == '(') {
              ++depth;
            } else if (s[close] == ')') {
              --depth;
            }
          }
          --close;
          continue;
        }
        angle += a;
      }
      if (!e.has_angle) {
        e.angle = std::move(angle);
        e.has_angle = true;
      }
      i = close < s.size() ? close + 1 : s.size();
      space = true;
      continue;
    }
    Word w;
    w.space_before = space && !e.words.empty();
    if (c == '"') {
      w.quoted = true;
      w.raw += '"';
      size_t k = i + 1;
      for (; k < s.size() && s[k] != '"'; ++k) {
        if (s[k] == '\\' && k + 1 < s.size()) {
          w.raw += s[k];
          ++k;
        }
        w.raw += s[k];
        w.display += s[k];
      }
      w.raw += '"';
      i = k < s.size() ? k + 1 : s.size();
      // A quoted local part glued to "@domain" is one word of an addr-spec.
      if (i < s.size() && s[i] == '@') {
        w.quoted = false;
      }
    } else {
      size_t k = i;
      while (k < s.size() && !is_space(s[k]) && s[k] != '(' && s[k] != ',' && s[k] != ';' &&
             s[k] != '<' && s[k] != '"' && (s[k] != ':' || e.has_angle)) {
        ++k;
      }
      if (k == i) {
        ++k;  // a stray '>' or the like: one character word
      }
      w.raw = std::string(s.substr(i, k - i));
      w.display = w.raw;
      i = k;
    }
    if (!e.has_angle) {
      e.words.push_back(std::move(w));
    }
    space = false;
  }
  finish(e, out);
  return out;
}

}  // namespace hk::mime
