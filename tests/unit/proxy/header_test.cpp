// Tests for the PROXY protocol parser: v1 and v2 headers as HAProxy sends them, every malformed
// form refused, prefixes reported as incomplete, nothing after the header taken.
#include "lib/proxy/header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::proxy {
namespace {

using namespace std::string_literals;

// A v2 header: signature, version/command, family/protocol, then `body` with its length.
std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& body) {
  std::string h(kV2Signature);
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

// 192.0.2.7:40000 -> 198.51.100.1:25, the AF_INET block.
const std::string kInetBlock = "\xc0\x00\x02\x07\xc6\x33\x64\x01\x9c\x40\x00\x19"s;
// 2001:db8::5:40001 -> 2001:db8::1:587, the AF_INET6 block.
const std::string kInet6Block =
    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05"
    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9c\x41\x02\x4b"s;

TEST(ProxyV1, Tcp4) {
  std::string in = "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO x\r\n";
  Parsed p = parse(in);
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.size, in.find("EHLO"));  // nothing after the header is taken
  EXPECT_EQ(p.header.version, 1);
  EXPECT_FALSE(p.header.local);
  ASSERT_TRUE(p.header.source);
  EXPECT_FALSE(p.header.source->v6);
  EXPECT_EQ(to_string(*p.header.source), "192.0.2.7");
  EXPECT_EQ(p.header.source->port, 40000);
  EXPECT_EQ(to_string(*p.header.destination), "198.51.100.1");
  EXPECT_EQ(p.header.destination->port, 25);
}

TEST(ProxyV1, Tcp6) {
  Parsed p = parse("PROXY TCP6 2001:db8::5 ::1 65535 0\r\n");
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_TRUE(p.header.source->v6);
  EXPECT_EQ(to_string(*p.header.source), "2001:db8::5");
  EXPECT_EQ(p.header.source->port, 65535);
  EXPECT_EQ(to_string(*p.header.destination), "::1");
  EXPECT_EQ(p.header.destination->port, 0);
}

TEST(ProxyV1, UnknownKeepsTheSocketAddress) {
  for (std::string in : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 1 2\r\n"}) {
    Parsed p = parse(in);
    ASSERT_EQ(p.status, Status::Done) << in;
    EXPECT_EQ(p.size, in.size());
    EXPECT_FALSE(p.header.source);
    EXPECT_FALSE(p.header.local);
  }
}

TEST(ProxyV1, LongestLineIsAccepted) {
  // The spec's worst case (§2.1): 107 octets with CRLF.
  std::string in =
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  ASSERT_EQ(in.size(), kMaxV1Size);
  EXPECT_EQ(parse(in).status, Status::Done);
  std::string tcp6 =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "65535 65535\r\n";
  EXPECT_EQ(parse(tcp6).status, Status::Done);
  // One octet more is too long, even though an UNKNOWN line's content is ignored.
  std::string unknown = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  ASSERT_EQ(unknown.size(), kMaxV1Size + 1);
  EXPECT_EQ(parse(unknown).status, Status::Invalid);
  EXPECT_EQ(parse(unknown.substr(0, kMaxV1Size)).status, Status::Invalid);  // CR is the 107th
}

