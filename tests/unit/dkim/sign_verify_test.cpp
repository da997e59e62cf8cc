// Tests for DkimSigner and verify_with_key, cross-checked with dkimpy as an independent verifier.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "lib/base/tag_value.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dkim/verify.hpp"
#include "tests/support/child.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/dkim/opendkim_reference.hpp"

namespace hk::dkim {
namespace {

namespace fs = std::filesystem;

// Keys are generated once per algorithm: RSA-3072 generation takes a while. The PEM text is kept
// for libopendkim's reference signer.
std::map<DkimAlgo, std::string>& test_pems() {
  static std::map<DkimAlgo, std::string> pems;
  return pems;
}

const DkimKey& test_key(DkimAlgo algo) {
  static std::map<DkimAlgo, DkimKey> keys;
  auto it = keys.find(algo);
  if (it == keys.end()) {
    hk::test::TempDir dir;
    test_pems()[algo] = generate_key_pem(algo);
    fs::path file =
        dir.write("example.org/dkim/" + std::string(algo_name(algo)) + ".pem", test_pems()[algo]);
    it = keys.emplace(algo, load_key(file, "example.org")).first;
  }
  return it->second;
}

const DkimSigner& signer() {
  static DkimSigner s;
  return s;
}

const std::string kPlain =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Hello Bob.\r\n";

struct MessageCase {
  std::string name;
  std::string message;
};

std::vector<MessageCase> message_cases() {
  return {
      {"plain", kPlain},
      {"long_lines",
       "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: " + std::string(900, 'x') +
           "\r\n\r\n" + std::string(990, 'y') + "\r\n" + std::string(2000, 'z') + "\r\n"},
      {"non_ascii_body",
       "From: alice@example.org\r\nTo: bob@example.net\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
       "Grüße aus Köln — 日本語のテキスト\r\n"},
      {"folded_headers",
       "From: Alice\r\n <alice@example.org>\r\nTo: bob@example.net,\r\n\tcarol@example.net\r\n"
       "Subject: a subject\r\n   folded  twice\r\n\t and again\r\n\r\nbody\r\n"},
      {"empty_body", "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: e\r\n\r\n"},
      {"no_separator", "From: alice@example.org\r\nSubject: only headers\r\n"},
      {"lf_only", "From: alice@example.org\nTo: bob@example.net\n\nline one\nline two\n"},
      {"trailing_blank_lines", "From: alice@example.org\r\n\r\nbody\r\n\r\n\r\n"},
  };
}

std::string sign_or_fail(const std::string& message, const DkimKey& key) {
  std::string error;
  std::optional<std::string> header = signer().sign(message, key, error);
  EXPECT_TRUE(header.has_value()) << error;
  return header.value_or("");
}

// Runs dkimpy on `message` with `record` as the DNS answer; true when it verifies.
bool dkimpy_verifies(const std::string& message, const std::string& record) {
  hk::test::TempDir dir;
  fs::path file = dir.write("message.eml", message);
  return hk::test::run_command({"/usr/bin/python3", HK_DKIMPY_VERIFY, record}, file) == 0;
}

struct Algo {
  DkimAlgo algo;
  std::string a_tag;
};

class SignVerifyTest : public ::testing::TestWithParam<Algo> {};

TEST_P(SignVerifyTest, EveryMessageShapeVerifies) {
  const DkimKey& key = test_key(GetParam().algo);
  for (const MessageCase& c : message_cases()) {
    SCOPED_TRACE(c.name);
    std::string header = sign_or_fail(c.message, key);
    EXPECT_TRUE(header.starts_with("DKIM-Signature: v=1;")) << header;
    EXPECT_TRUE(header.ends_with("\r\n"));
    EXPECT_NE(header.find("a=" + GetParam().a_tag), std::string::npos) << header;
    EXPECT_NE(header.find("c=relaxed/relaxed"), std::string::npos) << header;
    EXPECT_NE(header.find("d=example.org"), std::string::npos) << header;
    // Folded with CRLF + whitespace only: no bare LF and no line over RFC 5322 §2.1.1's 78.
    size_t line_start = 0;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == '\n') {
        EXPECT_EQ(header[i - 1], '\r');
        EXPECT_LE(i - 1 - line_start, 78u) << header;
        line_start = i + 1;
      }
    }
    DkimVerifyResult r = verify_with_key(header + c.message, dns_txt_value(key));
    EXPECT_EQ(r.result, "pass") << r.detail;
    EXPECT_EQ(r.domain, "example.org");
    EXPECT_EQ(r.selector, key.selector);
  }
}

