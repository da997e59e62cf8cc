// tls_required_no(): the TLS-Required: No header field of RFC 8689 §3.
#include "lib/smtp/tls_required.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::smtp {
namespace {

TEST(TlsRequired, No) {
  struct Case {
    std::string message;
    bool no;
  };
  const Case cases[] = {
      {"From: a@b.example\r\nTLS-Required: No\r\n\r\nbody\r\n", true},
      {"tls-required:no\r\n\r\n", true},
      {"TLS-Required :  NO  \r\n\r\n", true},
      {"TLS-Required:\r\n No\r\n\r\n", true},                    // folded
      {"Subject: x\nTLS-Required: No\n\nbody\n", true},          // LF line ends
      {"TLS-Required: No", true},                                // no body at all
      {"From: a@b.example\r\n\r\nTLS-Required: No\r\n", false},  // in the body
      {"X-TLS-Required: No\r\n\r\n", false},                     // another field
      {"Subject: TLS-Required: No\r\n\r\n", false},              // inside a value
      {"Subject: x\r\n TLS-Required: No\r\n\r\n", false},        // a continuation line
      {"TLS-Required: Yes\r\n\r\n", false},                      // not a defined value
      {"TLS-Required: No thanks\r\n\r\n", false},
      {"TLS-Required: No\r\nTLS-Required: Yes\r\n\r\n", false},  // contradicting fields
      {"", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tls_required_no(c.message), c.no) << c.message;
  }
}

}  // namespace
}  // namespace hk::smtp
