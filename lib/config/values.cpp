// Scalar configuration values: sizes, durations, endpoints, CIDR networks, names, ${ENV}.
#include "lib/config/values.hpp"

#include <array>
#include <cstdlib>
#include <stdexcept>

#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"

namespace hk::config {
namespace {

namespace ip = boost::asio::ip;

using base::is_alpha;
using base::is_digit;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Reads a run of decimal digits at `pos` as an unsigned number; nullopt when there are none or
// the number does not fit in 64 bits.
struct Number {
  uint64_t value = 0;
  bool overflow = false;
  size_t digits = 0;
};
Number read_number(std::string_view s, size_t& pos) {
  Number n;
  while (pos < s.size() && is_digit(s[pos])) {
    const auto d = static_cast<uint64_t>(s[pos] - '0');
    if (n.value > (UINT64_MAX - d) / 10) {
      n.overflow = true;
    } else {
      n.value = n.value * 10 + d;
    }
    ++n.digits;
    ++pos;
  }
  return n;
}

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Largest first, so format_size finds the shortest spelling.
constexpr std::array<Unit, 8> kSizeUnits = {{
    {"TiB", 1ULL << 40},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
    {"GiB", 1ULL << 30},
    {"GB", 1000ULL * 1000 * 1000},
    {"MiB", 1ULL << 20},
    {"MB", 1000ULL * 1000},
    {"KiB", 1ULL << 10},
    {"KB", 1000ULL},
}};

// Largest first; a duration's units must appear in this order.
constexpr std::array<Unit, 5> kDurationUnits = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

bool prefix_equal(const unsigned char* a, const unsigned char* b, int prefix) {
  int i = 0;
  for (; prefix >= 8; prefix -= 8, ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  if (prefix == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xFF << (8 - prefix));
  return (a[i] & mask) == (b[i] & mask);
}

template <size_t N>
void clear_host_bits(std::array<unsigned char, N>& bytes, int prefix) {
  for (size_t i = 0; i < N; ++i) {
    const int bit = static_cast<int>(i) * 8;
    if (bit >= prefix) {
      bytes[i] = 0;
    } else if (prefix - bit < 8) {
      bytes[i] &= static_cast<unsigned char>(0xFF << (8 - (prefix - bit)));
    }
  }
}

ip::address unmap(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

std::optional<uint16_t> parse_port(std::string_view s) {
  size_t pos = 0;
  const Number n = read_number(s, pos);
  if (n.digits == 0 || pos != s.size() || n.overflow || n.value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(n.value);
}

std::optional<ip::address> parse_address(std::string_view s) {
  boost::system::error_code ec;
  ip::address a = ip::make_address(std::string(s), ec);
  if (ec) {
    return std::nullopt;
  }
  return a;
}

}  // namespace

std::string Endpoint::str() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

bool Cidr::contains(const boost::asio::ip::address& addr) const {
  const ip::address a = unmap(addr);
  if (a.is_v4() != net.is_v4()) {
    return false;
  }
  if (a.is_v4()) {
    return prefix_equal(a.to_v4().to_bytes().data(), net.to_v4().to_bytes().data(), prefix);
  }
  return prefix_equal(a.to_v6().to_bytes().data(), net.to_v6().to_bytes().data(), prefix);
}

std::string Cidr::str() const { return net.to_string() + "/" + std::to_string(prefix); }

uint64_t parse_size(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    throw std::invalid_argument("invalid size " + in_quotes(text) + ": " + std::string(why));
  };
  size_t pos = 0;
  const Number n = read_number(text, pos);
  if (n.digits == 0) {
    fail("expected a number of bytes or a number and a unit, such as \"50MiB\"");
  }
  while (pos < text.size() && text[pos] == ' ') {
    ++pos;
  }
  const std::string_view unit = text.substr(pos);
  uint64_t factor = 0;
  if (unit.empty() || unit == "B") {
    factor = 1;
  }
  for (const Unit& u : kSizeUnits) {
    if (unit == u.name) {
      factor = u.factor;
    }
  }
  if (factor == 0) {
    fail("unknown unit " + in_quotes(unit) + " (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)");
  }
  if (n.overflow || n.value > UINT64_MAX / factor) {
    fail("too large");
  }
  return n.value * factor;
}

std::string format_size(uint64_t bytes) {
  for (const Unit& u : kSizeUnits) {
    if (bytes >= u.factor && bytes % u.factor == 0) {
      return std::to_string(bytes / u.factor) + std::string(u.name);
    }
  }
  return std::to_string(bytes);
}

std::chrono::milliseconds parse_duration_ms(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    throw std::invalid_argument("invalid duration " + in_quotes(text) + ": " + std::string(why));
  };
  if (text.empty()) {
    fail("empty");
  }
  // Durations are capped far below what int64 milliseconds hold: 100 years is plenty.
  constexpr uint64_t kMaxMs = 100ULL * 365 * 86'400'000;
  uint64_t total = 0;
  size_t pos = 0;
  size_t next_unit = 0;  // index into kDurationUnits of the smallest unit still allowed
  while (pos < text.size()) {
    const Number n = read_number(text, pos);
    if (n.digits == 0) {
      fail("expected a number and a unit, such as \"30m\" or \"1h30m\"");
    }
    const size_t unit_start = pos;
    while (pos < text.size() && is_alpha(text[pos])) {
      ++pos;
    }
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    uint64_t factor = 0;
    if (unit.empty()) {
      // A bare number is seconds, but only on its own: "1h30" is more likely a mistake.
      if (unit_start != n.digits || pos != text.size()) {
        fail("missing unit after " + std::to_string(n.value) + " (use d, h, m, s or ms)");
      }
      factor = 1000;
      next_unit = kDurationUnits.size();
    } else {
      size_t i = 0;
      while (i < kDurationUnits.size() && kDurationUnits[i].name != unit) {
        ++i;
      }
      if (i == kDurationUnits.size()) {
        fail("unknown unit " + in_quotes(unit) + " (use d, h, m, s or ms)");
      }
      if (i < next_unit) {
        fail("units must go from largest to smallest, each at most once");
      }
      factor = kDurationUnits[i].factor;
      next_unit = i + 1;
    }
    if (n.overflow || n.value > kMaxMs / factor || total + n.value * factor > kMaxMs) {
      fail("too large");
    }
    total += n.value * factor;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::chrono::seconds parse_duration(std::string_view text) {
  const std::chrono::milliseconds ms = parse_duration_ms(text);
  if (ms.count() % 1000 != 0) {
    throw std::invalid_argument("invalid duration " + in_quotes(text) +
                                ": must be a whole number of seconds");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() <= 0) {
    return d.count() == 0 ? "0s" : std::to_string(d.count()) + "ms";
  }
  auto left = static_cast<uint64_t>(d.count());
  std::string out;
  for (const Unit& u : kDurationUnits) {
    if (left >= u.factor) {
      out += std::to_string(left / u.factor) + std::string(u.name);
      left %= u.factor;
    }
  }
  return out;
}

std::string format_duration(std::chrono::seconds d) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

Endpoint parse_endpoint(std::string_view text, std::optional<uint16_t> default_port) {
  const auto fail = [&](std::string_view why) {
    throw std::invalid_argument("invalid endpoint " + in_quotes(text) + ": " + std::string(why));
  };
  std::string_view host;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      fail("missing ']'");
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        fail("expected ':' and a port after ']'");
      }
      port = rest.substr(1);
    }
    const auto a = parse_address(host);
    if (!a || !a->is_v6()) {
      fail("not an IPv6 address inside [...]");
    }
  } else if (text.find(':') != text.rfind(':')) {
    // Two or more colons: a bare IPv6 address, which cannot carry a port without brackets.
    host = text;
    if (!parse_address(host)) {
      fail("not an IP address (an IPv6 address with a port is written [::1]:25)");
    }
  } else {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
    }
  }
  const auto addr = parse_address(host);
  if (!addr) {
    fail("not an IP address");
  }
  Endpoint e;
  e.host = addr->to_string();
  if (port) {
    const auto p = parse_port(*port);
    if (!p) {
      fail("port must be a number from 0 to 65535");
    }
    e.port = *p;
  } else if (default_port) {
    e.port = *default_port;
  } else {
    fail("missing port (write address:port, or [address]:port for IPv6)");
  }
  return e;
}

