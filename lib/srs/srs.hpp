// The Sender Rewriting Scheme: a forwarded message's envelope sender rewritten into an address of
// ours that names the original sender (SRS0) or the first forwarder (SRS1), signed with a keyed
// hash and dated, so that the forward passes SPF (RFC 7208 §1.1.1 "forwarding") and a bounce to
// it can be routed back, while nobody else can make us send mail to an address of their choice.
// Pure: strings and day numbers in, strings out; no I/O, no Asio.
//
// SECURITY: a valid SRS address makes us relay to the address it names, so it is only valid with
// a hash made with one of our secrets and, for SRS0, within max_age days. The hash is compared
// case-insensitively (MTAs may change the case of local parts), which leaves kHashLength base64
// characters about 21 bits: a forger needs on the order of a million RCPTs, each refused.
//
// The forms, as the common implementations write them (libsrs2, postsrsd):
//   SRS0=HHHH=TT=orig-domain=orig-local@our-domain
//   SRS1=HHHH=first-domain==HHHH=TT=orig-domain=orig-local@our-domain
// HHHH is the first kHashLength characters of base64(HMAC-SHA256(secret, text)) where text is
// what follows the hash and its '=' in lower case ("tt=orig-domain=orig-local",
// "first-domain==hhhh=tt=..."); the separators are hashed too, so that no part can borrow
// characters from its neighbour. TT is the day (days since 1970-01-01 UTC) modulo 1024 in two
// base32 characters (RFC 4648 §6 alphabet).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hk::srs {

inline constexpr size_t kHashLength = 4;
// Two base32 characters: timestamps wrap after 1024 days, so an age is known modulo 1024 and a
// max_age must stay well below it.
inline constexpr int64_t kTimestampDays = 1024;
inline constexpr int64_t kMaxAgeDaysLimit = 1000;
// RFC 5321 §4.5.3.1.1: 64 octets is the longest local part every server accepts (ours included);
// a rewrite that would be longer is not made.
inline constexpr size_t kMaxLocalPart = 64;

enum class Error {
  None,
  NotSrs,       // reverse(): not an SRS0/SRS1 local part at all
  Malformed,    // reverse(): SRS-shaped but not in the form above
  BadHash,      // reverse(): made without any of our secrets (forged or damaged)
  Expired,      // reverse(): SRS0 older than max_age days (or dated in the future)
  Unsupported,  // forward(): a quoted or empty local part, no domain: not rewritten
  TooLong,      // forward(): the rewritten local part would exceed kMaxLocalPart
};

// "bad hash", "expired", ...: the words logs and replies use.
std::string_view to_string(Error e);

struct Result {
  std::string address;  // local@domain when error is None
  Error error = Error::None;
  bool ok() const { return error == Error::None; }
};

// Days since 1970-01-01 UTC.
int64_t day_of(std::chrono::system_clock::time_point t);

// The two base32 characters of `day` (modulo 1024), and back (case-insensitive; -1 when not two
// base32 characters).
std::string encode_timestamp(int64_t day);
int64_t decode_timestamp(std::string_view tt);

// Whether `local` starts like an SRS address: "SRS0" or "SRS1" in any case followed by one of the
// separators implementations use ('=', '+', '-').
bool is_srs(std::string_view local);

class Codec {
 public:
  // `secrets`: the first makes new hashes, every one is accepted when checking (rotation). At
  // least one, none empty: the caller checks (SecretFile refuses such a file).
  explicit Codec(std::vector<std::string> secrets);

  // The sender to use when forwarding mail from `sender` ("local@domain") on `day`, at
  // `our_domain`:
  //   an ordinary address           -> SRS0=HHHH=TT=domain=local@our_domain
  //   SRS0…@another forwarder       -> SRS1=HHHH=forwarder==<rest of the SRS0 local part>@ours
  //   SRS1=HHHH=first==rest@another -> SRS1=HHHH'=first==rest@our_domain (first stays first)
  //   SRS0/SRS1 at our_domain       -> unchanged: bounces already come back to us
  // A quoted local part or one with no domain is Unsupported; a result longer than kMaxLocalPart
  // is TooLong. The null sender is the caller's business (never rewritten).
  Result forward(std::string_view sender, std::string_view our_domain, int64_t day) const;

  // The address a bounce to SRS local part `local` goes to, checked: SRS0 gives the original
  // sender (hash, then age against max_age_days on `day`), SRS1 gives the first forwarder's SRS0
  // address (hash only: that forwarder checks the age).
  Result reverse(std::string_view local, int64_t day, int64_t max_age_days) const;

  // The hash of `text` (already lower case) with the secret that signs (for tests and tools).
  std::string hash(std::string_view text) const { return hash_with(secrets_.front(), text); }

 private:
  std::string hash_with(const std::string& secret, std::string_view text) const;
  bool hash_ok(std::string_view given, std::string_view text) const;

  std::vector<std::string> secrets_;
};

}  // namespace hk::srs
