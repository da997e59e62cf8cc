// SRS0/SRS1 rewriting and its reverse.
#include "lib/srs/srs.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <utility>

#include "lib/base/ascii.hpp"
#include "lib/base/base64.hpp"
#include "lib/base/domain_name.hpp"

namespace hk::srs {
namespace {

// RFC 4648 §6.
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool is_separator(char c) { return c == '=' || c == '+' || c == '-'; }

// "SRS0" or "SRS1" (any case) and a separator: 0 or 1, else -1.
int srs_kind(std::string_view local) {
  if (local.size() < 5 || !base::istarts_with(local, "SRS") || !is_separator(local[4])) {
    return -1;
  }
  return local[3] == '0' ? 0 : local[3] == '1' ? 1 : -1;
}

struct Split {
  std::string_view local, domain;
};

Split split_address(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) {
    return {address, {}};
  }
  return {address.substr(0, at), address.substr(at + 1)};
}

// SRS1 = HHHH "=" first-domain "=" rest, after "SRS1" and its separator; rest begins with the
// SRS0 separator of the first forwarder. False when `body` is not in that form.
struct Srs1Parts {
  std::string_view hash, first, rest;
};
bool parse_srs1(std::string_view body, Srs1Parts& out) {
  size_t h = body.find('=');
  if (h == std::string_view::npos) {
    return false;
  }
  size_t f = body.find('=', h + 1);
  if (f == std::string_view::npos) {
    return false;
  }
  out.hash = body.substr(0, h);
  out.first = body.substr(h + 1, f - h - 1);
  out.rest = body.substr(f + 1);
  return !out.hash.empty() && !out.first.empty() && out.rest.size() >= 2 &&
         is_separator(out.rest.front());
}

Result fail(Error e) { return {std::string(), e}; }

}  // namespace

std::string_view to_string(Error e) {
  switch (e) {
    case Error::None:
      return "ok";
    case Error::NotSrs:
      return "not an SRS address";
    case Error::Malformed:
      return "malformed";
    case Error::BadHash:
      return "bad hash";
    case Error::Expired:
      return "expired";
    case Error::Unsupported:
      return "unsupported sender";
    case Error::TooLong:
      return "too long";
  }
  return "?";
}

int64_t day_of(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  // Floor division, so that a time before 1970 (a broken clock) still maps to a day.
  return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

std::string encode_timestamp(int64_t day) {
  int64_t t = ((day % kTimestampDays) + kTimestampDays) % kTimestampDays;
  std::string out;
  out += kBase32[static_cast<size_t>(t >> 5)];
  out += kBase32[static_cast<size_t>(t & 31)];
  return out;
}

int64_t decode_timestamp(std::string_view tt) {
  if (tt.size() != 2) {
    return -1;
  }
  int64_t value = 0;
  for (char c : tt) {
    size_t pos = kBase32.find(base::to_upper(c));
    if (pos == std::string_view::npos) {
      return -1;
    }
    value = value * 32 + static_cast<int64_t>(pos);
  }
  return value;
}

bool is_srs(std::string_view local) { return srs_kind(local) >= 0; }

Codec::Codec(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}

std::string Codec::hash_with(const std::string& secret, std::string_view text) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), md.data(), &len);
  return base::base64_encode(std::span<const unsigned char>(md.data(), len)).substr(0, kHashLength);
}

bool Codec::hash_ok(std::string_view given, std::string_view text) const {
  if (given.size() != kHashLength) {
    return false;
  }
  bool ok = false;
  for (const std::string& secret : secrets_) {
    // Case-insensitive: the local part may have been case-folded on the way back. Every
    // character and every secret is compared, so the time taken says nothing about the hash.
    std::string want = hash_with(secret, text);
    unsigned diff = 0;
    for (size_t i = 0; i < kHashLength; ++i) {
      diff |= static_cast<unsigned char>(base::to_lower(given[i]) ^ base::to_lower(want[i]));
    }
    ok = ok || diff == 0;
  }
  return ok;
}

