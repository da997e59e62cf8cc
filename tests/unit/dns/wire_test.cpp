// wire.hpp: TTLs and TLSA records read from raw responses, on well-formed, truncated and random
// messages; and reverse names.
#include "lib/dns/wire.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace hk::dns {
namespace {

// Builds DNS messages octet by octet (RFC 1035 §4.1).
class Msg {
 public:
  Msg& u8(unsigned v) {
    b_.push_back(static_cast<unsigned char>(v));
    return *this;
  }
  Msg& u16(unsigned v) { return u8(v >> 8).u8(v & 0xFF); }
  Msg& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  Msg& name(std::string_view dotted) {
    while (!dotted.empty()) {
      auto dot = dotted.find('.');
      auto label = dotted.substr(0, dot);
      u8(static_cast<unsigned>(label.size()));
      b_.insert(b_.end(), label.begin(), label.end());
      dotted = dot == std::string_view::npos ? "" : dotted.substr(dot + 1);
    }
    return u8(0);
  }
  Msg& pointer(unsigned offset) { return u16(0xC000 | offset); }
  Msg& header(unsigned rcode, unsigned qd, unsigned an, unsigned ns) {
    return u16(0x1234).u16(0x8180 | rcode).u16(qd).u16(an).u16(ns).u16(0);
  }
  // Question for `qname` at offset 12, so that answers can point back to it.
  Msg& question(std::string_view qname, unsigned type) { return name(qname).u16(type).u16(1); }
  Msg& rr_header(unsigned type, std::uint32_t ttl, unsigned rdlength, unsigned klass = 1) {
    return pointer(12).u16(type).u16(klass).u32(ttl).u16(rdlength);
  }
  Msg& mx(std::uint32_t ttl, unsigned pref, std::string_view host) {
    rr_header(15, ttl, 2 + static_cast<unsigned>(host.size()) + 2);
    return u16(pref).name(host);
  }
  Msg& soa(std::uint32_t ttl, std::uint32_t minimum) {
    // MNAME compressed to the question name (2 octets), RNAME spelled out (11 octets), then
    // the five 32-bit fields.
    rr_header(6, ttl, 2 + 11 + 20);
    pointer(12).name("host.test");
    return u32(1).u32(3600).u32(600).u32(86400).u32(minimum);
  }
  Msg& cname(std::uint32_t ttl, std::string_view target) {
    rr_header(5, ttl, static_cast<unsigned>(target.size()) + 2);
    return name(target);
  }
  Msg& tlsa(std::uint32_t ttl, unsigned usage, unsigned selector, unsigned matching,
            const std::vector<unsigned char>& data, unsigned klass = 1) {
    rr_header(52, ttl, 3 + static_cast<unsigned>(data.size()), klass);
    u8(usage).u8(selector).u8(matching);
    b_.insert(b_.end(), data.begin(), data.end());
    return *this;
  }
  const std::vector<unsigned char>& bytes() const { return b_; }

 private:
  std::vector<unsigned char> b_;
};

std::vector<unsigned char> two_mx() {
  return Msg()
      .header(0, 1, 2, 0)
      .question("example.test", 15)
      .mx(300, 10, "mx1.example.test")
      .mx(120, 20, "mx2.example.test")
      .bytes();
}

std::vector<unsigned char> nxdomain_with_soa(std::uint32_t ttl, std::uint32_t minimum) {
  return Msg().header(3, 1, 0, 1).question("nx.test", 15).soa(ttl, minimum).bytes();
}

const std::vector<unsigned char> kSha256(32, 0xAB);
const std::vector<unsigned char> kSha512(64, 0xCD);

// Two TLSA records for SMTP on port 25 (RFC 7672 §2.2), reached through a CNAME.
std::vector<unsigned char> two_tlsa() {
  return Msg()
      .header(0, 1, 3, 0)
      .question("_25._tcp.mx.test", 52)
      .cname(600, "_25._tcp.other.test")
      .tlsa(300, 3, 1, 1, kSha256)
      .tlsa(200, 2, 0, 2, kSha512)
      .bytes();
}

// RFC 4035 §3.2.3: the AD bit is bit 5 of the fourth header octet; DANE reads it.
TEST(WireTest, AuthenticatedDataIsTheAdBit) {
  std::vector<unsigned char> msg = two_mx();
  EXPECT_FALSE(authenticated_data(msg));  // 0x8180: QR RD RA
  msg[3] |= 0x20;
  EXPECT_TRUE(authenticated_data(msg));
  EXPECT_FALSE(authenticated_data(std::vector<unsigned char>(msg.begin(), msg.begin() + 11)));
  EXPECT_FALSE(authenticated_data({}));
}

TEST(WireTest, AnswerTtlIsTheSmallest) { EXPECT_EQ(answer_ttl(two_mx()), 120U); }

TEST(WireTest, AnswerTtlWithHighBitSetIsZero) {
  // RFC 2181 §8.
  auto m = Msg().header(0, 1, 1, 0).question("a.test", 15).mx(0x80000001U, 10, "mx.test").bytes();
  EXPECT_EQ(answer_ttl(m), 0U);
}

TEST(WireTest, NoAnswerHasNoAnswerTtl) {
  EXPECT_EQ(answer_ttl(nxdomain_with_soa(900, 600)), std::nullopt);
}

TEST(WireTest, NegativeTtlIsMinOfSoaTtlAndMinimum) {
  struct Case {
    std::uint32_t ttl;
    std::uint32_t minimum;
    std::uint32_t want;
  };
  for (const Case& c :
       {Case{900, 600, 600}, Case{60, 3600, 60}, Case{0, 300, 0}, Case{300, 0x80000000U, 0}}) {
    EXPECT_EQ(negative_ttl(nxdomain_with_soa(c.ttl, c.minimum)), c.want)
        << c.ttl << " " << c.minimum;
  }
}

TEST(WireTest, NegativeTtlNeedsSoa) {
  auto m = Msg().header(3, 1, 0, 0).question("nx.test", 15).bytes();
  EXPECT_EQ(negative_ttl(m), std::nullopt);
  EXPECT_EQ(negative_ttl(two_mx()), std::nullopt);
}

TEST(WireTest, TruncatedMessagesAreRejected) {
  for (const auto& full : {two_mx(), nxdomain_with_soa(900, 600)}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::span<const unsigned char> cut(full.data(), n);
      EXPECT_EQ(answer_ttl(cut), std::nullopt) << n;
      EXPECT_EQ(negative_ttl(cut), std::nullopt) << n;
    }
  }
}

