// Tests for verify_message against a real DNS server (dnsmasq on loopback serving the keys), and
// for the pure parts: signature tag parsing, key record choice, Authentication-Results output.
#include "lib/dkim/verify_dns.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/clock.hpp"
#include "lib/dkim/auth_results.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dns/caching_resolver.hpp"
#include "lib/dns/resolver.hpp"
#include "tests/support/dns_servers.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/dns/options.hpp"

namespace hk::dkim {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;

// One key per selector, generated once for the whole binary.
const DkimKey& test_key(const std::string& selector, DkimAlgo algo) {
  static std::map<std::string, DkimKey> keys;
  auto it = keys.find(selector);
  if (it == keys.end()) {
    hk::test::TempDir dir;
    fs::path file = dir.write(selector + ".pem", generate_key_pem(algo));
    it = keys.emplace(selector, load_key(file, "example.test")).first;
  }
  return it->second;
}

const DkimKey& rsa_key() { return test_key("sel", DkimAlgo::Rsa2048); }
const DkimKey& ed_key() { return test_key("ed", DkimAlgo::Ed25519); }
const DkimKey& unpublished_key() { return test_key("gone", DkimAlgo::Ed25519); }

// --txt-record=NAME,STRING,STRING...: the value in character-strings of at most 250 octets
// (RFC 1035 §3.3.14 allows 255).
std::string txt_arg(const std::string& name, const std::string& value) {
  std::string arg = "--txt-record=" + name;
  for (size_t i = 0; i < value.size(); i += 250) {
    arg += ',' + value.substr(i, 250);
  }
  return arg;
}

// The DKIM keys of the tests, for dnsmasq to serve under "test" with TTL 300 s.
std::vector<std::string> key_records() {
  return {
      txt_arg("sel._domainkey.example.test", dns_txt_value(rsa_key())),
      txt_arg("ed._domainkey.example.test", dns_txt_value(ed_key())),
      // Two TXT records at the key name: only the DKIM one is the key.
      txt_arg("two._domainkey.example.test", "some unrelated text"),
      txt_arg("two._domainkey.example.test", dns_txt_value(rsa_key())),
      // A TXT record that is not a key.
      txt_arg("nokey._domainkey.example.test", "hello"),
  };
}

const std::string kMessage =
    "From: Alice <alice@example.test>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <1@example.test>\r\n"
    "\r\n"
    "Hello Bob.\r\n";

std::string signed_with(const std::vector<DkimKey>& keys, const std::string& message = kMessage) {
  static DkimSigner signer;
  std::vector<std::string> errors;
  std::string headers = sign_all(signer, message, keys, errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  return headers + message;
}

// Copies the selector's key under another selector name, so that signing uses that s=.
DkimKey renamed(const DkimKey& key, const std::string& selector) {
  DkimKey k = key;
  k.selector = selector;
  return k;
}

std::optional<std::vector<DkimVerifyResult>> verify(const std::string& server,
                                                    const std::string& message,
                                                    std::size_t max_signatures = 5,
                                                    std::chrono::milliseconds timeout = 2000ms,
                                                    asio::thread_pool* pool = nullptr) {
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), dns::test::options(server, timeout, 1));
  auto out = hk::test::run(io, verify_message(resolver, message, max_signatures, pool), 10s);
  hk::test::drain(io, 10ms);
  return out;
}

struct Expect {
  std::string result;
  std::string domain;
  std::string selector;
};

struct LiveCase {
  std::string name;
  std::string message;
  std::vector<Expect> expected;
  std::size_t max_signatures = 5;
};