TEST(ProxyV1, MalformedIsRefused) {
  const std::vector<std::string> cases = {
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\n",       // bare LF
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\rX",      // bare CR
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000\r\n",        // four fields
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25 1\r\n",   // six fields
      "PROXY TCP4  192.0.2.7 198.51.100.1 40000 25\r\n",    // two spaces
      "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25 \r\n",    // trailing space
      "PROXY  TCP4 192.0.2.7 198.51.100.1 40000 25\r\n",    // two spaces after PROXY
      "PROXY TCP5 192.0.2.7 198.51.100.1 40000 25\r\n",     // protocol
      "PROXY tcp4 192.0.2.7 198.51.100.1 40000 25\r\n",     // protocol is case-sensitive
      "PROXY UDP4 192.0.2.7 198.51.100.1 40000 25\r\n",     // not TCP
      "PROXY TCP4 2001:db8::5 198.51.100.1 40000 25\r\n",   // IPv6 under TCP4
      "PROXY TCP6 192.0.2.7 ::1 40000 25\r\n",              // IPv4 under TCP6
      "PROXY TCP4 192.0.2.256 198.51.100.1 40000 25\r\n",   // octet > 255
      "PROXY TCP4 192.0.2 198.51.100.1 40000 25\r\n",       // three octets
      "PROXY TCP4 192.0.2.07 198.51.100.1 40000 25\r\n",    // leading zero
      "PROXY TCP4 mx.example 198.51.100.1 40000 25\r\n",    // a name
      "PROXY TCP6 2001:db8:::5 ::1 40000 25\r\n",           // bad IPv6
      "PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n",     // port > 65535
      "PROXY TCP4 192.0.2.7 198.51.100.1 040000 25\r\n",    // leading zero
      "PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n",        // sign
      "PROXY TCP4 192.0.2.7 198.51.100.1 +1 25\r\n",        // sign
      "PROXY TCP4 192.0.2.7 198.51.100.1 4x 25\r\n",        // not a number
      "PROXY TCP4 192.0.2.7 198.51.100.1 999999 25\r\n",    // six digits
      "PROXY TCP4 192.0.2.7\0 198.51.100.1 40000 25\r\n"s,  // NUL
      "PROXY TCP4 192.0.2.7\t198.51.100.1 40000 25\r\n",    // tab
      "PROXY \r\n",                                         // nothing
      "PROXY\r\n",                                          // no space
      "PROXY UNKNOWNX\r\n",                                 // not UNKNOWN
      "proxy TCP4 192.0.2.7 198.51.100.1 40000 25\r\n",     // signature is case-sensitive
      "EHLO client.example\r\n",                            // SMTP, not a header
      "PROXX",                                              // wrong signature, early
      std::string(200, 'P'),                                // wrong signature
      "PROXY TCP4 " + std::string(120, '1'),                // no CRLF in 107 octets
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Parsed p = parse(cases[i]);
    EXPECT_EQ(p.status, Status::Invalid) << "case " << i;
    if (p.status == Status::Invalid) {
      EXPECT_FALSE(p.error.empty()) << "case " << i;
    }
  }
}

TEST(ProxyV1, EveryPrefixIsIncomplete) {
  std::string in = "PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\n";
  for (size_t n = 0; n < in.size(); ++n) {
    EXPECT_EQ(parse(in.substr(0, n)).status, Status::Incomplete) << n;
  }
}

TEST(ProxyV2, ProxyInet) {
  std::string in = v2(0x21, 0x11, kInetBlock) + "EHLO x\r\n";
  Parsed p = parse(in);
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.size, 16 + kInetBlock.size());
  EXPECT_EQ(p.header.version, 2);
  EXPECT_FALSE(p.header.local);
  EXPECT_EQ(to_string(*p.header.source), "192.0.2.7");
  EXPECT_EQ(p.header.source->port, 40000);
  EXPECT_EQ(to_string(*p.header.destination), "198.51.100.1");
  EXPECT_EQ(p.header.destination->port, 25);
}

TEST(ProxyV2, ProxyInet6) {
  Parsed p = parse(v2(0x21, 0x21, kInet6Block));
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_TRUE(p.header.source->v6);
  EXPECT_EQ(to_string(*p.header.source), "2001:db8::5");
  EXPECT_EQ(p.header.source->port, 40001);
  EXPECT_EQ(to_string(*p.header.destination), "2001:db8::1");
  EXPECT_EQ(p.header.destination->port, 587);
}

TEST(ProxyV2, TlvsAreSkipped) {
  // PP2_TYPE_ALPN "smtp" and PP2_TYPE_UNIQUE_ID, as HAProxy may append them.
  std::string tlvs =
      "\x01\x00\x04smtp\x05\x00\x03"
      "abc"s;
  std::string in = v2(0x21, 0x11, kInetBlock + tlvs);
  Parsed p = parse(in + "rest");
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.size, in.size());
  EXPECT_EQ(to_string(*p.header.source), "192.0.2.7");
}

