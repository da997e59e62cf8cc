// The Organizational Domain (RFC 7489 §3.2) through libpsl: the system's list and the file.
#include "lib/dmarc/org_domain.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace hk::dmarc {
namespace {

constexpr const char* kListFile = "/usr/share/publicsuffix/public_suffix_list.dat";

void expect_org_domains(const PublicSuffixList& psl) {
  struct Case {
    const char* name;
    const char* org;
  } cases[] = {
      {"example.com", "example.com"},
      {"mail.example.com", "example.com"},
      {"a.b.c.d.example.com", "example.com"},
      {"EXAMPLE.Com.", "example.com"},
      {"example.co.uk", "example.co.uk"},
      {"mail.example.co.uk", "example.co.uk"},
      {"deep.sub.example.co.uk", "example.co.uk"},
      {"co.uk", "co.uk"},  // a public suffix is its own Organizational Domain
      {"com", "com"},
      {"sub.dom.test", "dom.test"},  // an unknown TLD: the default rule "*"
      {"dom.test", "dom.test"},
      {"a.b.xn--55qx5d.cn", "b.xn--55qx5d.cn"},  // IDN suffixes as A-labels
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(psl.organizational_domain(c.name), c.org) << c.name << " from " << psl.source();
  }
}

TEST(DmarcOrgDomain, SystemList) { expect_org_domains(PublicSuffixList::system()); }

TEST(DmarcOrgDomain, ListFile) {
  ASSERT_TRUE(std::filesystem::exists(kListFile)) << "install Debian's publicsuffix package";
  std::unique_ptr<PublicSuffixList> psl = PublicSuffixList::load_file(kListFile);
  ASSERT_TRUE(psl);
  EXPECT_EQ(psl->source(), kListFile);
  expect_org_domains(*psl);
}

TEST(DmarcOrgDomain, MissingFile) {
  EXPECT_FALSE(PublicSuffixList::load_file("/nonexistent/public_suffix_list.dat"));
}

}  // namespace
}  // namespace hk::dmarc
