// SRS0/SRS1: the forms, the hash (its case, its secrets), the dates (age, wrap-around) and the
// addresses refused, each with its reason.
#include "lib/srs/srs.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/base/ascii.hpp"

namespace hk::srs {
namespace {

constexpr int64_t kDay = 20000;  // 2024-10-04
constexpr int64_t kMaxAge = 21;

const Codec& codec() {
  static const Codec c({"0123456789abcdef-secret-one"});
  return c;
}

std::string local_of(const std::string& address) { return address.substr(0, address.rfind('@')); }

TEST(SrsTimestamp, Base32TwoCharactersWrapAt1024) {
  EXPECT_EQ(encode_timestamp(0), "AA");
  EXPECT_EQ(encode_timestamp(33), "BB");
  EXPECT_EQ(encode_timestamp(1023), "77");
  EXPECT_EQ(encode_timestamp(1024), "AA");
  EXPECT_EQ(decode_timestamp("77"), 1023);
  EXPECT_EQ(decode_timestamp("bb"), 33);  // case-insensitive
  EXPECT_EQ(decode_timestamp("A1"), -1);  // 0, 1, 8, 9 are not base32
  EXPECT_EQ(decode_timestamp("AAA"), -1);
  EXPECT_EQ(day_of(std::chrono::system_clock::time_point(std::chrono::seconds(86400 * 3 + 5))), 3);
}

TEST(SrsHash, IsHmacSha256InBase64) {
  // RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy
  // dog") = f7bc83f4…, base64 "97yD9DBT…".
  Codec c({"key"});
  EXPECT_EQ(c.hash("The quick brown fox jumps over the lazy dog"), "97yD");
}

TEST(SrsForward, MakesSrs0AndReverseGivesTheSenderBack) {
  Result f = codec().forward("alice@example.com", "fwd.example", kDay);
  ASSERT_TRUE(f.ok());
  std::string tt = encode_timestamp(kDay);
  std::string text = tt + "=example.com=alice";
  EXPECT_EQ(f.address, "SRS0=" + codec().hash(base::to_lower(text)) + "=" + text + "@fwd.example");
  Result r = codec().reverse(local_of(f.address), kDay, kMaxAge);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.address, "alice@example.com");
}

TEST(SrsReverse, HashComparedWithoutCase) {
  Result f = codec().forward("Alice.Smith@Example.com", "fwd.example", kDay);
  ASSERT_TRUE(f.ok());
  std::string local = local_of(f.address);
  std::string upper, lower;
  for (char ch : local) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  Result u = codec().reverse(upper, kDay, kMaxAge);
  ASSERT_TRUE(u.ok()) << to_string(u.error);
  EXPECT_EQ(u.address, "ALICE.SMITH@EXAMPLE.COM");
  Result l = codec().reverse(lower, kDay, kMaxAge);
  ASSERT_TRUE(l.ok()) << to_string(l.error);
  EXPECT_EQ(l.address, "alice.smith@example.com");
}

TEST(SrsReverse, ForgedHashIsRefused) {
  Result f = codec().forward("alice@example.com", "fwd.example", kDay);
  std::string local = local_of(f.address);
  local[5] = local[5] == 'Q' ? 'R' : 'Q';  // first hash character
  EXPECT_EQ(codec().reverse(local, kDay, kMaxAge).error, Error::BadHash);
  // The hash covers every part with its separators: the same hash over another split (or
  // another address) is no good.
  std::string text = encode_timestamp(kDay) + "=example.com=alice";
  std::string h = codec().hash(base::to_lower(text));
  EXPECT_EQ(
      codec()
          .reverse("SRS0=" + h + "=" + encode_timestamp(kDay) + "=example.co=malice", kDay, kMaxAge)
          .error,
      Error::BadHash);
  EXPECT_EQ(codec()
                .reverse("SRS0=" + h + "=" + encode_timestamp(kDay) + "=evil.example=alice", kDay,
                         kMaxAge)
                .error,
            Error::BadHash);
  // Another secret's hash.
  Codec other({"another-secret-entirely"});
  Result o = other.forward("alice@example.com", "fwd.example", kDay);
  EXPECT_EQ(codec().reverse(local_of(o.address), kDay, kMaxAge).error, Error::BadHash);
}

TEST(SrsReverse, AgeUpToMaxAgeThenExpired) {
  Result f = codec().forward("alice@example.com", "fwd.example", kDay);
  std::string local = local_of(f.address);
  EXPECT_TRUE(codec().reverse(local, kDay + kMaxAge, kMaxAge).ok());
  EXPECT_EQ(codec().reverse(local, kDay + kMaxAge + 1, kMaxAge).error, Error::Expired);
  EXPECT_EQ(codec().reverse(local, kDay + 500, kMaxAge).error, Error::Expired);
  // Dated tomorrow (a clock set back, or a forgery with a valid hash): reads as 1023 days old.
  EXPECT_EQ(codec().reverse(local, kDay - 1, kMaxAge).error, Error::Expired);
  // 1024 days later the stamp reads as new again: the wrap the two characters allow.
  EXPECT_TRUE(codec().reverse(local, kDay + kTimestampDays, kMaxAge).ok());
}

TEST(SrsReverse, AgeAcrossTheWrap) {
  const int64_t last = 2 * kTimestampDays - 1;  // stamp "77"
  Result f = codec().forward("alice@example.com", "fwd.example", last);
  ASSERT_NE(f.address.find("=77="), std::string::npos) << f.address;
  std::string local = local_of(f.address);
  EXPECT_TRUE(codec().reverse(local, last + 3, kMaxAge).ok());  // stamp "AC", age 3
  EXPECT_TRUE(codec().reverse(local, last + kMaxAge, kMaxAge).ok());
  EXPECT_EQ(codec().reverse(local, last + kMaxAge + 1, kMaxAge).error, Error::Expired);
}

TEST(SrsForward, LocalPartsWithSeparatorsRoundTrip) {
  for (const char* sender : {"a=b@example.com", "a+tag@example.com", "x=y=z+w@example.com",
                             "bounce-123-a=b.example@lists.example.net", "-lead@example.com"}) {
    Result f = codec().forward(sender, "fwd.example", kDay);
    ASSERT_TRUE(f.ok()) << sender;
    Result r = codec().reverse(local_of(f.address), kDay, kMaxAge);
    ASSERT_TRUE(r.ok()) << sender << ": " << to_string(r.error);
    EXPECT_EQ(r.address, sender);
  }
}

TEST(SrsForward, RefusesWhatItCannotCarry) {
  EXPECT_EQ(codec().forward("\"john doe\"@example.com", "fwd.example", kDay).error,
            Error::Unsupported);
  EXPECT_EQ(codec().forward("\"a=b\"@example.com", "fwd.example", kDay).error, Error::Unsupported);
  EXPECT_EQ(codec().forward("nodomain", "fwd.example", kDay).error, Error::Unsupported);
  EXPECT_EQ(codec().forward("@example.com", "fwd.example", kDay).error, Error::Unsupported);
  EXPECT_EQ(codec().forward("", "fwd.example", kDay).error, Error::Unsupported);
  std::string long_local(50, 'a');
  EXPECT_EQ(codec().forward(long_local + "@example.com", "fwd.example", kDay).error,
            Error::TooLong);
}

TEST(SrsForward, AnotherForwardersSrs0BecomesSrs1) {
  Codec theirs({"the-other-forwarders-secret"});
  Result first = theirs.forward("alice@example.com", "first.example", kDay);
  ASSERT_TRUE(first.ok());
  Result f = codec().forward(first.address, "fwd.example", kDay);
  ASSERT_TRUE(f.ok());
  std::string opaque = local_of(first.address).substr(4);  // "=HHHH=TT=example.com=alice"
  std::string text = "first.example=" + opaque;
  EXPECT_EQ(f.address, "SRS1=" + codec().hash(base::to_lower(text)) + "=" + text + "@fwd.example");
  EXPECT_NE(f.address.find("=first.example=="), std::string::npos);
  // Its bounce goes back to the first forwarder's SRS0 address, which that forwarder checks.
  Result r = codec().reverse(local_of(f.address), kDay + 400, kMaxAge);  // SRS1 has no date
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.address, first.address);
  Result back = theirs.reverse(local_of(r.address), kDay, kMaxAge);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.address, "alice@example.com");
}