Cidr parse_cidr(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    throw std::invalid_argument("invalid network " + in_quotes(text) + ": " + std::string(why));
  };
  const size_t slash = text.find('/');
  const auto addr = parse_address(text.substr(0, slash));
  if (!addr) {
    fail("not an IP address");
  }
  const int max_prefix = addr->is_v4() ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    size_t pos = 0;
    const Number n = read_number(p, pos);
    if (n.digits == 0 || pos != p.size() || n.value > static_cast<uint64_t>(max_prefix)) {
      fail("prefix length must be a number from 0 to " + std::to_string(max_prefix));
    }
    prefix = static_cast<int>(n.value);
  }
  Cidr c{*addr, prefix};
  if (addr->is_v6() && addr->to_v6().is_v4_mapped() && prefix >= 96) {
    c = Cidr{unmap(*addr), prefix - 96};
  }
  ip::address masked;
  if (c.net.is_v4()) {
    auto bytes = c.net.to_v4().to_bytes();
    clear_host_bits(bytes, c.prefix);
    masked = ip::address_v4(bytes);
  } else {
    auto bytes = c.net.to_v6().to_bytes();
    clear_host_bits(bytes, c.prefix);
    masked = ip::address_v6(bytes, c.net.to_v6().scope_id());
  }
  if (masked != c.net) {
    fail("host bits are set (did you mean " + masked.to_string() + "/" + std::to_string(c.prefix) +
         "?)");
  }
  return c;
}

bool is_domain_name(std::string_view name) {
  return base::is_domain_name(name, {.numeric_top_label = false});
}

bool is_address_pattern(std::string_view pattern) {
  const size_t at = pattern.rfind('@');
  if (at == std::string_view::npos || at == 0) {
    return false;
  }
  const std::string_view user = pattern.substr(0, at);
  std::string_view domain = pattern.substr(at + 1);
  if (user != "*") {
    for (char ch : user) {
      if (ch <= ' ' || ch > '~' || ch == '@' || ch == '*') {
        return false;
      }
    }
  } else if (domain.starts_with("*.")) {
    domain.remove_prefix(2);
  }
  return is_domain_name(domain);
}

std::string expand_env(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      throw std::invalid_argument("a '$' must start ${NAME} or be doubled as $$ for a literal '$'");
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated ${ (write $$ for a literal '$')");
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    bool valid = !name.empty() && !is_digit(name.front());
    for (char c : name) {
      valid = valid && (is_alpha(c) || is_digit(c) || c == '_');
    }
    if (!valid) {
      throw std::invalid_argument("invalid environment variable name " + in_quotes(name));
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      throw std::invalid_argument("environment variable " + name + " is not set");
    }
    out += value;
    i = close;
  }
  return out;
}

}  // namespace hk::config
