// Test support for hk_certs: in-process TLS handshakes.
#include "tests/unit/certs/test_support.hpp"

#include <openssl/bn.h>

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "certs/tls_context.hpp"
#include "lib/base/openssl.hpp"

namespace hk::certs::test {
namespace {

namespace asio = boost::asio;

constexpr auto kStepTimeout = std::chrono::seconds(10);

std::string describe(const boost::system::error_code& ec) {
  return ec ? ec.message() + " (" + ec.category().name() + ")" : std::string();
}

}  // namespace

TlsPair::TlsPair(std::shared_ptr<asio::ssl::context> server_ctx, const ClientOptions& opt)
    : server_ctx_(std::move(server_ctx)), client_ctx_(asio::ssl::context::tls_client) {
  SSL_CTX* c = client_ctx_.native_handle();
  if (opt.min_version != 0 || opt.max_version != 0) {
    // Old protocol versions need security level 0 on the client to be offered at all.
    SSL_CTX_set_security_level(c, 0);
    SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(c, opt.min_version);
    SSL_CTX_set_max_proto_version(c, opt.max_version);
  }
  asio::local::stream_protocol::socket a(io_);
  asio::local::stream_protocol::socket b(io_);
  asio::local::connect_pair(a, b);
  server_ = std::make_unique<Stream>(std::move(a), *server_ctx_);
  client_ = std::make_unique<Stream>(std::move(b), client_ctx_);
  if (!opt.sni.empty()) {
    // SSL_set_tlsext_host_name() spelled out: the macro's C-style cast fails -Wold-style-cast.
    SSL_ctrl(client_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(opt.sni.c_str()));
  }
}

TlsPair::~TlsPair() = default;

Seen TlsPair::handshake() {
  Seen seen;
  int done = 0;
  // A failed side closes its socket so that the other side sees the end instead of waiting.
  server_->async_handshake(Stream::server, [&](const boost::system::error_code& ec) {
    seen.server_error = describe(ec);
    if (ec) {
      server_->lowest_layer().close();
    }
    ++done;
  });
  client_->async_handshake(Stream::client, [&](const boost::system::error_code& ec) {
    seen.client_error = describe(ec);
    if (ec) {
      client_->lowest_layer().close();
    }
    ++done;
  });
  io_.restart();
  io_.run_for(kStepTimeout);
  if (done != 2) {
    seen.client_error += " [handshake timed out]";
    return seen;
  }
  if (!seen.ok()) {
    return seen;
  }
  SSL* ssl = client_->native_handle();
  base::X509Ptr peer(SSL_get1_peer_certificate(ssl));
  if (peer) {
    seen.names = certificate_names(peer.get());
    std::unique_ptr<BIGNUM, base::Free<BN_free>> bn(
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer.get()), nullptr));
    char* hex = BN_bn2hex(bn.get());
    seen.serial = hex == nullptr ? "" : hex;
    OPENSSL_free(hex);
  }
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  seen.chain_length = chain == nullptr ? 0 : sk_X509_num(chain);
  seen.version = SSL_version(ssl);
  SSL_SESSION* session = SSL_get_session(ssl);
  seen.ticket = session != nullptr && SSL_SESSION_has_ticket(session) == 1;
  return seen;
}

std::string TlsPair::client_to_server(const std::string& text) {
  std::string got(text.size(), '\0');
  boost::system::error_code write_ec;
  boost::system::error_code read_ec;
  asio::async_write(*client_, asio::buffer(text),
                    [&](const boost::system::error_code& ec, size_t) { write_ec = ec; });
  asio::async_read(*server_, asio::buffer(got),
                   [&](const boost::system::error_code& ec, size_t) { read_ec = ec; });
  io_.restart();
  io_.run_for(kStepTimeout);
  if (write_ec || read_ec) {
    return "error: " + describe(write_ec) + describe(read_ec);
  }
  return got;
}

Seen handshake(std::shared_ptr<asio::ssl::context> server_ctx, const ClientOptions& opt) {
  TlsPair pair(std::move(server_ctx), opt);
  return pair.handshake();
}

}  // namespace hk::certs::test
