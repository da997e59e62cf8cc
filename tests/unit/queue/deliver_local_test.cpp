// Tests for QueueStore::deliver_local: Maildir copies written in the queue's group commit.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>

#include "daemon/queue/queue_store.hpp"
#include "lib/base/files.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using hk::test::run;
using hk::test::TempDir;

Envelope local_envelope(const std::vector<std::string>& rcpts) {
  Envelope env;
  env.id = QueueStore::new_id();
  env.from = "sender@remote.example";
  for (const auto& a : rcpts) {
    Recipient r;
    r.address = a;
    r.original = a;
    r.local = true;
    env.rcpts.push_back(r);
  }
  return env;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      out.push_back(e.path());
    }
  }
  return out;
}

const std::string kMessage = "Subject: local\r\n\r\nbody\r\n";

TEST(DeliverLocal, OneDurableCopyPerMailboxAndNothingQueued) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  Envelope env = local_envelope({"alice@example.test", "bob@example.test"});
  auto ec = run(io, store.deliver_local(env, kMessage, tmp.path() / "mail", "mx.test"));
  ASSERT_TRUE(ec.has_value());
  ASSERT_FALSE(*ec);
  EXPECT_TRUE(store.list().empty());
  for (const char* user : {"alice", "bob"}) {
    fs::path box = tmp.path() / "mail" / "example.test" / user;
    auto got = files_in(box / "new");
    ASSERT_EQ(got.size(), 1u) << user;
    EXPECT_TRUE(files_in(box / "tmp").empty());
    std::string content;
    ASSERT_FALSE(base::read_file(got[0], content));
    EXPECT_EQ(content, "Return-Path: <sender@remote.example>\r\nDelivered-To: " +
                           std::string(user) + "@example.test\r\n" + kMessage);
    // The Maildir size tag names the whole file.
    EXPECT_NE(got[0].filename().string().find(",S=" + std::to_string(content.size())),
              std::string::npos);
  }
}

TEST(DeliverLocal, FailureLeavesNoCopyAnywhere) {
  struct Case {
    FileOp op;
    int nth;
  };
  // The second file's open, write (one writev per file) or sync fails, or the rename: the first
  // copy must go too.
  for (Case c : {Case{FileOp::Open, 2}, Case{FileOp::Write, 2}, Case{FileOp::Sync, 2},
                 Case{FileOp::Rename, 2}, Case{FileOp::SyncDir, 1}}) {
    TempDir tmp;
    asio::io_context io;
    QueueStore store(tmp.path() / "queue");
    store.set_file_ops_for_test(
        std::make_shared<FailingFileOps>(c.op, c.nth, std::errc::no_space_on_device));
    Envelope env = local_envelope({"alice@example.test", "bob@example.test"});
    auto ec = run(io, store.deliver_local(env, kMessage, tmp.path() / "mail", "mx.test"));
    ASSERT_TRUE(ec.has_value());
    EXPECT_EQ(*ec, std::errc::no_space_on_device) << static_cast<int>(c.op);
    for (const char* user : {"alice", "bob"}) {
      fs::path box = tmp.path() / "mail" / "example.test" / user;
      EXPECT_TRUE(files_in(box / "new").empty()) << user << " op " << static_cast<int>(c.op);
      EXPECT_TRUE(files_in(box / "tmp").empty()) << user << " op " << static_cast<int>(c.op);
    }
    EXPECT_TRUE(store.list().empty());
  }
}

TEST(DeliverLocal, UnsafeAddressIsRefusedBeforeAnyWrite) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  Envelope env = local_envelope({"alice@example.test", "../etc@example.test"});
  auto ec = run(io, store.deliver_local(env, kMessage, tmp.path() / "mail", "mx.test"));
  ASSERT_TRUE(ec.has_value());
  EXPECT_EQ(*ec, std::errc::invalid_argument);
  EXPECT_TRUE(files_in(tmp.path() / "mail" / "example.test" / "alice" / "new").empty());
}

}  // namespace
}  // namespace hk::queue