TEST(WireTest, TlsaRecordsInOrderPastTheCname) {
  auto got = tlsa_records(two_tlsa());
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<TlsaRecord>{{3, 1, 1, kSha256}, {2, 0, 2, kSha512}}));
  EXPECT_EQ(answer_ttl(two_tlsa()), 200U);
}

TEST(WireTest, TlsaRecordFields) {
  struct Case {
    const char* name;
    std::vector<unsigned char> msg;
    std::optional<std::vector<TlsaRecord>> want;
  };
  auto one = [](unsigned rdlength, std::vector<unsigned char> rdata, unsigned klass = 1) {
    Msg m;
    m.header(0, 1, 1, 0).question("_25._tcp.mx.test", 52).rr_header(52, 60, rdlength, klass);
    for (unsigned char c : rdata) {
      m.u8(c);
    }
    return m.bytes();
  };
  const Case cases[] = {
      // Values outside RFC 6698's registries are reported as sent; judging them is DANE's job.
      {"unassigned values", one(4, {255, 254, 253, 7}),
       std::vector<TlsaRecord>{{255, 254, 253, {7}}}},
      {"empty association data", one(3, {3, 1, 1}), std::vector<TlsaRecord>{{3, 1, 1, {}}}},
      {"rdata shorter than the fixed fields", one(2, {3, 1}), std::nullopt},
      {"no rdata", one(0, {}), std::nullopt},
      {"rdlength past the end", one(5, {3, 1, 1}), std::nullopt},
      {"class CH is not ours", one(4, {3, 1, 1, 9}, 3), std::vector<TlsaRecord>{}},
      {"no answer (NODATA)", Msg().header(0, 1, 0, 0).question("a.test", 52).bytes(),
       std::vector<TlsaRecord>{}},
      {"other types only", two_mx(), std::vector<TlsaRecord>{}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tlsa_records(c.msg), c.want) << c.name;
  }
}

TEST(WireTest, TruncatedTlsaIsRejected) {
  auto full = two_tlsa();
  ASSERT_TRUE(tlsa_records(full));
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(tlsa_records(std::span<const unsigned char>(full.data(), n)), std::nullopt) << n;
  }
}

TEST(WireTest, BadLabelTypesAndPointerLoopsDoNotHang) {
  // 0x40 and 0x80 label types are reserved; a pointer to itself ends the name when skipping.
  auto reserved = Msg().header(0, 1, 0, 0).u8(0x40).u8(0).u16(15).u16(1).bytes();
  EXPECT_EQ(answer_ttl(reserved), std::nullopt);
  auto self_pointer = Msg().header(0, 1, 1, 0).pointer(12).u16(15).u16(1).rr_header(1, 5, 4).u32(0);
  EXPECT_EQ(answer_ttl(self_pointer.bytes()), 5U);
}

TEST(WireTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> size(0, 600);
  const std::vector<unsigned char> bases[] = {two_mx(), two_tlsa()};
  for (int i = 0; i < 20000; ++i) {
    std::vector<unsigned char> m;
    if (i % 2 == 0) {
      m.resize(size(rng));
      for (auto& c : m) {
        c = static_cast<unsigned char>(byte(rng));
      }
    } else {
      m = bases[i % 4 / 2];  // a valid message with a few octets flipped
      for (int k = 0; k < 3; ++k) {
        m[std::uniform_int_distribution<std::size_t>(0, m.size() - 1)(rng)] =
            static_cast<unsigned char>(byte(rng));
      }
    }
    (void)answer_ttl(m);
    (void)negative_ttl(m);
    (void)tlsa_records(m);
  }
}

TEST(WireTest, ReverseNames) {
  struct Case {
    const char* addr;
    const char* want;
  };
  for (const Case& c : {
           Case{"192.0.2.1", "1.2.0.192.in-addr.arpa"},
           Case{"127.0.0.10", "10.0.0.127.in-addr.arpa"},
           Case{"2001:db8::567:89ab",
                "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
       }) {
    EXPECT_EQ(reverse_name(boost::asio::ip::make_address(c.addr)), c.want);
  }
}

}  // namespace
}  // namespace hk::dns
