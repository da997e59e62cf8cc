// libFuzzer target: SRS addresses (lib/srs), which any client may send as RCPT TO on port 25.
// The first input byte picks the day, the rest is both a local part to reverse and a sender to
// forward. Invariants: reverse() never accepts what our secret did not sign unless it parses; a
// forward of an ordinary sender with a valid domain reverses to that sender, whatever its local
// part holds; no rewritten local part exceeds 64 octets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/base/domain_name.hpp"
#include "lib/srs/srs.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::srs;
  if (size == 0) {
    return 0;
  }
  static const Codec codec({"fuzzing-secret-0123456789"});
  const int64_t day = 20000 + data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  Result r = codec.reverse(in, day, 21);
  if (r.ok()) {
    check(!r.address.empty() && r.address.find('@') != std::string::npos);
  }

  Result f = codec.forward(in, "fwd.test", day);
  if (!f.ok()) {
    return 0;
  }
  size_t at = f.address.rfind('@');
  check(at != std::string::npos);
  std::string_view local = std::string_view(f.address).substr(0, at);
  size_t sender_at = in.rfind('@');
  std::string_view sender_local = in.substr(0, sender_at);
  std::string_view sender_domain = in.substr(sender_at + 1);
  if (is_srs(sender_local)) {
    return 0;  // re-forwarded (SRS1) or kept: reverse gives the first forwarder's address
  }
  check(local.size() <= kMaxLocalPart);
  Result back = codec.reverse(local, day, 21);
  if (hk::base::is_domain_name(sender_domain)) {
    check(back.ok() && back.address == in);
  }
  return 0;
}
