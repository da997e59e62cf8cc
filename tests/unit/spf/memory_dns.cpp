// MemoryDns: in-memory zone data for the SPF tests.
#include "tests/unit/spf/memory_dns.hpp"

#include <cctype>
#include <cstdlib>

#include "lib/dns/error.hpp"
#include "lib/dns/wire.hpp"

namespace hk::spf::test {

namespace asio = boost::asio;

namespace {

std::string key(std::string name) {
  if (!name.empty() && name.back() == '.') {
    name.pop_back();
  }
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

dns::Answer<asio::ip::address> to_addresses(const dns::Answer<std::string>& in) {
  dns::Answer<asio::ip::address> out;
  out.ec = in.ec;
  for (const auto& v : in.records) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(v, ec);
    if (!ec) {
      out.records.push_back(a);
    }
  }
  return out;
}

}  // namespace

void MemoryDns::add(const std::string& name, std::string type, std::string value) {
  zone_[key(name)].push_back({std::move(type), std::move(value)});
}

dns::Answer<std::string> MemoryDns::lookup(std::string name, const std::string& type,
                                           int depth) const {
  dns::Answer<std::string> out;
  if (depth > 8) {
    out.ec = dns::Error::ServFail;  // CNAME loop
    return out;
  }
  auto it = zone_.find(key(name));
  if (it == zone_.end()) {
    out.ec = dns::Error::NxDomain;
    return out;
  }
  for (const Rr& rr : it->second) {
    if (rr.type == "TIMEOUT") {
      if (out.records.empty()) {
        out.ec = dns::Error::Timeout;
      }
      return out;
    }
    if (rr.type == "CNAME" && type != "CNAME") {
      return lookup(rr.value, type, depth + 1);
    }
    if (rr.type == type) {
      out.records.push_back(rr.value);
    }
  }
  if (out.records.empty()) {
    out.ec = dns::Error::NoData;
  }
  return out;
}

asio::awaitable<dns::Answer<std::string>> MemoryDns::txt(std::string name) {
  co_return lookup(std::move(name), "TXT");
}

asio::awaitable<dns::Answer<asio::ip::address>> MemoryDns::a(std::string name) {
  auto out = to_addresses(lookup(std::move(name), "A"));
  co_return out;
}

asio::awaitable<dns::Answer<asio::ip::address>> MemoryDns::aaaa(std::string name) {
  auto out = to_addresses(lookup(std::move(name), "AAAA"));
  co_return out;
}

asio::awaitable<dns::Answer<dns::MxRecord>> MemoryDns::mx(std::string name) {
  auto in = lookup(std::move(name), "MX");
  dns::Answer<dns::MxRecord> out;
  out.ec = in.ec;
  for (const auto& v : in.records) {
    auto sp = v.find(' ');
    dns::MxRecord r;
    r.preference = static_cast<std::uint16_t>(std::atoi(v.substr(0, sp).c_str()));
    r.host = sp == std::string::npos ? std::string() : v.substr(sp + 1);
    out.records.push_back(r);
  }
  co_return out;
}

asio::awaitable<dns::Answer<std::string>> MemoryDns::ptr(asio::ip::address addr) {
  co_return lookup(dns::reverse_name(addr), "PTR");
}

asio::awaitable<dns::Answer<dns::TlsaRecord>> MemoryDns::tlsa(std::string name) {
  dns::Answer<dns::TlsaRecord> out;
  out.ec = lookup(std::move(name), "TLSA").ec;
  if (!out.ec) {
    out.ec = dns::Error::Failed;  // TLSA entries are not modelled, see the header
  }
  co_return out;
}

}  // namespace hk::spf::test