TEST_P(SignVerifyTest, FromIsOversigned) {
  std::string header = sign_or_fail(kPlain, test_key(GetParam().algo));
  std::string unfolded;
  for (char ch : header) {
    if (ch != '\r' && ch != '\n' && ch != '\t' && ch != ' ') {
      unfolded += ch;
    }
  }
  size_t h = unfolded.find(";h=");
  ASSERT_NE(h, std::string::npos) << header;
  std::string list = unfolded.substr(h + 3, unfolded.find(';', h + 1) - h - 3);
  std::transform(list.begin(), list.end(), list.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  // Header names compare case-insensitively (RFC 6376 §3.5); the second "from" is the over-sign.
  EXPECT_EQ(list, "from:to:subject:date:message-id:from");
}

TEST_P(SignVerifyTest, TamperingFails) {
  const DkimKey& key = test_key(GetParam().algo);
  std::string signed_message = sign_or_fail(kPlain, key) + kPlain;
  struct Tamper {
    std::string name;
    std::string from;
    std::string to;
  };
  for (const Tamper& t :
       {Tamper{"subject", "Subject: hello", "Subject: hellO"},
        Tamper{"from", "alice@example.org>", "mallory@example.org>"},
        Tamper{"body", "Hello Bob.", "Hello Bob!"},
        Tamper{"added_from", "To: bob", "From: mallory@evil.example\r\nTo: bob"}}) {
    SCOPED_TRACE(t.name);
    std::string message = signed_message;
    size_t pos = message.rfind(t.from);
    ASSERT_NE(pos, std::string::npos);
    message.replace(pos, t.from.size(), t.to);
    DkimVerifyResult r = verify_with_key(message, dns_txt_value(key));
    EXPECT_EQ(r.result, "fail") << r.detail;
    EXPECT_FALSE(dkimpy_verifies(message, dns_txt_value(key)));
  }
}

TEST_P(SignVerifyTest, DkimpyVerifies) {
  const DkimKey& key = test_key(GetParam().algo);
  for (const MessageCase& c : message_cases()) {
    SCOPED_TRACE(c.name);
    std::string message = sign_or_fail(c.message, key) + c.message;
    EXPECT_TRUE(dkimpy_verifies(message, dns_txt_value(key)));
  }
}

TEST_P(SignVerifyTest, WrongKeyFails) {
  const DkimKey& key = test_key(GetParam().algo);
  DkimAlgo other_algo =
      GetParam().algo == DkimAlgo::Ed25519 ? DkimAlgo::Ed25519 : DkimAlgo::Rsa2048;
  DkimKey other = parse_key(generate_key_pem(other_algo), key.domain, key.selector, "other key");
  std::string message = sign_or_fail(kPlain, other) + kPlain;
  EXPECT_EQ(verify_with_key(message, dns_txt_value(key)).result, "fail");
}

INSTANTIATE_TEST_SUITE_P(Algos, SignVerifyTest,
                         ::testing::Values(Algo{DkimAlgo::Rsa2048, "rsa-sha256"},
                                           Algo{DkimAlgo::Rsa3072, "rsa-sha256"},
                                           Algo{DkimAlgo::Ed25519, "ed25519-sha256"}),
                         [](const auto& p) { return std::string(algo_name(p.param.algo)); });

TEST(Verify, UnsignedMessageIsNone) {
  EXPECT_EQ(verify_with_key(kPlain, "v=DKIM1; k=rsa; p=AAAA").result, "none");
}

TEST(Verify, BrokenKeyRecordIsPermerror) {
  const DkimKey& key = test_key(DkimAlgo::Rsa2048);
  std::string message = sign_or_fail(kPlain, key) + kPlain;
  DkimVerifyResult r = verify_with_key(message, "v=DKIM1; k=rsa; p=not-base64!");
  EXPECT_EQ(r.result, "permerror") << r.detail;
}

TEST(SignAll, OneHeaderPerKey) {
  std::vector<DkimKey> keys = {test_key(DkimAlgo::Rsa2048), test_key(DkimAlgo::Ed25519)};
  DkimKey broken = keys[0];
  broken.selector = "broken";
  broken.pkey.reset();
  keys.push_back(broken);
  std::vector<std::string> errors;
  std::string headers = sign_all(signer(), kPlain, keys, errors);
  size_t count = 0;
  for (size_t pos = 0; (pos = headers.find("DKIM-Signature:", pos)) != std::string::npos; ++pos) {
    ++count;
  }
  EXPECT_EQ(count, 2u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("broken: ")) << errors[0];
  EXPECT_TRUE(dkimpy_verifies(headers + kPlain, dns_txt_value(keys[0])));
}

// The value of tag `name` in a DKIM-Signature header, with folding whitespace removed.
std::string tag_value(const std::string& header, const std::string& name) {
  hk::base::TagList list = hk::base::parse_tag_list(
      std::string_view(header).substr(header.find(':') + 1), {.strip_value_whitespace = true});
  const std::string* value = list.find(name);
  return value == nullptr ? "" : *value;
}

// A message of random shape: header fields with runs of spaces and tabs, folding, mixed case
// names, repeated fields; a body with blank lines, trailing whitespace, long and non-ASCII lines.
// `space_before_colon` allows RFC 5322 §4.5's obsolete "Name : value", which dkimpy refuses.
std::string random_message(std::mt19937& rng, bool space_before_colon = true) {
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* const names[] = {"From", "to",      "Subject",  "DATE",         "Message-ID",
                               "Cc",   "X-Other", "Received", "Content-Type", "reply-to"};
  const char* const spaces[] = {"", " ", "  ", "\t", " \t ", "\r\n ", "\r\n\t  "};
  const char* const words[] = {"alpha", "b@example.org", "Grüße", "日本", "x;y=z", "<id@h>"};
  std::string message = "From: Alice <alice@example.org>\r\n";
  int fields = 1 + pick(8);
  for (int i = 0; i < fields; ++i) {
    message += names[pick(10)];
    message += space_before_colon && pick(4) == 0 ? " :" : ":";
    int n = 1 + pick(5);
    for (int w = 0; w < n; ++w) {
      message += spaces[pick(7)];
      message += words[pick(6)];
    }
    message += pick(3) == 0 ? " \t" : "";
    message += "\r\n";
  }
  message += "\r\n";
  int lines = pick(12);
  for (int i = 0; i < lines; ++i) {
    int n = pick(6);
    if (pick(5) == 0) {
      message += std::string(static_cast<size_t>(200 + pick(800)), 'q');
    }
    for (int w = 0; w < n; ++w) {
      message += pick(3) == 0 ? spaces[pick(5)] : " ";
      message += words[pick(6)];
    }
    message += pick(4) == 0 ? " \t \r\n" : "\r\n";
  }
  message += std::string(static_cast<size_t>(pick(3)), '\n');
  return message;
}

TEST(Reference, BodyHashEqualsLibopendkim) {
  // The same bh= as libopendkim for every body shape; both signatures verify.
  const std::time_t when = 1795000000;
  DkimSigner ours(when);
  test::OpendkimSigner reference(when);
  std::mt19937 rng(20261123);
  std::vector<std::string> messages;
  for (const MessageCase& c : message_cases()) {
    messages.push_back(c.message);
  }
  for (int i = 0; i < 200; ++i) {
    messages.push_back(random_message(rng));
  }
  for (DkimAlgo algo : {DkimAlgo::Rsa2048, DkimAlgo::Ed25519}) {
    const DkimKey& key = test_key(algo);
    for (size_t i = 0; i < messages.size(); ++i) {
      SCOPED_TRACE("message " + std::to_string(i) + ":\n" + messages[i]);
      std::string error;
      std::optional<std::string> mine = ours.sign(messages[i], key, error);
      ASSERT_TRUE(mine.has_value()) << error;
      std::optional<std::string> theirs =
          reference.sign(messages[i], test_pems()[algo], key, error);
      ASSERT_TRUE(theirs.has_value()) << error;
      EXPECT_EQ(tag_value(*mine, "bh"), tag_value(*theirs, "bh"));
      EXPECT_EQ(tag_value(*mine, "t"), tag_value(*theirs, "t"));
      // libopendkim checks our header canonicalization and signature.
      DkimVerifyResult r = verify_with_key(*mine + messages[i], dns_txt_value(key));
      EXPECT_EQ(r.result, "pass") << r.detail << "\n" << *mine;
    }
  }
}

TEST(Reference, DkimpyVerifiesRandomMessages) {
  std::mt19937 rng(7);
  const DkimKey& rsa = test_key(DkimAlgo::Rsa2048);
  const DkimKey& ed = test_key(DkimAlgo::Ed25519);
  for (int i = 0; i < 6; ++i) {
    std::string message = random_message(rng, false);
    SCOPED_TRACE(message);
    std::vector<std::string> errors;
    std::string headers = sign_all(signer(), message, {rsa, ed}, errors);
    ASSERT_TRUE(errors.empty()) << errors.front();
    EXPECT_TRUE(dkimpy_verifies(headers + message, dns_txt_value(rsa)));
    // dkimpy checks the first signature; put the Ed25519 one first for the second check.
    size_t second = headers.find("DKIM-Signature:", 1);
    std::string swapped = headers.substr(second) + headers.substr(0, second);
    EXPECT_TRUE(dkimpy_verifies(swapped + message, dns_txt_value(ed)));
  }
}

TEST(Sign, ConcurrentSigningWithOneKeyStaysCorrect) {
  // The daemon's pool threads share each parsed key; every signature must still verify.
  const DkimKey& rsa = test_key(DkimAlgo::Rsa2048);
  const DkimKey& ed = test_key(DkimAlgo::Ed25519);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::vector<std::string>> signed_messages(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string message = "From: alice@example.org\r\nSubject: thread " + std::to_string(t) +
                              " message " + std::to_string(i) + "\r\n\r\nbody " +
                              std::to_string(i) + "\r\n";
        std::vector<std::string> errors;
        signed_messages[static_cast<size_t>(t)].push_back(
            sign_all(signer(), message, {rsa, ed}, errors) + message);
      }
    });
  }
  for (std::thread& th : threads) {
    th.join();
  }
  for (const auto& list : signed_messages) {
    ASSERT_EQ(list.size(), static_cast<size_t>(kEach));
    for (const std::string& m : list) {
      // libopendkim reports the first signature that passes; check each key on its own.
      EXPECT_EQ(verify_with_key(m, dns_txt_value(rsa)).result, "pass");
      size_t second = m.find("DKIM-Signature:", 1);
      EXPECT_EQ(verify_with_key(m.substr(second), dns_txt_value(ed)).result, "pass");
    }
  }
}

TEST(Sign, MessageWithoutFromIsRefused) {
  std::string error;
  EXPECT_FALSE(
      signer().sign("To: bob@example.net\r\n\r\nbody\r\n", test_key(DkimAlgo::Ed25519), error));
  EXPECT_NE(error.find("From"), std::string::npos) << error;
}

TEST(Sign, FixedTimeAndSignatureLayout) {
  DkimSigner fixed(1795000000);
  std::string error;
  std::optional<std::string> header = fixed.sign(kPlain, test_key(DkimAlgo::Rsa2048), error);
  ASSERT_TRUE(header.has_value()) << error;
  EXPECT_EQ(tag_value(*header, "t"), "1795000000");
  EXPECT_EQ(tag_value(*header, "s"), test_key(DkimAlgo::Rsa2048).selector);
  // RSA-2048: 256 octets, 344 base64 characters.
  EXPECT_EQ(tag_value(*header, "b").size(), 344u);
  // b= is the last tag (its value is removed when hashing, §3.7).
  EXPECT_NE(header->rfind("b="), std::string::npos);
  EXPECT_GT(header->rfind("b="), header->rfind("bh="));
}

}  // namespace
}  // namespace hk::dkim
