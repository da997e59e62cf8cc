// Runs the openspf RFC 7208 test suite (rfc7208-tests.tsv, made by suite_to_json.py) against
// check_host() over MemoryDns.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lib/spf/check_host.hpp"
#include "tests/support/run.hpp"
#include "tests/unit/spf/memory_dns.hpp"

namespace hk::spf::test {
namespace {

namespace asio = boost::asio;

// Suite tests that this evaluator does not pass, with the reason. Keep it tiny.
struct KnownFailure {
  std::string_view name;
  std::string_view reason;
};
constexpr KnownFailure kKnownFailures[] = {
    {"v-macro-ip6",
     "expects %{ir} nibbles in upper case, as the host was written (CAFE:BABE::1); RFC 7208 "
     "§7.4's example and the ip6.arpa convention use lower case, as we do"},
};

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      out += n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto tab = line.find('\t', start);
    out.push_back(unescape(line.substr(start, tab == std::string::npos ? tab : tab - start)));
    if (tab == std::string::npos) {
      return out;
    }
    start = tab + 1;
  }
}

struct SuiteTest {
  std::string name, host, mailfrom, helo, explanation, spec;
  std::set<std::string> results;
};

struct Doc {
  std::string description;
  std::shared_ptr<MemoryDns> dns = std::make_shared<MemoryDns>();
  std::vector<SuiteTest> tests;
};

std::vector<Doc> load_suite() {
  std::ifstream in(std::string(HK_SPF_TEST_DIR) + "/rfc7208-tests.tsv");
  std::vector<Doc> docs;
  std::string line;
  while (std::getline(in, line)) {
    auto f = split_tabs(line);
    if (f[0] == "doc") {
      docs.emplace_back();
      docs.back().description = f.at(1);
    } else if (f[0] == "zone" && f.size() == 4) {
      docs.back().dns->add(f[1], f[2], f[3]);
    } else if (f[0] == "test" && f.size() == 8) {
      SuiteTest t{f[1], f[2], f[3], f[4], f[6], f[7], {}};
      std::stringstream rs(f[5]);
      for (std::string r; std::getline(rs, r, ',');) {
        t.results.insert(r);
      }
      docs.back().tests.push_back(std::move(t));
    }
  }
  return docs;
}

Outcome run(MemoryDns& dns, const SuiteTest& t) {
  asio::io_context io;
  std::string domain = t.mailfrom.empty() ? t.helo : t.mailfrom.substr(t.mailfrom.rfind('@') + 1);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(t.host, ec);
  std::optional<Outcome> result =
      hk::test::run(io, check_host(dns, ip, domain, t.mailfrom, t.helo, "localhost"));
  if (!result) {
    Outcome o;
    o.result = Result::PermError;
    o.problem = "exception";
    return o;
  }
  return *result;
}

bool known_failure(const std::string& name) {
  for (const auto& k : kKnownFailures) {
    if (k.name == name) {
      return true;
    }
  }
  return false;
}

TEST(SpfSuite, Rfc7208) {
  auto docs = load_suite();
  ASSERT_EQ(docs.size(), 16u);
  int total = 0;
  int passed = 0;
  for (const Doc& doc : docs) {
    for (const SuiteTest& t : doc.tests) {
      ++total;
      Outcome o = run(*doc.dns, t);
      std::string got(to_string(o.result));
      bool ok = t.results.count(got) > 0;
      if (ok && t.explanation != "-") {
        std::string want = t.explanation == "DEFAULT" ? "" : t.explanation;
        ok = o.explanation == want;
      }
      if (ok) {
        ++passed;
      } else if (!known_failure(t.name)) {
        ADD_FAILURE() << doc.description << " / " << t.name << " (" << t.spec << "): got " << got
                      << " [" << o.mechanism << "] '" << o.explanation << "' problem: " << o.problem
                      << "; want " << *t.results.begin() << " '" << t.explanation << "'";
      }
    }
  }
  std::cout << "RFC 7208 suite: " << passed << "/" << total << " passed\n";
  EXPECT_EQ(total, 203);
}

}  // namespace
}  // namespace hk::spf::test
