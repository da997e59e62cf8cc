// The console's security decisions (security.hpp says what each guards against).
#include "daemon/console/security.hpp"

#include <openssl/crypto.h>

#include "lib/base/ascii.hpp"
#include "lib/base/base64.hpp"

namespace hk::console {

bool is_loopback(const boost::asio::ip::address& address) {
  if (address.is_v4()) {
    return (address.to_v4().to_uint() >> 24) == 127;
  }
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return (boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint() >> 24) ==
           127;
  }
  return v6.is_loopback();
}

std::string host_of(std::string_view field) {
  // Optional whitespace around a field value is not part of it (RFC 9110 §5.5).
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) {
    field.remove_prefix(1);
  }
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) {
    field.remove_suffix(1);
  }
  std::string_view host = field;
  std::string_view port;
  if (!field.empty() && field.front() == '[') {
    size_t close = field.find(']');
    if (close == std::string_view::npos) {
      return "";
    }
    host = field.substr(0, close + 1);
    std::string_view after = field.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return "";
      }
      port = after.substr(1);
    }
  } else {
    size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      host = field.substr(0, colon);
      port = field.substr(colon + 1);
    }
  }
  for (char c : port) {
    if (!base::is_digit(c)) {
      return "";
    }
  }
  if (host.empty() || host.find_first_of(" \t/\\@?#") != std::string_view::npos) {
    return "";
  }
  std::string out = base::to_lower(host);
  // "example.com." names the same host as "example.com" (RFC 1034 §3.1).
  if (out.size() > 1 && out.back() == '.' && out.front() != '[') {
    out.pop_back();
  }
  return out;
}

namespace {

// An allowed name in the form host_of() gives: lower case, IPv6 literals in brackets.
std::string normal_name(std::string_view name) {
  std::string out = base::to_lower(name);
  if (out.find(':') != std::string::npos && out.front() != '[') {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(out, ec);
    out = "[" + (ec ? out : addr.to_string()) + "]";
  }
  return out;
}

// The same IPv6 address however it is written ("[0:0::1]" is "[::1]").
std::string canonical_literal(const std::string& host) {
  if (host.size() > 2 && host.front() == '[') {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host.substr(1, host.size() - 2), ec);
    if (!ec) {
      return "[" + addr.to_string() + "]";
    }
  }
  return host;
}

}  // namespace

bool host_allowed(std::string_view host_field, const std::vector<std::string>& allowed,
                  std::string_view local_address) {
  const std::string host = canonical_literal(host_of(host_field));
  if (host.empty()) {
    return false;
  }
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") {
    return true;
  }
  if (!local_address.empty() && host == normal_name(local_address)) {
    return true;
  }
  for (const std::string& name : allowed) {
    if (!name.empty() && host == normal_name(name)) {
      return true;
    }
  }
  return false;
}

bool is_state_change(http::verb method) {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch ||
         method == http::verb::delete_;
}

bool from_browser(const Request& req) {
  if (req.find(http::field::origin) != req.end() || req.find(http::field::cookie) != req.end()) {
    return true;
  }
  auto site = req.find("Sec-Fetch-Site");
  return site != req.end() && !base::iequals(site->value(), "none");
}

bool csrf_ok(const Request& req, std::string_view token) {
  if (!is_state_change(req.method()) || !from_browser(req)) {
    return true;
  }
  auto given = req.find("X-CSRF-Token");
  if (given == req.end() || token.empty()) {
    return false;
  }
  std::string_view value = given->value();
  return value.size() == token.size() &&
         CRYPTO_memcmp(value.data(), token.data(), token.size()) == 0;
}

std::optional<BasicCredentials> parse_basic(std::string_view authorization) {
  // RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces before the credentials.
  if (authorization.size() < 6 || !base::iequals(authorization.substr(0, 5), "basic") ||
      authorization[5] != ' ') {
    return std::nullopt;
  }
  std::string_view b64 = authorization.substr(6);
  while (!b64.empty() && b64.front() == ' ') {
    b64.remove_prefix(1);
  }
  while (!b64.empty() && b64.back() == ' ') {
    b64.remove_suffix(1);
  }
  auto decoded = base::base64_decode(b64);
  if (!decoded) {
    return std::nullopt;
  }
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

Gate gate(bool host_ok, bool loopback, bool tls, bool password_configured) {
  if (!host_ok) {
    return Gate::BadHost;
  }
  if (loopback) {
    return Gate::Pass;
  }
  if (!tls) {
    return Gate::NeedTls;
  }
  if (!password_configured) {
    return Gate::NoPassword;
  }
  return Gate::NeedPassword;
}

void add_security_headers(Response& res) {
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (res.find(name) == res.end()) {
      res.set(name, value);
    }
  };
  set_default("Content-Security-Policy", kContentSecurityPolicy);
  set_default("X-Content-Type-Options", "nosniff");
  set_default("Referrer-Policy", "no-referrer");
  set_default("X-Frame-Options", "DENY");
  set_default("Cache-Control", "no-store");
}

}  // namespace hk::console
