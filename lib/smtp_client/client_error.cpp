// The error_category of ClientErrc.
#include "lib/smtp_client/client_error.hpp"

#include <string>

namespace hk::delivery {
namespace {

// boost::system::error_category's destructor is protected and non-virtual by design (categories
// are never deleted through a base pointer); GCC's -Wnon-virtual-dtor still flags every subclass.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class ClientCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hk.smtp-client"; }
  std::string message(int ev) const override {
    switch (static_cast<ClientErrc>(ev)) {
      case ClientErrc::Rejected:
        return "rejected by the server";
      case ClientErrc::ProtocolError:
        return "SMTP protocol error";
      case ClientErrc::TlsUnavailable:
        return "TLS required but not available";
      case ClientErrc::TlsFailed:
        return "TLS handshake failed";
      case ClientErrc::TlsUnverified:
        return "TLS certificate not verified";
      case ClientErrc::AuthUnavailable:
        return "no usable AUTH mechanism offered";
      case ClientErrc::AuthRefusedPlaintext:
        return "AUTH refused without TLS";
      case ClientErrc::AuthFailed:
        return "authentication failed";
      case ClientErrc::NotConnected:
        return "not connected";
    }
    return "unknown SMTP client error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

}  // namespace hk::delivery
