// Normalization and validation of local parts and domain names.
#include "domains/local_part.hpp"

#include <gtest/gtest.h>

namespace hk::domains {
namespace {

TEST(NormalizeLocal, Table) {
  struct Case {
    std::string_view in, out;
  } cases[] = {
      {"alice", "alice"},
      {"Alice", "alice"},
      {"ALICE", "alice"},
      {"john.smith", "johnsmith"},
      {"John.Smith", "johnsmith"},
      {"alice+news", "alice"},
      {"alice+news+more", "alice"},
      {"a.l.i.c.e+x.y", "alice"},
      {"+news", ""},
      {".", ""},
      {"\xc3\x9c"
       "ber.Alles",
       "\xc3\x9c"
       "beralles"},  // UTF-8 kept, ASCII lower-cased
      {"o'brien", "o'brien"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(normalize_local(c.in), c.out) << c.in;
  }
}

TEST(IsValidUserName, Table) {
  struct Case {
    std::string name;
    bool ok;
  } cases[] = {
      {"alice", true},
      {"John.Smith", true},
      {"o'brien", true},
      {"a-b_c=d", true},
      {"\xc3\xbc"
       "ser",
       true},  // "über"-like UTF-8
      {"", false},
      {".", false},
      {"a+b", false},
      {"a b", false},
      {"a@b", false},
      {"a:b", false},
      {"a,b", false},
      {"#a", false},
      {"*", false},
      {"a\"b", false},
      {"\xc3", false},          // truncated UTF-8
      {"\xc0\xaf", false},      // overlong
      {"\xed\xa0\x80", false},  // surrogate
      {std::string("a\0b", 3), false},
      {std::string(64, 'a'), true},
      {std::string(65, 'a'), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_user_name(c.name), c.ok) << c.name;
  }
}

TEST(IsValidDomainName, Table) {
  struct Case {
    std::string domain;
    bool ok;
  } cases[] = {
      {"example.com", true},
      {"localhost", true},
      {"xn--bcher-kva.example", true},
      {"a-b.example", true},
      {"123.example", true},
      {"", false},
      {".", false},
      {"..", false},
      {"example.com.", false},
      {".example.com", false},
      {"a..b", false},
      {"Example.com", false},  // callers lower-case first
      {"-a.example", false},
      {"a-.example", false},
      {"a_b.example", false},
      {"a/b", false},
      {"../etc", false},
      {std::string(63, 'a') + ".example", true},
      {std::string(64, 'a') + ".example", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_domain_name(c.domain), c.ok) << c.domain;
  }
  std::string long_name;
  for (int i = 0; i < 50; ++i) {
    long_name += "abcd.";
  }
  long_name += "com";  // 253 octets
  EXPECT_TRUE(is_valid_domain_name(long_name));
  EXPECT_FALSE(is_valid_domain_name("x" + long_name));
}

TEST(SplitAddress, Table) {
  auto a = split_address("Alice@Example.COM");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->local, "Alice");
  EXPECT_EQ(a->domain, "example.com");
  auto b = split_address("a@b@c.example");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->local, "a@b");
  EXPECT_EQ(b->domain, "c.example");
  EXPECT_FALSE(split_address("alice"));
  EXPECT_FALSE(split_address("@example.com"));
  EXPECT_FALSE(split_address("alice@"));
}

}  // namespace
}  // namespace hk::domains
