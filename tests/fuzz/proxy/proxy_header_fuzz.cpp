// libFuzzer target: the PROXY protocol header parser (v1 text, v2 binary), with the invariants
// the daemon's reader relies on: Done names a size within the input and the spec's bounds and does
// not depend on what follows; Incomplete means every octet may be taken; Invalid stays invalid
// whatever follows; a parsed v1 header printed back parses to the same addresses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/proxy/header.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

bool same(const std::optional<hk::proxy::Address>& a, const std::optional<hk::proxy::Address>& b) {
  if (!a || !b) {
    return !a && !b;
  }
  return a->v6 == b->v6 && a->bytes == b->bytes && a->port == b->port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::proxy;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Parsed p = parse(in);
  Sniff s = sniff(in);
  switch (p.status) {
    case Status::Done: {
      check(p.size > 0 && p.size <= in.size());
      check(p.header.version == 1 || p.header.version == 2);
      check(p.size <= (p.header.version == 1 ? kMaxV1Size : kMaxV2Size));
      check(s == Sniff::Yes);
      check(p.header.source.has_value() == p.header.destination.has_value());
      check(!p.header.local || !p.header.source);
      Parsed alone = parse(in.substr(0, p.size));
      check(alone.status == Status::Done && alone.size == p.size);
      check(same(alone.header.source, p.header.source));
      check(parse(in.substr(0, p.size - 1)).status == Status::Incomplete);
      if (p.header.version == 1 && p.header.source) {
        const Address& src = *p.header.source;
        const Address& dst = *p.header.destination;
        std::string line = std::string("PROXY ") + (src.v6 ? "TCP6 " : "TCP4 ") + to_string(src) +
                           " " + to_string(dst) + " " + std::to_string(src.port) + " " +
                           std::to_string(dst.port) + "\r\n";
        Parsed again = parse(line);
        check(again.status == Status::Done && again.size == line.size());
        check(same(again.header.source, src) && same(again.header.destination, dst));
      }
      break;
    }
    case Status::Incomplete:
      check(in.size() < kMaxV2Size);
      check(s != Sniff::No);
      check(in.empty() || in[0] != 'P' || in.size() < kMaxV1Size);
      break;
    case Status::Invalid: {
      check(!p.error.empty());
      std::string longer(in);
      longer += "\r\n";
      check(parse(longer).status == Status::Invalid);
      break;
    }
  }
  return 0;
}