TEST(SrsForward, AnotherForwardersSrs1KeepsTheFirstForwarder) {
  Codec theirs({"the-other-forwarders-secret"});
  Result srs0 = theirs.forward("alice@example.com", "first.example", kDay);
  Result srs1 = theirs.forward(srs0.address, "second.example", kDay);  // SRS0 elsewhere → SRS1
  ASSERT_TRUE(srs1.ok());
  ASSERT_EQ(srs1.address.rfind("SRS1=", 0), 0U);
  Result f = codec().forward(srs1.address, "fwd.example", kDay);
  ASSERT_TRUE(f.ok());
  std::string text = "first.example=" + local_of(srs0.address).substr(4);
  EXPECT_EQ(f.address, "SRS1=" + codec().hash(base::to_lower(text)) + "=" + text + "@fwd.example");
  Result r = codec().reverse(local_of(f.address), kDay, kMaxAge);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.address, srs0.address);
}

TEST(SrsForward, OurOwnSrsAddressStaysAsItIs) {
  Result f = codec().forward("alice@example.com", "fwd.example", kDay);
  Result again = codec().forward(f.address, "fwd.example", kDay + 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.address, f.address);
  Result upper_domain = codec().forward(local_of(f.address) + "@FWD.example", "fwd.example", kDay);
  EXPECT_EQ(upper_domain.address, local_of(f.address) + "@FWD.example");
}