TEST(ProxyV2, LocalKeepsTheSocketAddress) {
  // HAProxy's health checks: LOCAL with AF_UNSPEC and no block; any block is skipped.
  for (const std::string& in :
       {v2(0x20, 0x00, ""), v2(0x20, 0x11, kInetBlock), v2(0x20, 0x31, std::string(216, 'x'))}) {
    Parsed p = parse(in);
    ASSERT_EQ(p.status, Status::Done) << p.error;
    EXPECT_EQ(p.size, in.size());
    EXPECT_TRUE(p.header.local);
    EXPECT_FALSE(p.header.source);
  }
}

TEST(ProxyV2, LargestLengthIsWaitedFor) {
  std::string in = v2(0x21, 0x11, kInetBlock + std::string(65535 - kInetBlock.size(), '\0'));
  ASSERT_EQ(in.size(), kMaxV2Size);
  EXPECT_EQ(parse(in.substr(0, in.size() - 1)).status, Status::Incomplete);
  EXPECT_EQ(parse(in).status, Status::Done);
}

TEST(ProxyV2, MalformedIsRefused) {
  std::string sig(kV2Signature);
  const std::vector<std::string> cases = {
      v2(0x11, 0x11, kInetBlock),                 // version 1 in a binary header
      v2(0x31, 0x11, kInetBlock),                 // version 3
      v2(0x22, 0x11, kInetBlock),                 // command 2
      v2(0x2f, 0x11, kInetBlock),                 // command 15
      v2(0x21, 0x00, ""),                         // PROXY with AF_UNSPEC
      v2(0x21, 0x31, std::string(216, 'x')),      // PROXY with AF_UNIX
      v2(0x21, 0x12, kInetBlock),                 // DGRAM
      v2(0x21, 0x10, kInetBlock),                 // UNSPEC transport
      v2(0x21, 0x41, kInetBlock),                 // family 4
      v2(0x21, 0x11, kInetBlock.substr(0, 11)),   // length shorter than AF_INET's block
      v2(0x21, 0x21, kInetBlock),                 // length shorter than AF_INET6's block
      v2(0x21, 0x21, kInet6Block.substr(0, 35)),  // one octet short
      "\r\n\r\n\0\r\nQUIX\n"s + "\x21\x11\x00\x0c"s + kInetBlock,  // signature
      "\r\n\r\n"s + "EHLO",                                        // an SMTP client's empty lines
      "\r\nQUIT\r\n",                                              // not the signature
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Parsed p = parse(cases[i]);
    EXPECT_EQ(p.status, Status::Invalid) << "case " << i;
  }
  // A bad fixed part is refused before the rest arrives.
  EXPECT_EQ(parse(v2(0x21, 0x12, kInetBlock).substr(0, 16)).status, Status::Invalid);
  EXPECT_EQ(parse(v2(0x21, 0x21, kInetBlock).substr(0, 16)).status, Status::Invalid);
}

TEST(ProxyV2, EveryPrefixIsIncomplete) {
  std::string in = v2(0x21, 0x21, kInet6Block + "\x04\x00\x01x"s);
  for (size_t n = 0; n < in.size(); ++n) {
    EXPECT_EQ(parse(in.substr(0, n)).status, Status::Incomplete) << n;
  }
  EXPECT_EQ(parse(in).status, Status::Done);
}

TEST(ProxySniff, SignaturesAndPrefixes) {
  EXPECT_EQ(sniff(""), Sniff::Maybe);
  EXPECT_EQ(sniff("PRO"), Sniff::Maybe);
  EXPECT_EQ(sniff("PROXY "), Sniff::Yes);
  EXPECT_EQ(sniff("PROXY TCP4 1.2.3.4"), Sniff::Yes);
  EXPECT_EQ(sniff("PROXYZ"), Sniff::No);
  EXPECT_EQ(sniff("\r\n\r\n"), Sniff::Maybe);
  EXPECT_EQ(sniff(kV2Signature), Sniff::Yes);
  EXPECT_EQ(sniff("\r\n\r\nEHLO"), Sniff::No);
  EXPECT_EQ(sniff("EHLO x\r\n"), Sniff::No);
  EXPECT_EQ(sniff("QUIT\r\n"), Sniff::No);
}

}  // namespace
}  // namespace hk::proxy
