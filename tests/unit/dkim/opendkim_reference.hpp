// The reference signer for tests and the signing benchmark: libopendkim's own dkim_sign() path,
// fed the PEM text for every message as libopendkim requires. Our DkimSigner is checked against
// it (same bh= for every body) and measured against it (tests/bench/dkim_sign_bench.cpp).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "lib/dkim/keys.hpp"
#include "lib/dkim/opendkim.hpp"

namespace hk::dkim::test {

class OpendkimSigner {
 public:
  explicit OpendkimSigner(std::time_t fixed_time = 0);
  // The "DKIM-Signature: ...\r\n" header libopendkim makes for `message` with the private key
  // `pem` (selector and domain from `key`), relaxed/relaxed, the same header list as DkimSigner.
  std::optional<std::string> sign(std::string_view message, const std::string& pem,
                                  const DkimKey& key, std::string& error) const;

 private:
  DkimLibPtr lib_;
};

}  // namespace hk::dkim::test