Result Codec::forward(std::string_view sender, std::string_view our_domain, int64_t day) const {
  auto [local, domain] = split_address(sender);
  if (local.empty() || domain.empty() || local.front() == '"') {
    // A quoted local part ("john doe"@x) cannot be carried inside a dot-atom; the mail goes
    // with its sender unchanged.
    return fail(Error::Unsupported);
  }
  std::string out;
  int kind = srs_kind(local);
  Srs1Parts srs1;
  if (kind >= 0 && base::iequals(domain, our_domain)) {
    return {std::string(sender), Error::None};  // ours already: its bounce comes to us
  }
  if (kind == 0) {
    // Another forwarder's SRS0: we keep its opaque part and add where to send it back.
    std::string_view rest = local.substr(4);
    std::string text = std::string(domain) + "=" + std::string(rest);
    out = "SRS1=" + hash(base::to_lower(text)) + "=" + text;
  } else if (kind == 1 && parse_srs1(local.substr(5), srs1)) {
    // Another forwarder's SRS1: the first forwarder stays where bounces go.
    std::string text = std::string(srs1.first) + "=" + std::string(srs1.rest);
    out = "SRS1=" + hash(base::to_lower(text)) + "=" + text;
  } else {
    std::string text = encode_timestamp(day) + "=" + std::string(domain) + "=" + std::string(local);
    out = "SRS0=" + hash(base::to_lower(text)) + "=" + text;
  }
  if (out.size() > kMaxLocalPart) {
    return fail(Error::TooLong);
  }
  return {out + "@" + std::string(our_domain), Error::None};
}

Result Codec::reverse(std::string_view local, int64_t day, int64_t max_age_days) const {
  int kind = srs_kind(local);
  if (kind < 0) {
    return fail(Error::NotSrs);
  }
  if (local[4] != '=') {
    return fail(Error::Malformed);  // we write '=' only: another separator is not ours
  }
  std::string_view body = local.substr(5);
  if (kind == 1) {
    Srs1Parts p;
    if (!parse_srs1(body, p) || !base::is_domain_name(p.first)) {
      return fail(Error::Malformed);
    }
    std::string text = std::string(p.first) + "=" + std::string(p.rest);
    if (!hash_ok(p.hash, base::to_lower(text))) {
      return fail(Error::BadHash);
    }
    return {"SRS0" + std::string(p.rest) + "@" + std::string(p.first), Error::None};
  }
  // HHHH=TT=domain=local; the original local part may hold '=' itself, the domain cannot.
  size_t h = body.find('=');
  if (h == std::string_view::npos || body.size() < h + 4 || body[h + 3] != '=') {
    return fail(Error::Malformed);
  }
  std::string_view hash_given = body.substr(0, h);
  std::string_view text = body.substr(h + 1);
  std::string_view tt = text.substr(0, 2);
  std::string_view rest = text.substr(3);
  size_t d = rest.find('=');
  if (d == std::string_view::npos || d == 0 || d + 1 == rest.size()) {
    return fail(Error::Malformed);
  }
  std::string_view domain = rest.substr(0, d);
  std::string_view orig_local = rest.substr(d + 1);
  int64_t stamp = decode_timestamp(tt);
  if (stamp < 0 || !base::is_domain_name(domain)) {
    return fail(Error::Malformed);
  }
  if (!hash_ok(hash_given, base::to_lower(text))) {
    return fail(Error::BadHash);
  }
  // Ages are known modulo 1024 days: a stamp "from the future" (up to 1023 days ahead) reads
  // as very old, and is refused as expired.
  int64_t today = ((day % kTimestampDays) + kTimestampDays) % kTimestampDays;
  int64_t age = ((today - stamp) % kTimestampDays + kTimestampDays) % kTimestampDays;
  if (age > max_age_days) {
    return fail(Error::Expired);
  }
  return {std::string(orig_local) + "@" + std::string(domain), Error::None};
}

}  // namespace hk::srs
