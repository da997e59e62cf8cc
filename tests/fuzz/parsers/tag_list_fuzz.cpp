// libFuzzer target: tag=value lists (lib/base/tag_value), the syntax of DKIM-Signature fields and
// DKIM key records (RFC 6376 §3.2), DMARC records (RFC 7489 §6.4) and the MTA-STS TXT record
// (RFC 8461 §3.1). The first input byte picks the grammar and options, the rest is the list.
// Invariants: a lenient parse never fails; a failed parse holds no tag; a strict parse holds at
// least one tag, and no duplicate unless allowed; stripped values hold no whitespace; find()
// returns the first tag of a name; a list printed back as "name=value;..." parses to the same
// tags.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "lib/base/tag_value.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::base;
  if (size == 0) {
    return 0;
  }
  TagListSyntax syntax;
  syntax.grammar = (data[0] & 1) != 0 ? TagGrammar::Rfc8461 : TagGrammar::Rfc6376;
  syntax.lenient = (data[0] & 2) != 0;
  syntax.strip_value_whitespace = (data[0] & 4) != 0;
  syntax.duplicates_allowed = (data[0] & 8) != 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  TagList list = parse_tag_list(in, syntax);
  check(list.ok() || syntax.lenient == false);
  if (!list.ok()) {
    check(list.tags.empty());
    return 0;
  }
  check(syntax.lenient || !list.tags.empty());
  std::set<std::string> names;
  std::string printed;
  for (const Tag& t : list.tags) {
    check(t.name.find(';') == std::string::npos && t.name.find('=') == std::string::npos);
    check(t.value.find(';') == std::string::npos);
    if (syntax.strip_value_whitespace) {
      check(t.value.find_first_of(" \t\r\n") == std::string::npos);
    }
    bool first = names.insert(t.name).second;
    check(first || syntax.duplicates_allowed || syntax.lenient);
    const std::string* found = list.find(t.name);
    check(found != nullptr && (!first || found == &t.value));
    if (!syntax.lenient) {
      check(!t.name.empty());
    }
    printed += t.name + "=" + t.value + ";";
  }
  TagList again = parse_tag_list(printed, syntax);
  check(again.ok() && again.tags == list.tags);
  return 0;
}
