// Received header and RFC 5322 dates.
#include "daemon/server/received.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "lib/base/date.hpp"

namespace hk::server {
namespace {

TEST(Received, DateFormat) {
  EXPECT_EQ(base::rfc5322_date(std::chrono::system_clock::from_time_t(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(base::rfc5322_date(std::chrono::system_clock::from_time_t(1795449605)),
            "Mon, 23 Nov 2026 16:00:05 +0000");
}

TEST(Received, ProtocolKeywordsFollowRfc3848) {
  TraceInfo t;
  t.helo = "client.test";
  t.client_ip = "127.0.0.1";
  t.hostname = "mx.test";
  t.id = "ID1";
  EXPECT_NE(received_header(t, 0).find("with ESMTP\r\n"), std::string::npos);
  t.tls = true;
  t.tls_version = "TLSv1.3";
  t.tls_cipher = "TLS_AES_256_GCM_SHA384";
  EXPECT_NE(received_header(t, 0).find("with ESMTPS\r\n"), std::string::npos);
  t.authenticated = true;
  EXPECT_NE(received_header(t, 0).find("with ESMTPSA\r\n"), std::string::npos);
  t.esmtp = false;
  t.tls = false;
  t.authenticated = false;
  EXPECT_NE(received_header(t, 0).find("with SMTP\r\n"), std::string::npos);
}

TEST(Received, HostileHeloCannotBreakTheHeader) {
  TraceInfo t;
  t.helo = "evil\r\nX-Injected: yes (;)";
  t.client_ip = "192.0.2.1";
  t.hostname = "mx.test";
  t.id = "ID";
  t.for_rcpt = "a@b.test";
  std::string h = received_header(t, 0);
  EXPECT_EQ(h.find("\r\nX-Injected"), std::string::npos);
  EXPECT_EQ(h.rfind("Received: from evilX-Injected:yes ([192.0.2.1])", 0), 0u) << h;
  EXPECT_NE(h.find("for <a@b.test>;"), std::string::npos);
  // Every line but the first is a continuation line.
  for (size_t pos = h.find("\r\n"); pos + 2 < h.size(); pos = h.find("\r\n", pos + 2)) {
    EXPECT_EQ(h[pos + 2], '\t') << h;
  }
}

}  // namespace
}  // namespace hk::server
