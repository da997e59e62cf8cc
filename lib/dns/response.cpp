// The response parsers: c-ares' parsers for MX, A, AAAA, TXT and PTR, wire.cpp for the rest.
// SECURITY: parses DNS responses from the network, through c-ares' bounds-checked parsers and
// wire.cpp.
#include "lib/dns/response.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "lib/dns/ares.hpp"

namespace hk::dns {

namespace asio = boost::asio;

namespace {

int length(std::span<const unsigned char> msg) { return static_cast<int>(msg.size()); }

// A c-ares parser's refusal of a response that the server sent as a success: c-ares reports a
// malformed name or record as EBADNAME or EBADRESP alike, both a bad response here.
template <class T>
Answer<T> parse_failure(int status, std::span<const unsigned char> msg) {
  if (status == ARES_ENODATA || status == ARES_ENOMEM) {
    return failed_answer<T>(status, msg);  // no record of the type asked for (RFC 2308 §2.2)
  }
  Answer<T> a;
  a.ec = Error::BadResponse;
  return a;
}

// The parsers: each turns the response to a successful query into an Answer.

struct MxParser {
  using Record = MxRecord;

  Answer<MxRecord> operator()(std::span<const unsigned char> msg) const {
    ares_mx_reply* raw = nullptr;
    int status = ares_parse_mx_reply(msg.data(), length(msg), &raw);
    MxReplyPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<MxRecord>(status, msg);
    }
    Answer<MxRecord> a;
    for (const ares_mx_reply* r = raw; r != nullptr; r = r->next) {
      a.records.push_back({r->priority, r->host != nullptr ? r->host : ""});
    }
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

// c-ares reports A and AAAA TTLs itself (the smaller of the record's and its CNAMEs').
template <class AddrTtl, RecordType Type>
struct AddressParser {
  using Record = asio::ip::address;

  Answer<Record> operator()(std::span<const unsigned char> msg) const {
    // A record takes at least 12 octets plus its address (a compressed owner name is 2, the
    // fixed part 10: RFC 1035 §4.1.3), which bounds how many the message can hold.
    constexpr std::size_t kMinRecordSize = 12 + (Type == RecordType::A ? 4 : 16);
    std::vector<AddrTtl> ttls(msg.size() / kMinRecordSize + 1);
    int n = static_cast<int>(ttls.size());
    int status;
    if constexpr (Type == RecordType::A) {
      status = ares_parse_a_reply(msg.data(), length(msg), nullptr, ttls.data(), &n);
    } else {
      status = ares_parse_aaaa_reply(msg.data(), length(msg), nullptr, ttls.data(), &n);
    }
    if (status != ARES_SUCCESS) {
      return parse_failure<Record>(status, msg);
    }
    Answer<Record> a;
    std::uint32_t ttl = UINT32_MAX;
    for (int i = 0; i < std::clamp(n, 0, static_cast<int>(ttls.size())); ++i) {
      const AddrTtl& t = ttls[static_cast<std::size_t>(i)];
      if constexpr (Type == RecordType::A) {
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), &t.ipaddr, b.size());
        a.records.emplace_back(asio::ip::address_v4(b));
      } else {
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &t.ip6addr, b.size());
        a.records.emplace_back(asio::ip::address_v6(b));
      }
      ttl = std::min(ttl, static_cast<std::uint32_t>(std::max(t.ttl, 0)));
    }
    a.ttl = a.records.empty() ? 0 : ttl;
    return a;
  }
};

using AParser = AddressParser<ares_addrttl, RecordType::A>;
using AaaaParser = AddressParser<ares_addr6ttl, RecordType::Aaaa>;

struct TxtParser {
  using Record = std::string;

  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    ares_txt_ext* raw = nullptr;
    int status = ares_parse_txt_reply_ext(msg.data(), length(msg), &raw);
    TxtReplyPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<std::string>(status, msg);
    }
    // A TXT record is one or more character-strings (RFC 1035 §3.3.14); c-ares lists each
    // string and marks where a record starts. Users of TXT join them (RFC 7208 §3.3).
    Answer<std::string> a;
    for (const ares_txt_ext* r = raw; r != nullptr; r = r->next) {
      if (r->record_start != 0 || a.records.empty()) {
        a.records.emplace_back();
      }
      a.records.back().append(reinterpret_cast<const char*>(r->txt), r->length);
    }
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

struct PtrParser {
  using Record = std::string;
  asio::ip::address addr;

  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    hostent* raw = nullptr;
    int status;
    if (addr.is_v4()) {
      auto b = addr.to_v4().to_bytes();
      status = ares_parse_ptr_reply(msg.data(), length(msg), b.data(), static_cast<int>(b.size()),
                                    AF_INET, &raw);
    } else {
      auto b = addr.to_v6().to_bytes();
      status = ares_parse_ptr_reply(msg.data(), length(msg), b.data(), static_cast<int>(b.size()),
                                    AF_INET6, &raw);
    }
    HostentPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<std::string>(status, msg);
    }
    // c-ares puts one PTR target in h_name and every target in h_aliases.
    Answer<std::string> a;
    auto add = [&a](const char* name) {
      if (name != nullptr &&
          std::find(a.records.begin(), a.records.end(), name) == a.records.end()) {
        a.records.emplace_back(name);
      }
    };
    for (char** alias = raw->h_aliases; alias != nullptr && *alias != nullptr; ++alias) {
      add(*alias);
    }
    add(raw->h_name);
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

// c-ares 1.18 has no TLSA parser, so the raw answer section is read by wire.cpp.
struct TlsaParser {
  using Record = TlsaRecord;

  Answer<TlsaRecord> operator()(std::span<const unsigned char> msg) const {
    std::optional<std::vector<TlsaRecord>> records = tlsa_records(msg);
    Answer<TlsaRecord> a;
    if (!records) {
      a.ec = Error::BadResponse;
      return a;
    }
    if (records->empty()) {
      // Only a CNAME chain came back, as c-ares' own parsers report with ARES_ENODATA.
      return failed_answer<TlsaRecord>(ARES_ENODATA, msg);
    }
    a.records = std::move(*records);
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

}  // namespace

Answer<MxRecord> parse_mx_response(std::span<const unsigned char> msg) { return MxParser{}(msg); }

Answer<asio::ip::address> parse_a_response(std::span<const unsigned char> msg) {
  return AParser{}(msg);
}

Answer<asio::ip::address> parse_aaaa_response(std::span<const unsigned char> msg) {
  return AaaaParser{}(msg);
}

Answer<std::string> parse_txt_response(std::span<const unsigned char> msg) {
  return TxtParser{}(msg);
}

Answer<std::string> parse_ptr_response(std::span<const unsigned char> msg,
                                       const asio::ip::address& addr) {
  return PtrParser{addr}(msg);
}

Answer<TlsaRecord> parse_tlsa_response(std::span<const unsigned char> msg) {
  return TlsaParser{}(msg);
}

}  // namespace hk::dns
