// AliasTable: the file format, normalized names, and errors with line numbers.
#include "domains/aliases.hpp"

#include <gtest/gtest.h>

#include "domains/domains_error.hpp"

namespace hk::domains {
namespace {

std::vector<std::string> targets_of(const AliasEntry* e) {
  std::vector<std::string> out;
  if (e != nullptr) {
    for (const auto& t : e->targets) {
      out.push_back(format_alias_target(t));
    }
  }
  return out;
}

TEST(AliasTable, Parses) {
  AliasTable t = AliasTable::parse(
      "# aliases\n"
      "\n"
      "Sales: alice, bob@Example.ORG   # the team\n"
      "  info.desk :sales\n"
      "postmaster: root+mail\n"
      "*: catchall@elsewhere.example\n"
      "o'brien: Remote.Part@x.example\n",
      "aliases");
  EXPECT_EQ(t.entries().size(), 5u);
  EXPECT_EQ(targets_of(t.find("sales")), (std::vector<std::string>{"alice", "bob@example.org"}));
  EXPECT_EQ(targets_of(t.find("infodesk")), (std::vector<std::string>{"sales"}));
  EXPECT_EQ(targets_of(t.find("postmaster")), (std::vector<std::string>{"root+mail"}));
  EXPECT_EQ(targets_of(t.catch_all()), (std::vector<std::string>{"catchall@elsewhere.example"}));
  // Remote local parts keep their case; domains are lower-cased.
  EXPECT_EQ(targets_of(t.find("o'brien")), (std::vector<std::string>{"Remote.Part@x.example"}));
  EXPECT_EQ(t.find("Sales"), nullptr);  // find() takes a normalized name
  EXPECT_EQ(t.find("*"), nullptr);      // the catch-all only through catch_all()
  EXPECT_EQ(t.find("nobody"), nullptr);
  EXPECT_EQ(t.find("sales")->line, 3);
}

TEST(AliasTable, EmptyAndCommentOnly) {
  EXPECT_TRUE(AliasTable::parse("", "a").entries().empty());
  EXPECT_TRUE(AliasTable::parse("# only\n\n", "a").entries().empty());
  EXPECT_EQ(AliasTable::parse("# only\n", "a").catch_all(), nullptr);
}

TEST(AliasTable, ErrorsNameFileAndLine) {
  struct Case {
    std::string_view text;
    std::string_view error;
  } cases[] = {
      {"sales alice\n", "f:1: expected \"name: target, target\", no ':' found"},
      {"# c\n\nsales:\n", "f:3: no targets for \"sales\""},
      {"sales: # nothing\n", "f:1: no targets for \"sales\""},
      {"sales: alice,\n", "f:1: empty target for \"sales\""},
      {"sales: alice,,bob\n", "f:1: empty target for \"sales\""},
      {"sales: alice bob\n", "f:1: invalid target \"alice bob\" for \"sales\""},
      {"sales: bob@\n", "f:1: invalid target \"bob@\" for \"sales\""},
      {"sales: @example.com\n", "f:1: invalid target \"@example.com\" for \"sales\""},
      {"sales: bob@exa_mple.com\n", "f:1: invalid target \"bob@exa_mple.com\" for \"sales\""},
      {"sales: *\n", "f:1: invalid target \"*\" for \"sales\""},
      {": alice\n", "f:1: invalid alias name \"\""},
      {"a b: alice\n", "f:1: invalid alias name \"a b\""},
      {"sales+x: alice\n", "f:1: invalid alias name \"sales+x\" ('+' starts a subaddress)"},
      {"sales: a\nx: b\nSa.les: c\n", "f:3: duplicate alias \"sales\" (first on line 1)"},
      {"*: a\n*: b\n", "f:2: duplicate alias \"*\" (first on line 1)"},
  };
  for (const auto& c : cases) {
    try {
      AliasTable::parse(c.text, "f");
      ADD_FAILURE() << "no error for: " << c.text;
    } catch (const DomainsError& e) {
      EXPECT_EQ(std::string_view(e.what()), c.error) << c.text;
    }
  }
}

TEST(AliasTable, FormatLineRoundTrips) {
  std::string error;
  auto targets = parse_alias_targets(" alice , bob@Example.org", error);
  ASSERT_TRUE(targets) << error;
  std::string line = format_alias_line("sales", *targets);
  EXPECT_EQ(line, "sales: alice, bob@example.org");
  AliasTable t = AliasTable::parse(line + "\n", "f");
  EXPECT_EQ(t.find("sales")->targets, *targets);
}

}  // namespace
}  // namespace hk::domains
