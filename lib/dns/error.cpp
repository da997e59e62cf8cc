// The hk::dns error_category and the mapping of c-ares status codes onto it.
#include "lib/dns/error.hpp"

#include <ares.h>

#include <string>

namespace hk::dns {

namespace {

// error_category's destructor is protected and non-virtual on purpose (a category is never
// deleted through a base pointer), which -Wnon-virtual-dtor still reports for every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hk::dns::error"; }

  std::string message(int ev) const override {
    switch (static_cast<Error>(ev)) {
      case Error::NxDomain:
        return "domain does not exist (NXDOMAIN)";
      case Error::NoData:
        return "no record of that type (NODATA)";
      case Error::ServFail:
        return "server failure (SERVFAIL)";
      case Error::Timeout:
        return "DNS query timed out";
      case Error::Refused:
        return "query refused (REFUSED)";
      case Error::Unreachable:
        return "DNS server unreachable";
      case Error::BadResponse:
        return "malformed DNS response";
      case Error::BadName:
        return "malformed domain name";
      case Error::Cancelled:
        return "DNS query cancelled";
      case Error::Failed:
        return "DNS query failed";
    }
    return "unknown DNS error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

Error error_from_ares(int status) noexcept {
  switch (status) {
    case ARES_ENOTFOUND:
      return Error::NxDomain;
    case ARES_ENODATA:
      return Error::NoData;
    case ARES_ESERVFAIL:
      return Error::ServFail;
    case ARES_ETIMEOUT:
      return Error::Timeout;
    case ARES_EREFUSED:
      return Error::Refused;
    case ARES_ECONNREFUSED:
    case ARES_EOF:
      return Error::Unreachable;
    case ARES_EBADRESP:
    case ARES_EFORMERR:
      return Error::BadResponse;
    case ARES_EBADNAME:
    case ARES_EBADQUERY:
    case ARES_EBADSTR:
      return Error::BadName;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return Error::Cancelled;
    default:
      return Error::Failed;
  }
}

bool is_permanent(const boost::system::error_code& ec) noexcept {
  return ec == Error::NxDomain || ec == Error::BadName;
}

}  // namespace hk::dns