TEST(VerifyDns, LiveTable) {
  dns::test::Dnsmasq server(key_records());
  ASSERT_NE(server.port(), 0) << "dnsmasq did not start";
  std::string tampered = signed_with({rsa_key()});
  tampered.replace(tampered.find("Hello Bob."), 10, "Hello Eve.");
  std::string two = signed_with({rsa_key(), ed_key()});
  std::vector<LiveCase> cases = {
      {"rsa_pass", signed_with({rsa_key()}), {{"pass", "example.test", "sel"}}},
      {"ed25519_pass", signed_with({ed_key()}), {{"pass", "example.test", "ed"}}},
      {"two_signatures", two, {{"pass", "example.test", "sel"}, {"pass", "example.test", "ed"}}},
      {"max_signatures", two, {{"pass", "example.test", "sel"}}, 1},
      {"tampered_body", tampered, {{"fail", "example.test", "sel"}}},
      {"missing_key", signed_with({unpublished_key()}), {{"permerror", "example.test", "gone"}}},
      {"txt_not_a_key",
       signed_with({renamed(rsa_key(), "nokey")}),
       {{"permerror", "example.test", "nokey"}}},
      {"key_among_other_txt",
       signed_with({renamed(rsa_key(), "two")}),
       {{"pass", "example.test", "two"}}},
      {"wrong_key_fails",
       signed_with({renamed(unpublished_key(), "ed")}),
       {{"fail", "example.test", "ed"}}},
      {"unsigned", kMessage, {{"none", "", ""}}},
      {"bad_selector",
       "DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=a/b; h=from; bh=x; b=y\r\n" + kMessage,
       {{"permerror", "example.test", "a/b"}}},
  };
  // Each case twice: hashing on the calling thread, and on a pool as the daemon does it.
  asio::thread_pool pool(2);
  for (asio::thread_pool* p : {static_cast<asio::thread_pool*>(nullptr), &pool}) {
    for (const LiveCase& c : cases) {
      SCOPED_TRACE(c.name + (p != nullptr ? " (pool)" : ""));
      auto results = verify(server.server(), c.message, c.max_signatures, 2000ms, p);
      ASSERT_TRUE(results.has_value());
      ASSERT_EQ(results->size(), c.expected.size());
      for (size_t i = 0; i < c.expected.size(); ++i) {
        EXPECT_EQ((*results)[i].result, c.expected[i].result) << (*results)[i].detail;
        EXPECT_EQ((*results)[i].domain, c.expected[i].domain);
        EXPECT_EQ((*results)[i].selector, c.expected[i].selector);
      }
    }
  }
  pool.join();
}

// verify_with_key with an index judges only that signature, with the key given.
TEST(VerifyDns, VerifyWithKeyIndex) {
  std::string two = signed_with({rsa_key(), ed_key()});
  struct Case {
    std::string key;
    std::size_t index;
    std::string result;
    std::string selector;
  };
  std::vector<Case> cases = {
      {dns_txt_value(rsa_key()), 0, "pass", "sel"},     {dns_txt_value(ed_key()), 1, "pass", "ed"},
      {dns_txt_value(ed_key()), 0, "permerror", "sel"},  // an Ed25519 key for an RSA signature
      {dns_txt_value(rsa_key()), 1, "permerror", "ed"}, {dns_txt_value(rsa_key()), 2, "none", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.index);
    DkimVerifyResult r = verify_with_key(two, c.key, c.index);
    EXPECT_EQ(r.result, c.result) << r.detail;
    EXPECT_EQ(r.selector, c.selector);
  }
  // The one-key form still verifies the first signature it can.
  EXPECT_EQ(verify_with_key(two, dns_txt_value(rsa_key())).result, "pass");
}

// The daemon fetches keys through the CachingResolver it shares with SPF and delivery: a key
// fetched once still verifies while its TTL lasts, after the DNS server has gone.
TEST(VerifyDns, KeysThroughTheCache) {
  std::optional<dns::test::Dnsmasq> server(std::in_place, key_records());
  ASSERT_NE(server->port(), 0) << "dnsmasq did not start";
  const std::string message = signed_with({rsa_key()});
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), dns::test::options(server->server(), 500ms, 1));
  base::ManualClock clock(base::TimePoint() + 1000000s);
  dns::CachingResolver cached(resolver, clock);
  for (const char* want : {"pass", "pass", "temperror"}) {
    SCOPED_TRACE(want);
    auto results = hk::test::run(io, verify_message(cached, message), 10s);
    ASSERT_TRUE(results.has_value());
    ASSERT_EQ(results->size(), 1u);
    EXPECT_EQ((*results)[0].result, want) << (*results)[0].detail;
    server.reset();
    clock.advance(150s);  // the second lookup is within the key's 300 s, the third past them
  }
  hk::test::drain(io, 10ms);
}

