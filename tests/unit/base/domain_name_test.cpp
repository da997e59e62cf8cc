// lib/base/domain_name.hpp: the accepted set of each caller's DomainSyntax, pinned.
#include "lib/base/domain_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::base {
namespace {

// The syntaxes the callers use.
const DomainSyntax kDefault{};                             // LDH, 253
const DomainSyntax kConfig{.numeric_top_label = false};    // lib/config
const DomainSyntax kSmtp{.max_length = 255};               // lib/smtp
const DomainSyntax kLower{.chars = LabelChars::LdhLower};  // mta_sts, domains
const DomainSyntax kSpf{.chars = LabelChars::Any, .trailing_dot = true, .min_labels = 2};  // spf

std::string labels(int n, char c) {  // n labels of 63 "c", dot-separated
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += (i > 0 ? "." : "") + std::string(63, c);
  }
  return out;
}

TEST(DomainName, AcceptedSets) {
  const std::string l63 = std::string(63, 'a') + ".com";
  const std::string l64 = std::string(64, 'a') + ".com";
  const std::string n253 = labels(3, 'a') + "." + std::string(61, 'b');  // 253
  const std::string n254 = n253 + "b";
  const std::string n255 = n254 + "b";
  const std::string n256 = n255 + "b";
  struct Case {
    std::string name;
    bool def, config, smtp, lower, spf;
  };
  const Case cases[] = {
      {"example.com", true, true, true, true, true},
      {"Example.COM", true, true, true, false, true},
      {"localhost", true, true, true, true, false},
      {"a", true, true, true, true, false},
      {"xn--bcher-kva.example", true, true, true, true, true},
      {"a-b.c-d", true, true, true, true, true},
      {"-a.com", false, false, false, false, true},
      {"a-.com", false, false, false, false, true},
      {"a_b.com", false, false, false, false, true},
      {"_spf.example.com", false, false, false, false, true},
      {"a b.com", false, false, false, false, true},
      {"example.com.", false, false, false, false, true},
      {"example.com..", false, false, false, false, false},
      {".example.com", false, false, false, false, false},
      {"a..b", false, false, false, false, false},
      {"", false, false, false, false, false},
      {".", false, false, false, false, false},
      {"1.2.3.4", true, false, true, true, true},
      {"123", true, false, true, true, false},
      {"example.123", true, false, true, true, true},
      {"123.example", true, true, true, true, true},
      {"caf\xc3\xa9.example", false, false, false, false, true},
      {l63, true, true, true, true, true},
      {l64, false, false, false, false, false},
      {n253, true, true, true, true, true},
      {n253 + ".", false, false, false, false, true},
      {n254, false, false, true, false, false},
      {n255, false, false, true, false, false},
      {n256, false, false, false, false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_domain_name(c.name, kDefault), c.def) << c.name;
    EXPECT_EQ(is_domain_name(c.name, kConfig), c.config) << c.name;
    EXPECT_EQ(is_domain_name(c.name, kSmtp), c.smtp) << c.name;
    EXPECT_EQ(is_domain_name(c.name, kLower), c.lower) << c.name;
    EXPECT_EQ(is_domain_name(c.name, kSpf), c.spf) << c.name;
  }
}

}  // namespace
}  // namespace hk::base
