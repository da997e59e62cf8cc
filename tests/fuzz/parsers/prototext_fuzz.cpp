// libFuzzer target: the protocol buffers text format reader (util/prototext) and the chasquid
// file readers over it (util/chasquid_format), which import-chasquid runs on files it did not
// write. Invariants: only ParseError / FormatError escape; a parsed tree printed back as text
// format (every string byte as an octal escape) parses to the same tree; the aliases reader
// returns only entries with a name and either targets or a command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "util/chasquid_format.hpp"
#include "util/prototext.hpp"

namespace {

using hk::util::prototext::Field;
using hk::util::prototext::Kind;

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

void print(const std::vector<Field>& fields, std::string& out) {
  for (const Field& f : fields) {
    out += f.name;
    switch (f.kind) {
      case Kind::Message:
        out += " {\n";
        print(f.fields, out);
        out += "}\n";
        break;
      case Kind::String:
        out += ": \"";
        for (char c : f.text) {
          auto u = static_cast<unsigned char>(c);
          out += '\\';
          out += static_cast<char>('0' + (u >> 6));
          out += static_cast<char>('0' + ((u >> 3) & 7));
          out += static_cast<char>('0' + (u & 7));
        }
        out += "\"\n";
        break;
      default:
        out += ": " + f.text + "\n";
    }
  }
}

bool same(const std::vector<Field>& a, const std::vector<Field>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].kind != b[i].kind || a[i].text != b[i].text ||
        !same(a[i].fields, b[i].fields)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pt = hk::util::prototext;
  namespace cq = hk::util::chasquid;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    std::vector<Field> tree = pt::parse(in);
    std::string printed;
    print(tree, printed);
    check(same(pt::parse(printed), tree));
  } catch (const pt::ParseError& e) {
    check(e.line >= 1);
  }
  try {
    cq::parse_users(in, "users");
  } catch (const cq::FormatError&) {
  }
  try {
    for (const cq::Alias& a : cq::parse_aliases(in, "aliases")) {
      check(!a.name.empty());
      check(a.kind == cq::AliasKind::Pipe ? !a.command.empty() : !a.targets.empty());
    }
  } catch (const cq::FormatError&) {
  }
  int64_t seconds = 0;
  if (cq::parse_go_duration(in, seconds)) {
    check(seconds >= 0);
  }
  return 0;
}