TEST(SrsReverse, MalformedAndNotSrs) {
  EXPECT_EQ(codec().reverse("alice", kDay, kMaxAge).error, Error::NotSrs);
  EXPECT_EQ(codec().reverse("srs2=abcd=AA=x.com=a", kDay, kMaxAge).error, Error::NotSrs);
  EXPECT_EQ(codec().reverse("SRS0", kDay, kMaxAge).error, Error::NotSrs);
  for (const char* local :
       {"SRS0=", "SRS0=abcd", "SRS0=abcd=AA", "SRS0=abcd=AA=", "SRS0=abcd=AA=example.com",
        "SRS0=abcd=AA=example.com=", "SRS0=abcd=AA==alice", "SRS0=abcd=A1=example.com=alice",
        "SRS0=abcd=AAA=example.com=alice", "SRS0=abcd=AA=exa_mple.com=alice",
        "SRS0+abcd=AA=example.com=alice", "SRS1=abcd", "SRS1=abcd=first.example",
        "SRS1=abcd=first.example=", "SRS1=abcd=first.example=x", "SRS1==first.example==x"}) {
    EXPECT_EQ(codec().reverse(local, kDay, kMaxAge).error, Error::Malformed) << local;
  }
  // Well-formed, wrong hash length: a hash check, not a parse, refuses it.
  EXPECT_EQ(codec().reverse("SRS0=abcdef=AA=example.com=alice", kDay, kMaxAge).error,
            Error::BadHash);
}

TEST(SrsSecrets, EverySecretVerifiesTheFirstSigns) {
  Codec old_only({"old-secret-0123456789"});
  Codec rotated({"new-secret-0123456789", "old-secret-0123456789"});
  Codec new_only({"new-secret-0123456789"});
  Result before = old_only.forward("alice@example.com", "fwd.example", kDay);
  EXPECT_TRUE(rotated.reverse(local_of(before.address), kDay, kMaxAge).ok());
  EXPECT_EQ(new_only.reverse(local_of(before.address), kDay, kMaxAge).error, Error::BadHash);
  Result after = rotated.forward("alice@example.com", "fwd.example", kDay);
  EXPECT_TRUE(new_only.reverse(local_of(after.address), kDay, kMaxAge).ok());
  EXPECT_EQ(old_only.reverse(local_of(after.address), kDay, kMaxAge).error, Error::BadHash);
}

TEST(SrsIsSrs, PrefixesAndSeparators) {
  EXPECT_TRUE(is_srs("SRS0=x"));
  EXPECT_TRUE(is_srs("srs1=x"));
  EXPECT_TRUE(is_srs("SRS0+x"));
  EXPECT_TRUE(is_srs("SrS0-x"));
  EXPECT_FALSE(is_srs("SRS0"));
  EXPECT_FALSE(is_srs("SRS2=x"));
  EXPECT_FALSE(is_srs("SRS0.x"));
  EXPECT_FALSE(is_srs("alice"));
}

}  // namespace
}  // namespace hk::srs