TEST(VerifyDns, DeadServerIsTemperror) {
  std::string message = signed_with({rsa_key()});
  // Nothing listens on this port: ICMP port unreachable.
  std::string closed = "127.0.0.1:" + std::to_string(hk::test::free_port());
  // A socket that never answers: timeout.
  dns::test::SilentServer silent;
  for (const std::string& server : {closed, silent.server()}) {
    SCOPED_TRACE(server);
    auto start = std::chrono::steady_clock::now();
    auto results = verify(server, message, 5, 200ms);
    ASSERT_TRUE(results.has_value());
    ASSERT_EQ(results->size(), 1u);
    EXPECT_EQ((*results)[0].result, "temperror") << (*results)[0].detail;
    EXPECT_EQ((*results)[0].selector, "sel");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  }
}

TEST(VerifyDns, FindSignatures) {
  struct Case {
    std::string name;
    std::string message;
    std::vector<SignatureTags> expected;
  };
  std::vector<Case> cases = {
      {"none", kMessage, {}},
      {"simple",
       "DKIM-Signature: v=1; d=example.org; s=sel; b=x\r\n" + kMessage,
       {{"example.org", "sel", true}}},
      {"folded_and_case",
       "dkim-signature: v=1; d=\r\n example.\r\n\torg ; s = s_1-a;\r\n b=x\r\n" + kMessage,
       {{"example.org", "s_1-a", true}}},
      {"missing_s",
       "DKIM-Signature: v=1; d=example.org\r\n" + kMessage,
       {{"example.org", "", false}}},
      {"bad_chars",
       "DKIM-Signature: d=exa$mple.org; s=sel\r\n" + kMessage,
       {{"exa$mple.org", "sel", false}}},
      {"double_dot", "DKIM-Signature: d=a..b; s=sel\r\n" + kMessage, {{"a..b", "sel", false}}},
      {"two",
       "DKIM-Signature: d=a.test; s=one\r\nDKIM-Signature: d=b.test; s=two\r\n" + kMessage,
       {{"a.test", "one", true}, {"b.test", "two", true}}},
      {"body_is_not_header", kMessage + "DKIM-Signature: d=a.test; s=x\r\n", {}},
      // Pinned behaviour of the tag-list reading: the first d= and s= win, entries without '='
      // are skipped, names are case-sensitive and trimmed, all whitespace leaves the value.
      {"duplicate_first_wins",
       "DKIM-Signature: d=a.test; d=b.test; s=x; s=y\r\n" + kMessage,
       {{"a.test", "x", true}}},
      {"junk_specs_skipped",
       "DKIM-Signature: junk; d=a.test; ;; s=x;\r\n" + kMessage,
       {{"a.test", "x", true}}},
      {"space_inside_value",
       "DKIM-Signature: d=ex ample.org;\ts\t=\tse l \r\n" + kMessage,
       {{"example.org", "sel", true}}},
      {"upper_case_names", "DKIM-Signature: D=a.test; S=x\r\n" + kMessage, {{"", "", false}}},
      {"name_with_space", "DKIM-Signature: x d=a.test; s=x\r\n" + kMessage, {{"", "x", false}}},
      {"equals_in_value",
       "DKIM-Signature: d=a=b.test; s=x\r\n" + kMessage,
       {{"a=b.test", "x", false}}},
      {"empty_name", "DKIM-Signature: =a.test; s=x\r\n" + kMessage, {{"", "x", false}}},
      // domainish: underscores, hyphens at label ends and long labels pass; dots at the ends fail.
      {"domainish_lenient",
       "DKIM-Signature: d=-a-.test; s=_s\r\n" + kMessage,
       {{"-a-.test", "_s", true}}},
      {"domainish_long_label",
       "DKIM-Signature: d=" + std::string(64, 'a') + ".test; s=s\r\n" + kMessage,
       {{std::string(64, 'a') + ".test", "s", true}}},
      {"domainish_leading_dot",
       "DKIM-Signature: d=.a.test; s=s.\r\n" + kMessage,
       {{".a.test", "s.", false}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<SignatureTags> got = find_signatures(c.message);
    ASSERT_EQ(got.size(), c.expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].domain, c.expected[i].domain);
      EXPECT_EQ(got[i].selector, c.expected[i].selector);
      EXPECT_EQ(got[i].valid, c.expected[i].valid);
    }
  }
}

