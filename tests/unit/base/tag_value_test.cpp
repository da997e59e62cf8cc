// Tests for parse_tag_list: the RFC 6376 grammar (DKIM, DMARC), the RFC 8461 one (MTA-STS) and
// the lenient and whitespace-stripping options the DKIM callers use.
#include "lib/base/tag_value.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::base {
namespace {

const TagListSyntax kStrict = {};
const TagListSyntax kLenient = {.lenient = true, .duplicates_allowed = true};
const TagListSyntax kKey = {.strip_value_whitespace = true};
const TagListSyntax kSts = {.grammar = TagGrammar::Rfc8461, .duplicates_allowed = true};

TEST(TagValue, Table) {
  const struct {
    const char* name;
    std::string text;
    TagListSyntax syntax;
    std::vector<Tag> tags;
    std::string error;  // empty: must parse
  } cases[] = {
      // RFC 6376 §3.2.
      {"one", "a=1", kStrict, {{"a", "1"}}, ""},
      {"trailing_semicolon", "a=1; b=2;", kStrict, {{"a", "1"}, {"b", "2"}}, ""},
      {"trailing_fws", "a=1;\r\n ", kStrict, {{"a", "1"}}, ""},
      {"fws_everywhere",
       " a \t=\r\n 1 2 ;\tb_2= x=y ",
       kStrict,
       {{"a", "1 2"}, {"b_2", "x=y"}},
       ""},
      {"empty_value", "a=; b=2", kStrict, {{"a", ""}, {"b", "2"}}, ""},
      {"empty_list", "", kStrict, {}, "empty tag-spec 1"},
      {"only_semicolon", ";", kStrict, {}, "empty tag-spec 1"},
      {"empty_middle", "a=1;;b=2", kStrict, {}, "empty tag-spec 2"},
      {"two_trailing", "a=1;;", kStrict, {}, "empty tag-spec 2"},
      {"no_equals", "a=1; junk", kStrict, {}, "tag-spec 2 has no \"=\""},
      {"name_digit_first", "1a=1", kStrict, {}, "bad tag name \"1a\""},
      {"name_hyphen", "a-b=1", kStrict, {}, "bad tag name \"a-b\""},
      {"name_empty", "=1", kStrict, {}, "bad tag name \"\""},
      {"value_control", "a=\x01", kStrict, {}, "bad value for tag \"a\""},
      {"value_8bit", "a=\xc3\xa9", kStrict, {}, "bad value for tag \"a\""},
      {"duplicate", "a=1; b=2; a=3", kStrict, {}, "duplicate tag \"a\""},
      {"names_case_sensitive", "a=1; A=2", kStrict, {{"a", "1"}, {"A", "2"}}, ""},
      // DMARC records (RFC 7489 §6.3, §6.4 and the examples of Appendix B).
      {"dmarc",
       "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com",
       kStrict,
       {{"v", "DMARC1"}, {"p", "none"}, {"rua", "mailto:dmarc-feedback@example.com"}},
       ""},
      {"dmarc_full",
       "v=DMARC1;p=quarantine; pct=50; ruf=mailto:a@example.com,mailto:b@example.net!10m; "
       "adkim=s;",
       kStrict,
       {{"v", "DMARC1"},
        {"p", "quarantine"},
        {"pct", "50"},
        {"ruf", "mailto:a@example.com,mailto:b@example.net!10m"},
        {"adkim", "s"}},
       ""},
      {"dmarc_duplicate_p", "v=DMARC1; p=none; p=reject", kStrict, {}, "duplicate tag \"p\""},
      // DKIM key records: whitespace inside p= goes (RFC 6376 §3.6.1).
      {"key_folded_p",
       "v=DKIM1; k=rsa; p=MIGf MA0G\r\n\tCSqG",
       kKey,
       {{"v", "DKIM1"}, {"k", "rsa"}, {"p", "MIGfMA0GCSqG"}},
       ""},
      // Lenient (DKIM-Signature d= and s=): nothing fails, specs without "=" are skipped.
      {"lenient_skips",
       "junk; d=a.test; ;; 1x y = v;",
       kLenient,
       {{"d", "a.test"}, {"1x y", "v"}},
       ""},
      {"lenient_duplicates", "d=a; d=b", kLenient, {{"d", "a"}, {"d", "b"}}, ""},
      {"lenient_empty", "", kLenient, {}, ""},
      {"lenient_anything", "=\x01", kLenient, {{"", "\x01"}}, ""},
      // RFC 8461 §3.1.
      {"sts",
       "v=STSv1; id=20160831085700Z;",
       kSts,
       {{"v", "STSv1"}, {"id", "20160831085700Z"}},
       ""},
      {"sts_wsp", "v=STSv1 ;\tid=abc ; ", kSts, {{"v", "STSv1"}, {"id", "abc"}}, ""},
      {"sts_ext_name", "e.x-t_1=v; 1e=v", kSts, {{"e.x-t_1", "v"}, {"1e", "v"}}, ""},
      {"sts_repeat", "a=1; a=2", kSts, {{"a", "1"}, {"a", "2"}}, ""},
      {"sts_no_space_before_eq", "id =1", kSts, {}, "bad tag name \"id \""},
      {"sts_no_space_after_eq", "id= 1", kSts, {}, "bad value for tag \"id\""},
      {"sts_crlf", "a=1;\r\nb=2", kSts, {}, "bad tag name \"\r\nb\""},
      {"sts_empty_value", "a=", kSts, {}, "bad value for tag \"a\""},
      {"sts_equals_in_value", "a=b=c", kSts, {}, "bad value for tag \"a\""},
      {"sts_name_33",
       std::string(33, 'n') + "=1",
       kSts,
       {},
       "bad tag name \"" + std::string(33, 'n') + "\""},
      {"sts_underscore_first", "_a=1", kSts, {}, "bad tag name \"_a\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TagList got = parse_tag_list(c.text, c.syntax);
    EXPECT_EQ(got.error, c.error);
    EXPECT_EQ(got.ok(), c.error.empty());
    EXPECT_EQ(got.tags, c.tags);
  }
}

TEST(TagValue, Find) {
  TagList list = parse_tag_list("d=a; s=b; d=c", kLenient);
  ASSERT_NE(list.find("d"), nullptr);
  EXPECT_EQ(*list.find("d"), "a");
  EXPECT_EQ(*list.find("s"), "b");
  EXPECT_EQ(list.find("D"), nullptr);
}

}  // namespace
}  // namespace hk::base
