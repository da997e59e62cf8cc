// Reading TTLs and TLSA records from a raw DNS response, and reverse names. SECURITY: parses
// network input; each read checks the remaining length first and a malformed message yields
// nullopt, never a crash.
#include "lib/dns/wire.hpp"

#include <algorithm>
#include <cstddef>

namespace hk::dns {

namespace {

constexpr std::size_t kRrFixedSize = 10;       // TYPE, CLASS, TTL, RDLENGTH: RFC 1035 §4.1.3
constexpr std::size_t kQuestionFixedSize = 4;  // QTYPE, QCLASS: RFC 1035 §4.1.2
constexpr std::uint16_t kTypeSoa = 6;          // RFC 1035 §3.2.2
constexpr std::size_t kSoaFixedSize = 20;      // SERIAL .. MINIMUM: RFC 1035 §3.3.13
constexpr std::uint16_t kClassIn = 1;          // RFC 1035 §3.2.4
// Certificate usage, selector and matching type: one octet each (RFC 6698 §2.1).
constexpr std::size_t kTlsaFixedSize = 3;

// A cursor over the message that refuses to read past its end.
class Reader {
 public:
  explicit Reader(std::span<const unsigned char> msg) : msg_(msg) {}

  std::size_t pos() const { return pos_; }
  bool skip(std::size_t n) {
    if (msg_.size() - pos_ < n) {
      return false;
    }
    pos_ += n;
    return true;
  }
  std::optional<std::uint16_t> u16() {
    if (msg_.size() - pos_ < 2) {
      return std::nullopt;
    }
    auto v = static_cast<std::uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::optional<std::uint32_t> u32() {
    auto hi = u16();
    auto lo = u16();
    if (!hi || !lo) {
      return std::nullopt;
    }
    return (std::uint32_t{*hi} << 16) | *lo;
  }

  // Skips a possibly compressed domain name (RFC 1035 §4.1.4). A name ends at the root label
  // or at a pointer, so skipping never follows pointers and cannot loop.
  bool skip_name() {
    // RFC 1035 §2.3.4: at most 255 octets, so at most 128 labels; more means garbage.
    for (int labels = 0; labels < 128; ++labels) {
      if (pos_ >= msg_.size()) {
        return false;
      }
      unsigned char len = msg_[pos_];
      if (len == 0) {
        ++pos_;
        return true;
      }
      if ((len & 0xC0) == 0xC0) {
        return skip(2);
      }
      if ((len & 0xC0) != 0) {
        return false;  // the 01 and 10 label types are reserved (RFC 6891 §5)
      }
      if (!skip(std::size_t{len} + 1)) {
        return false;
      }
    }
    return false;
  }

 private:
  std::span<const unsigned char> msg_;
  std::size_t pos_ = 0;
};

// RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
std::uint32_t clamp_ttl(std::uint32_t ttl) { return (ttl & 0x80000000U) != 0 ? 0 : ttl; }

struct Counts {
  std::uint16_t qd = 0;
  std::uint16_t an = 0;
  std::uint16_t ns = 0;
};

// Reads the 12-octet header (RFC 1035 §4.1.1) and skips the question section, leaving the reader
// at the answers.
std::optional<Counts> skip_to_answers(Reader& r) {
  if (!r.skip(4)) {  // ID, flags
    return std::nullopt;
  }
  auto qd = r.u16();
  auto an = r.u16();
  auto ns = r.u16();
  if (!qd || !an || !ns || !r.skip(2)) {  // ARCOUNT is not needed
    return std::nullopt;
  }
  for (int i = 0; i < *qd; ++i) {
    if (!r.skip_name() || !r.skip(kQuestionFixedSize)) {
      return std::nullopt;
    }
  }
  return Counts{*qd, *an, *ns};
}

struct Rr {
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0;  // offset of RDATA in the message
  std::uint16_t rdlength = 0;
};

// Reads one resource record's fixed part and skips its RDATA.
std::optional<Rr> read_rr(Reader& r) {
  if (!r.skip_name()) {
    return std::nullopt;
  }
  auto type = r.u16();
  auto klass = r.u16();
  auto ttl = r.u32();
  auto rdlength = r.u16();
  if (!type || !klass || !ttl || !rdlength) {
    return std::nullopt;
  }
  Rr rr{*type, *klass, clamp_ttl(*ttl), r.pos(), *rdlength};
  if (!r.skip(*rdlength)) {
    return std::nullopt;
  }
  return rr;
}

}  // namespace

std::optional<std::uint32_t> answer_ttl(std::span<const unsigned char> msg) noexcept {
  Reader r(msg);
  auto counts = skip_to_answers(r);
  if (!counts || counts->an == 0) {
    return std::nullopt;
  }
  std::uint32_t ttl = UINT32_MAX;
  for (int i = 0; i < counts->an; ++i) {
    auto rr = read_rr(r);
    if (!rr) {
      return std::nullopt;
    }
    ttl = std::min(ttl, rr->ttl);
  }
  return ttl;
}

std::optional<std::uint32_t> negative_ttl(std::span<const unsigned char> msg) noexcept {
  Reader r(msg);
  auto counts = skip_to_answers(r);
  if (!counts) {
    return std::nullopt;
  }
  // A NODATA or NXDOMAIN answer may still carry the CNAME chain that led to the name.
  for (int i = 0; i < counts->an; ++i) {
    if (!read_rr(r)) {
      return std::nullopt;
    }
  }
  for (int i = 0; i < counts->ns; ++i) {
    auto rr = read_rr(r);
    if (!rr) {
      return std::nullopt;
    }
    if (rr->type != kTypeSoa) {
      continue;
    }
    // SOA RDATA: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM (RFC 1035 §3.3.13).
    Reader soa(msg.subspan(0, rr->rdata + rr->rdlength));
    if (!soa.skip(rr->rdata) || !soa.skip_name() || !soa.skip_name() ||
        !soa.skip(kSoaFixedSize - 4)) {
      return std::nullopt;
    }
    auto minimum = soa.u32();
    if (!minimum) {
      return std::nullopt;
    }
    return std::min(rr->ttl, clamp_ttl(*minimum));
  }
  return std::nullopt;
}

std::optional<std::vector<TlsaRecord>> tlsa_records(std::span<const unsigned char> msg) {
  Reader r(msg);
  auto counts = skip_to_answers(r);
  if (!counts) {
    return std::nullopt;
  }
  std::vector<TlsaRecord> out;
  for (int i = 0; i < counts->an; ++i) {
    auto rr = read_rr(r);
    if (!rr) {
      return std::nullopt;
    }
    if (rr->type != static_cast<std::uint16_t>(RecordType::Tlsa) || rr->klass != kClassIn) {
      continue;
    }
    if (rr->rdlength < kTlsaFixedSize) {
      return std::nullopt;
    }
    // read_rr() has checked that the RDATA lies inside the message.
    auto rdata = msg.subspan(rr->rdata, rr->rdlength);
    TlsaRecord t;
    t.usage = rdata[0];
    t.selector = rdata[1];
    t.matching_type = rdata[2];
    auto data = rdata.subspan(kTlsaFixedSize);
    t.data.assign(data.begin(), data.end());
    out.push_back(std::move(t));
  }
  return out;
}

bool authenticated_data(std::span<const unsigned char> msg) noexcept {
  return msg.size() >= 12 && (msg[3] & 0x20) != 0;  // RFC 1035 §4.1.1: byte 3 holds AD
}

std::string reverse_name(const boost::asio::ip::address& addr) {
  std::string out;
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    for (auto it = b.rbegin(); it != b.rend(); ++it) {
      out += std::to_string(*it);
      out += '.';
    }
    out += "in-addr.arpa";
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto b = addr.to_v6().to_bytes();
  for (auto it = b.rbegin(); it != b.rend(); ++it) {
    out += kHex[*it & 0x0F];
    out += '.';
    out += kHex[*it >> 4];
    out += '.';
  }
  out += "ip6.arpa";
  return out;
}

}  // namespace hk::dns
