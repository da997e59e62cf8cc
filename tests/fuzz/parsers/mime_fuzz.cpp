// libFuzzer target: whole messages through lib/mime, as the console and /api/v1 read captured
// mail (anybody's). Invariants: nothing crashes or hangs; every string but Header::raw and
// Part::data is valid UTF-8; inlines are inline and attachments are not; part IDs are dotted
// numbers, unique, no deeper than Limits::max_depth; parts stay within Limits::max_parts; the
// decoded output is a small multiple of the input; snippet() keeps to its length. The same input
// also goes through decode_words, parse_address_list and auth_badges as a single header value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/utf8.hpp"
#include "lib/mime/mime.hpp"

namespace {

namespace mime = hk::mime;

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

void check_utf8(std::string_view s) { check(hk::base::is_valid_utf8(s)); }

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

void check_part_id(const std::string& id, size_t max_depth) {
  check(!id.empty() && id.front() != '.' && id.back() != '.');
  size_t dots = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    check((c >= '0' && c <= '9') || (c == '.' && id[i - 1] != '.'));
    dots += c == '.' ? 1 : 0;
  }
  check(dots <= max_depth);
}

void check_message(std::string_view in, const mime::Limits& limits) {
  mime::Message m = mime::parse(in, limits);
  size_t decoded = 0;
  for (const mime::Header& h : m.headers) {
    check(!h.name.empty());
    check_utf8(h.name);
    check_utf8(h.value);
  }
  check_utf8(m.text);
  check_utf8(m.html);
  decoded += m.text.size() + m.html.size();
  std::set<std::string> ids;
  for (const auto* list : {&m.attachments, &m.inlines}) {
    for (const mime::Part& p : *list) {
      check(p.inline_disposition == (list == &m.inlines));
      check_part_id(p.part_id, limits.max_depth);
      check(ids.insert(p.part_id).second);
      check_utf8(p.content_type);
      check_utf8(p.filename);
      check_utf8(p.content_id);
      decoded += p.data.size();
    }
  }
  check(ids.size() <= limits.max_parts);
  // Charset conversion triples a byte at most in mail's charsets (U+FFFD for one bad byte);
  // iconv's rarest ones (TSCII) make up to four characters of one byte.
  check(decoded <= 12 * in.size() + 16);
  check(m.problems.size() <= 50);
  for (const std::string& p : m.problems) {
    check_utf8(p);
  }
  for (size_t max : {size_t{0}, size_t{1}, size_t{250}}) {
    std::string s = mime::snippet(m, max);
    check_utf8(s);
    check(count_chars(s) <= max);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_message(in, mime::Limits{});
  mime::Limits tight;
  tight.max_depth = 2;
  tight.max_parts = 3;
  check_message(in, tight);

  check_utf8(mime::decode_words(in));
  for (const mime::Address& a : mime::parse_address_list(in)) {
    check_utf8(a.name);
    check_utf8(a.address);
  }
  std::vector<mime::Header> h = {{"Authentication-Results", "", std::string(in)}};
  for (const mime::AuthBadge& b : mime::auth_badges(h, "")) {
    check(!b.method.empty() && !b.result.empty());
    check_utf8(b.method);
    check_utf8(b.result);
    check_utf8(b.detail);
  }
  check_utf8(mime::html_to_text(in));
  return 0;
}
