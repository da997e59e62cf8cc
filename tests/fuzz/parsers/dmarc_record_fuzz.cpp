// libFuzzer target: the DMARC policy record (lib/dmarc/record, RFC 7489 §6.3/§6.4) and policy
// selection among a name's TXT records (§6.6.3), fed from any domain's DNS.
// Invariants: a record is Valid, Invalid (with a reason) or NotDmarc (then it does not start with
// the version tag); a Valid one has pct within 0..100; selection finds a record only when exactly
// one input is a DMARC record; a Valid record with a valid rua= never becomes Invalid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dmarc/check.hpp"
#include "lib/dmarc/record.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::dmarc;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ParsedRecord r = parse_record(in);
  switch (r.kind) {
    case RecordKind::NotDmarc:
      break;
    case RecordKind::Invalid:
      check(!r.error.empty());
      check(in.find("DMARC1") != std::string_view::npos);
      break;
    case RecordKind::Valid:
      check(r.record.pct >= 0 && r.record.pct <= 100);
      check(in.find("DMARC1") != std::string_view::npos);
      for (const std::string& uri : r.record.rua) {
        check(!uri.empty());
        is_dmarc_uri(uri);
      }
      break;
  }
  // The input split at NUL bytes is a name's set of TXT records.
  std::vector<std::string> txt;
  size_t start = 0;
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || data[i] == 0) {
      txt.emplace_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  int dmarc = 0;
  for (const std::string& t : txt) {
    dmarc += parse_record(t).kind != RecordKind::NotDmarc ? 1 : 0;
  }
  Discovery d = select_record(txt, "example.com");
  check((d.status == Discovery::Status::NoRecord) == (dmarc == 0));
  check(d.status != Discovery::Status::Found || dmarc == 1);
  return 0;
}
