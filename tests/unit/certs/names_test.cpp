// Tests for SNI host name matching (RFC 6125 §6.4).
#include "certs/names.hpp"

#include <gtest/gtest.h>

namespace hk::certs {
namespace {

struct MatchCase {
  const char* pattern;
  const char* host;
  NameMatch want;
};

TEST(MatchName, Table) {
  const MatchCase cases[] = {
      {"a.test", "a.test", NameMatch::Exact},
      {"a.test", "A.TeSt", NameMatch::Exact},
      {"A.TEST", "a.test", NameMatch::Exact},
      {"a.test", "a.test.", NameMatch::Exact},  // one trailing dot is the same name
      {"a.test", "b.test", NameMatch::None},
      {"a.test", "xa.test", NameMatch::None},
      {"a.test", "", NameMatch::None},
      {"", "a.test", NameMatch::None},
      {"*.b.test", "x.b.test", NameMatch::Wildcard},
      {"*.b.test", "MX.B.Test", NameMatch::Wildcard},
      {"*.b.test", "b.test", NameMatch::None},      // the wildcard needs a label
      {"*.b.test", "y.x.b.test", NameMatch::None},  // and stands for exactly one
      {"*.b.test", ".b.test", NameMatch::None},     // an empty label is not a label
      {"*.b.test", "xb.test", NameMatch::None},
      {"*.b.test", "*.b.test", NameMatch::Exact},
      {"*.test", "b.test", NameMatch::None},  // no wildcard over a whole top-level domain
      {"*.", "b.test", NameMatch::None},
      {"*", "b", NameMatch::None},
      {"x*.b.test", "xy.b.test", NameMatch::None},  // partial-label wildcards unsupported
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(match_name(c.pattern, c.host), c.want) << c.pattern << " vs " << c.host;
  }
}

struct PickCase {
  const char* host;
  int want;
};

TEST(PickIdentity, ExactBeforeWildcardThenFolderOrder) {
  const std::vector<std::vector<std::string>> ids = {
      {"*.b.test"},             // 0
      {"a.test", "mx.b.test"},  // 1
      {"c.test", "*.b.test"},   // 2
      {"a.test"},               // 3: shadowed by 1
  };
  const PickCase cases[] = {
      {"mx.b.test", 1},  // exact wins over the earlier wildcard
      {"x.b.test", 0},   // the first wildcard in folder order
      {"a.test", 1},     // the first exact match in folder order
      {"C.TEST", 2},    {"d.test", -1}, {"", -1},
  };
  for (const PickCase& c : cases) {
    EXPECT_EQ(pick_identity(ids, c.host), c.want) << c.host;
  }
  EXPECT_EQ(pick_identity({}, "a.test"), -1);
}

}  // namespace
}  // namespace hk::certs
