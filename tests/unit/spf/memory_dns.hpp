// MemoryDns: a dns::Lookup serving zone data from memory, with the openspf suite's rules.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lib/dns/lookup.hpp"

namespace hk::spf::test {

// Records keep their order: a "TIMEOUT" entry makes a query time out unless a record of the
// queried type comes before it. Absent names are NXDOMAIN; names without the type are NODATA.
// CNAME records are followed (a loop is SERVFAIL). Answers carry no TTL: SPF does not cache.
class MemoryDns final : public dns::Lookup {
 public:
  struct Rr {
    std::string type;  // A AAAA MX PTR CNAME TXT TIMEOUT
    std::string value;
  };
  void add(const std::string& name, std::string type, std::string value);

  boost::asio::awaitable<dns::Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> a(std::string name) override;
  boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> aaaa(std::string name) override;
  boost::asio::awaitable<dns::Answer<dns::MxRecord>> mx(std::string name) override;
  boost::asio::awaitable<dns::Answer<std::string>> ptr(boost::asio::ip::address addr) override;
  // SPF never asks for TLSA and the suite has none: the answer is the name's NXDOMAIN, NODATA or
  // timeout, and Failed (not implemented) if a TLSA entry was added.
  boost::asio::awaitable<dns::Answer<dns::TlsaRecord>> tlsa(std::string name) override;

  // The values of `type` at `name`, or the error; synchronous, for the awaitables above.
  dns::Answer<std::string> lookup(std::string name, const std::string& type, int depth = 0) const;

 private:
  std::map<std::string, std::vector<Rr>> zone_;
};

}  // namespace hk::spf::test
