// Tests for Spool (a body in memory until it outgrows it, then in an anonymous file) and for
// QueueStore::put / deliver_local of a spooled message (envelope, our headers, then the body
// copied from the file), including a copy that fails for space.
#include "daemon/queue/spool.hpp"

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

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

// Feeds `message` the way SmtpChannel::read_data does: pieces appended to the reader's buffer,
// take() after each, finish() at the end.
void spool_in_pieces(Spool& spool, const std::string& message, size_t piece) {
  std::string pending;
  for (size_t at = 0; at < message.size(); at += piece) {
    pending.append(message, at, piece);
    spool.take(pending);
  }
  spool.finish(pending);
}

std::string big_message(size_t body_lines) {
  std::string m = "From: a@example.test\r\nSubject: big\r\n\r\n";
  for (size_t i = 0; i < body_lines; ++i) {
    m += "line " + std::to_string(i) + " of a message that outgrows memory\r\n";
  }
  return m;
}

std::string all_of(const Spool& spool) {
  std::string out;
  std::string piece;
  for (uint64_t at = 0; at < spool.size(); at += piece.size()) {
    EXPECT_FALSE(spool.read(at, 1000, piece));
    if (piece.empty()) {
      break;
    }
    out += piece;
  }
  return out;
}

TEST(Spool, SmallMessageStaysInMemoryWithoutACopy) {
  TempDir tmp;
  Spool spool(tmp.path());
  std::string pending = "Subject: s\r\n\r\nbody\r\n";
  const char* data = pending.data();
  spool.take(pending);
  EXPECT_EQ(pending.size(), 20u);  // left where it was
  spool.finish(pending);
  EXPECT_FALSE(spool.on_disk());
  EXPECT_EQ(spool.head(), "Subject: s\r\n\r\nbody\r\n");
  EXPECT_EQ(spool.head().data(), data);  // moved, not copied
  EXPECT_EQ(spool.size(), 20u);
  EXPECT_EQ(entries(tmp.path()), 0u);
  MessageData d = spool.data("X: y\r\n");
  EXPECT_EQ(d.body_fd, -1);
  EXPECT_EQ(d.size(), 26u);
}

TEST(Spool, LargeMessageGoesToAnAnonymousFileAndReadsBackWhole) {
  TempDir tmp;
  const std::string message = big_message(20000);  // ~1 MiB
  Spool spool(tmp.path());
  spool_in_pieces(spool, message, 4096);
  ASSERT_FALSE(spool.error());
  EXPECT_TRUE(spool.on_disk());
  EXPECT_EQ(spool.size(), message.size());
  EXPECT_EQ(entries(tmp.path()), 0u);  // no name: nothing to clean up, ever
  EXPECT_GE(spool.head().size(), Spool::kMemoryLimit);
  EXPECT_EQ(message.compare(0, spool.head().size(), spool.head()), 0);
  spool.trim_head(38);
  EXPECT_EQ(spool.head(), "From: a@example.test\r\nSubject: big\r\n\r\n");
  EXPECT_EQ(all_of(spool), message);
}

TEST(Spool, EverySplitGivesTheSameBytes) {
  TempDir tmp;
  const std::string message = big_message(5000);
  for (size_t piece : {1u, 7u, 1000u, 65536u, 200000u}) {
    Spool spool(tmp.path(), 10000);
    spool_in_pieces(spool, message, piece);
    EXPECT_TRUE(spool.on_disk()) << piece;
    EXPECT_EQ(all_of(spool), message) << piece;
  }
}

TEST(Spool, DiscardGivesTheSpaceBack) {
  TempDir tmp;
  Spool spool(tmp.path());
  std::string pending = big_message(20000);
  spool.take(pending);
  ASSERT_TRUE(spool.on_disk());
  EXPECT_GT(spool.size(), 0u);
  spool.discard();
  EXPECT_EQ(spool.size(), 0u);
}

TEST(Spool, WriteErrorIsKeptAndLaterBytesDropped) {
  TempDir tmp;
  // A directory that does not exist: the file cannot be made when the message outgrows memory.
  const fs::path missing = tmp.path() / "missing";
  Spool spool(missing);
  std::string pending(Spool::kMemoryLimit + 1, 'x');
  spool.take(pending);
  EXPECT_TRUE(spool.error());
  EXPECT_TRUE(pending.empty());
  pending = "more";
  spool.take(pending);
  EXPECT_TRUE(pending.empty());
}

Envelope envelope(bool local) {
  Envelope env;
  env.id = QueueStore::new_id();
  env.from = "a@example.test";
  Recipient r;
  r.address = local ? "bob@example.test" : "carol@remote.test";
  r.original = r.address;
  r.local = local;
  env.rcpts.push_back(r);
  return env;
}

TEST(SpoolCommit, QueueFileIsEnvelopeOurHeadersThenTheSpooledBody) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  const std::string message = big_message(20000);
  Spool spool(store.spool_dir());
  spool_in_pieces(spool, message, 65536);
  ASSERT_TRUE(spool.on_disk());
  Envelope env = envelope(false);
  auto ec = run(io, store.put(env, spool.data("Received: by us\r\n")));
  ASSERT_TRUE(ec.has_value());
  ASSERT_FALSE(*ec);
  Envelope loaded;
  std::string stored;
  ASSERT_FALSE(store.load(env.id, loaded, stored));
  EXPECT_EQ(stored, "Received: by us\r\n" + message);
  EXPECT_EQ(entries(store.spool_dir()), 0u);
}

TEST(SpoolCommit, MaildirCopyFromTheSpool) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  const std::string message = big_message(20000);
  Spool spool(store.spool_dir());
  spool_in_pieces(spool, message, 65536);
  Envelope env = envelope(true);
  auto ec = run(
      io, store.deliver_local(env, spool.data("X-Ours: 1\r\n"), tmp.path() / "mail", "mx.test"));
  ASSERT_TRUE(ec.has_value());
  ASSERT_FALSE(*ec);
  fs::path box = tmp.path() / "mail" / "example.test" / "bob" / "new";
  ASSERT_EQ(entries(box), 1u);
  std::string got;
  ASSERT_FALSE(base::read_file(fs::directory_iterator(box)->path(), got));
  EXPECT_EQ(
      got,
      "Return-Path: <a@example.test>\r\nDelivered-To: bob@example.test\r\nX-Ours: 1\r\n" + message);
}

TEST(SpoolCommit, CopyFailingForSpaceLeavesNothing) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  // Writes: the envelope header with our headers, then the copy: the second fails.
  store.set_file_ops_for_test(
      std::make_shared<FailingFileOps>(FileOp::Write, 2, std::errc::no_space_on_device));
  Spool spool(store.spool_dir());
  spool_in_pieces(spool, big_message(20000), 65536);
  Envelope env = envelope(false);
  auto ec = run(io, store.put(env, spool.data("Received: by us\r\n")));
  ASSERT_TRUE(ec.has_value());
  EXPECT_EQ(*ec, std::errc::no_space_on_device);
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(entries(store.spool_dir()), 0u);
}

}  // namespace
}  // namespace hk::queue
