// Tests for Maildir delivery: layout, permissions, names, content, refusals, MaildirCourier.
#include "daemon/queue/maildir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <regex>
#include <string>
#include <vector>

#include "daemon/queue/maildir_courier.hpp"
#include "lib/base/files.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace fs = std::filesystem;
using hk::test::TempDir;

const std::string kMessage = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      out.push_back(e.path());
    }
  }
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(Maildir, DeliversIntoNewWithHeadersAndName) {
  TempDir tmp;
  fs::path mail = tmp.path() / "mail";
  ASSERT_FALSE(deliver_to_maildir(mail, "bob@Example.NET", "alice@example.org", kMessage,
                                  "mx1.example.net"));
  fs::path box = mail / "example.net" / "bob";
  for (const fs::path& d :
       {mail, mail / "example.net", box, box / "tmp", box / "new", box / "cur"}) {
    EXPECT_TRUE(fs::is_directory(d)) << d;
    EXPECT_EQ(mode_of(d), 0700u) << d;
  }
  EXPECT_TRUE(files_in(box / "tmp").empty());
  EXPECT_TRUE(files_in(box / "cur").empty());
  std::vector<fs::path> delivered = files_in(box / "new");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(mode_of(delivered[0]), 0600u);

  std::string content;
  ASSERT_FALSE(base::read_file(delivered[0], content));
  const std::string expected =
      "Return-Path: <alice@example.org>\r\nDelivered-To: bob@Example.NET\r\n" + kMessage;
  EXPECT_EQ(content, expected);

  std::smatch m;
  std::string name = delivered[0].filename().string();
  ASSERT_TRUE(std::regex_match(
      name, m, std::regex(R"((\d+)\.M(\d+)P(\d+)Q(\d+)\.mx1\.example\.net,S=(\d+))")))
      << name;
  EXPECT_EQ(std::stoul(m[5].str()), expected.size());
  EXPECT_EQ(std::stol(m[3].str()), static_cast<long>(::getpid()));
}

TEST(Maildir, NullSenderAndUniqueNames) {
  TempDir tmp;
  fs::path mail = tmp.path() / "mail";
  for (int i = 0; i < 20; ++i) {
    ASSERT_FALSE(deliver_to_maildir(mail, "carol@example.org", "", kMessage, "host/with:odd"));
  }
  std::vector<fs::path> delivered = files_in(mail / "example.org" / "carol" / "new");
  ASSERT_EQ(delivered.size(), 20u);
  std::string content;
  ASSERT_FALSE(base::read_file(delivered[0], content));
  EXPECT_EQ(content.rfind("Return-Path: <>\r\n", 0), 0u);
  // '/' and ':' in the hostname are escaped as the Maildir convention says.
  EXPECT_NE(delivered[0].filename().string().find(".host\\057with\\072odd,S="), std::string::npos);
}

TEST(Maildir, RefusesAddressesThatEscapeTheMailDir) {
  TempDir tmp;
  fs::path mail = tmp.path() / "mail";
  for (const char* bad :
       {"nodomain", "@example.org", "bob@", "../x@example.org", "bob@../../etc", "a/b@example.org",
        "bob@exa/mple.org", ".x@example.org", "bob@.", "bob@..", "b\nob@example.org"}) {
    EXPECT_EQ(deliver_to_maildir(mail, bad, "", kMessage, "h"), std::errc::invalid_argument) << bad;
    EXPECT_TRUE(maildir_path(mail, bad).empty()) << bad;
  }
  EXPECT_FALSE(fs::exists(mail));
  EXPECT_EQ(maildir_path(mail, "\"odd@local\"@Example.ORG"),
            mail / "example.org" / "\"odd@local\"");
}

TEST(Maildir, HeaderValuesCannotInjectLines) {
  TempDir tmp;
  fs::path mail = tmp.path() / "mail";
  ASSERT_FALSE(deliver_to_maildir(mail, "dave@example.org", "x@y\r\nBcc: evil@z", kMessage, "h"));
  std::vector<fs::path> delivered = files_in(mail / "example.org" / "dave" / "new");
  ASSERT_EQ(delivered.size(), 1u);
  std::string content;
  ASSERT_FALSE(base::read_file(delivered[0], content));
  EXPECT_EQ(content.rfind("Return-Path: <x@yBcc: evil@z>\r\nDelivered-To: dave@example.org\r\n", 0),
            0u);
}

TEST(MaildirCourier, ResultMapping) {
  using Status = DeliveryResult::Status;
  struct Case {
    std::error_code ec;
    Status status;
    int code;
    std::string enhanced;
  };
  const std::vector<Case> cases = {
      {{}, Status::Delivered, 250, "2.0.0"},
      {std::make_error_code(std::errc::invalid_argument), Status::Permanent, 550, "5.1.1"},
      {std::make_error_code(std::errc::no_space_on_device), Status::Transient, 452, "4.3.1"},
      {std::error_code(EDQUOT, std::generic_category()), Status::Transient, 452, "4.2.2"},
      {std::make_error_code(std::errc::io_error), Status::Transient, 451, "4.3.0"},
      {std::make_error_code(std::errc::permission_denied), Status::Transient, 451, "4.3.0"},
  };
  for (const Case& c : cases) {
    DeliveryResult r = MaildirCourier::result_for(c.ec);
    EXPECT_EQ(r.status, c.status) << c.ec.message();
    EXPECT_EQ(r.code, c.code) << r.line();
    EXPECT_EQ(r.enhanced, c.enhanced) << r.line();
    EXPECT_FALSE(r.text.empty()) << r.line();
  }
}

TEST(MaildirCourier, DeliversEachRecipientOnThePool) {
  TempDir tmp;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  MaildirCourier courier(pool, tmp.path() / "mail", "mx.example.org");
  Envelope env;
  env.id = "X1";
  env.from = "alice@example.org";
  env.rcpts.resize(3);
  env.rcpts[0].address = "bob@example.org";
  env.rcpts[1].address = "../evil@example.org";
  env.rcpts[2].address = "carol@example.net";
  std::vector<const Recipient*> rcpts = {&env.rcpts[0], &env.rcpts[1], &env.rcpts[2]};
  std::optional<std::vector<DeliveryResult>> found =
      hk::test::run(io, courier.deliver(env, rcpts, kMessage));
  ASSERT_TRUE(found.has_value());
  const std::vector<DeliveryResult>& results = *found;
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].status, DeliveryResult::Status::Delivered);
  EXPECT_EQ(results[1].status, DeliveryResult::Status::Permanent);
  EXPECT_EQ(results[2].status, DeliveryResult::Status::Delivered);
  EXPECT_EQ(files_in(tmp.path() / "mail" / "example.org" / "bob" / "new").size(), 1u);
  EXPECT_EQ(files_in(tmp.path() / "mail" / "example.net" / "carol" / "new").size(), 1u);
}

}  // namespace
}  // namespace hk::queue
