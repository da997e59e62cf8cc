// The search syntax (the common part of Mailpit's): parse_query and matches (capture_store.hpp).
#include <array>
#include <string>
#include <string_view>

#include "daemon/capture/capture_store.hpp"
#include "daemon/capture/index.hpp"
#include "lib/base/ascii.hpp"

namespace hk::capture {

namespace {

constexpr std::array<std::string_view, 6> kFields = {"from",       "to", "subject",
                                                     "message-id", "is", "has"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_field_char(char c) { return base::is_alpha(c) || c == '-'; }

bool known_field(std::string_view f) {
  for (std::string_view k : kFields) {
    if (f == k) {
      return true;
    }
  }
  return false;
}

// A value as the matcher compares it: folded, and without control characters (the index uses
// U+001F between fields, and no header value holds a control character after unfolding anyway).
std::string clean_value(std::string_view v) {
  std::string out = fold(v);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

std::optional<Query> parse_query(std::string_view text, std::string& error) {
  Query q;
  size_t pos = 0;
  for (;;) {
    while (pos < text.size() && is_space(text[pos])) {
      ++pos;
    }
    if (pos >= text.size()) {
      break;
    }
    size_t start = pos;
    Query::Term term;
    if (text[pos] == '-') {
      term.negated = true;
      ++pos;
      if (pos >= text.size() || is_space(text[pos])) {
        error = "a lone '-' at offset " + std::to_string(start) +
                ": put the term to exclude right after it (-word, -from:address)";
        return std::nullopt;
      }
    }
    // The field prefix: letters and '-' then ':', before any quote.
    size_t p = pos;
    while (p < text.size() && is_field_char(text[p])) {
      ++p;
    }
    if (p < text.size() && text[p] == ':' && p > pos) {
      term.field = base::to_lower(text.substr(pos, p - pos));
      if (!known_field(term.field)) {
        error = "unknown search field \"" + std::string(text.substr(pos, p - pos + 1)) +
                "\" (known: from:, to:, subject:, message-id:, is:, has:); put the term in "
                "quotes to search for the text itself";
        return std::nullopt;
      }
      pos = p + 1;
    }
    // The value: up to the next space outside quotes; the quotes themselves are dropped.
    std::string value;
    bool quoted = false;
    size_t quote_at = 0;
    while (pos < text.size() && (quoted || !is_space(text[pos]))) {
      if (text[pos] == '"') {
        quoted = !quoted;
        quote_at = pos;
      } else {
        value += text[pos];
      }
      ++pos;
    }
    if (quoted) {
      error = "unterminated quote at offset " + std::to_string(quote_at) + " in the search";
      return std::nullopt;
    }
    std::string term_text(text.substr(start, pos - start));
    if (value.empty()) {
      if (!term.field.empty()) {
        error = "\"" + term_text + "\" needs a value after the ':'";
        return std::nullopt;
      }
      continue;  // "" searches for nothing in particular
    }
    term.value = clean_value(value);
    if (term.field == "is" && term.value != "read" && term.value != "unread") {
      error = "\"" + term_text + "\": is: takes read or unread";
      return std::nullopt;
    }
    if (term.field == "has") {
      if (term.value != "attachment" && term.value != "attachments") {
        error = "\"" + term_text + "\": has: takes attachment";
        return std::nullopt;
      }
      term.value = "attachment";
    }
    q.terms.push_back(std::move(term));
  }
  return q;
}

bool matches(const Query& q, const Summary& s) {
  if (q.terms.empty()) {
    return true;
  }
  // Summaries are immutable and shared; the entry only borrows this one for the match.
  Entry e = make_entry(SummaryPtr(std::shared_ptr<const Summary>(), &s));
  return matches(q, e.haystack());
}

}  // namespace hk::capture
