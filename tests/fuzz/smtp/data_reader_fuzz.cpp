// libFuzzer target: DataReader fed the same bytes whole, byte by byte and in chunks must agree
// on everything; memory stays within the limit and an accepted body has only CRLF endings.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/smtp/data_reader.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

struct Run {
  size_t consumed = 0;
  bool done = false;
  hk::smtp::DataReader::Error error = hk::smtp::DataReader::Error::None;
  std::string body;
  uint64_t size = 0;
  int received = 0;

  bool operator==(const Run&) const = default;
};

Run run(std::string_view in, size_t chunk, uint64_t max) {
  hk::smtp::DataReader reader(max);
  Run out;
  for (size_t at = 0; at < in.size() && !reader.done(); at += chunk) {
    std::string_view piece = in.substr(at, chunk);
    size_t used = reader.feed(piece);
    check(used <= piece.size());
    check(used == piece.size() || reader.done());
    out.consumed += used;
    check(reader.body().size() <= max);
  }
  out.done = reader.done();
  out.error = reader.error();
  out.body = reader.body();
  out.size = reader.size();
  out.received = reader.received_count();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hk::smtp::DataReader;
  if (size < 2) {
    return 0;
  }
  const uint64_t max = data[0] % 2 == 0 ? (1u << 20) : data[0];
  const size_t chunk = 1 + data[1] % 13;
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

  Run whole = run(in, in.size() + 1, max);
  check(run(in, 1, max) == whole);
  check(run(in, chunk, max) == whole);

  if (whole.done) {
    // The input up to `consumed` ends with CRLF.CRLF, or is ".\r\n" at the very start.
    std::string_view used = in.substr(0, whole.consumed);
    check(used == ".\r\n" || (used.size() >= 5 && used.substr(used.size() - 5) == "\r\n.\r\n"));
  }
  if (whole.error == DataReader::Error::None) {
    check(whole.size == whole.body.size());
    for (size_t i = 0; i < whole.body.size(); ++i) {
      if (whole.body[i] == '\r') {
        check(i + 1 < whole.body.size() && whole.body[i + 1] == '\n');
      } else if (whole.body[i] == '\n') {
        check(i > 0 && whole.body[i - 1] == '\r');
      }
    }
  }
  return 0;
}