TEST(VerifyDns, PickKeyRecord) {
  struct Case {
    std::vector<std::string> records;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{}, ""},
      {{"hello"}, ""},
      {{"v=spf1 -all", "v=DKIM1; k=rsa; p=AAA"}, "v=DKIM1; k=rsa; p=AAA"},
      {{"k=ed25519; p=BBB", "v=DKIM1; p=CCC"}, "k=ed25519; p=BBB"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(pick_key_record(c.records), c.expected);
  }
}

TEST(AuthResults, Table) {
  struct Case {
    std::string name;
    std::string authserv_id;
    std::vector<DkimVerifyResult> dkim;
    std::string spf_result;
    std::string spf_mailfrom;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"pass_and_spf",
       "mx.example.com",
       {{"pass", "example.org", "sel", "signature verified"}},
       "pass",
       "a@example.org",
       "Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=example.org "
       "header.s=sel;\r\n\tspf=pass smtp.mailfrom=a@example.org\r\n"},
      {"no_spf",
       "mx.example.com",
       {{"pass", "example.org", "sel", ""}},
       "",
       "",
       "Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=example.org "
       "header.s=sel\r\n"},
      {"none_result",
       "mx.example.com",
       {{"none", "", "", "no DKIM-Signature"}},
       "",
       "",
       "Authentication-Results: mx.example.com;\r\n\tdkim=none (no DKIM-Signature)\r\n"},
      {"two_and_reason",
       "mx",
       {{"fail", "a.test", "s1", "body hash mismatch"}, {"pass", "b.test", "s2", "ok"}},
       "softfail",
       "x@b.test",
       "Authentication-Results: mx;\r\n\tdkim=fail (body hash mismatch) header.d=a.test "
       "header.s=s1;\r\n\tdkim=pass header.d=b.test header.s=s2;\r\n\tspf=softfail "
       "smtp.mailfrom=x@b.test\r\n"},
      {"nothing", "mx", {}, "", "", "Authentication-Results: mx; none\r\n"},
      {"injection_stripped",
       "mx\r\nX-Evil: 1",
       {{"pass\r\n", "ex;ample\r\n.org", "s(e)l", "a)b\r\nX-Bad: (c"}},
       "pass\r\nX: y",
       "a@b;\r\nX-Evil: z",
       "Authentication-Results: mxX-Evil1;\r\n\tdkim=permerror (abX-Bad: c) header.d=example.org "
       "header.s=sel;\r\n\tspf=passXy smtp.mailfrom=a@bX-Evilz\r\n"},
      {"folds_long",
       "mx",
       {{"permerror", std::string(40, 'd') + ".test", std::string(30, 's'), "no key"}},
       "",
       "",
       "Authentication-Results: mx;\r\n\tdkim=permerror (no key)\r\n\theader.d=" +
           std::string(40, 'd') + ".test\r\n\theader.s=" + std::string(30, 's') + "\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string got = authentication_results(c.authserv_id, c.dkim, c.spf_result, c.spf_mailfrom);
    EXPECT_EQ(got, c.expected);
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] == '\r') {
        EXPECT_TRUE(got.compare(i, 3, "\r\n\t") == 0 || i + 2 == got.size());
      }
    }
  }
}

}  // namespace
}  // namespace hk::dkim
