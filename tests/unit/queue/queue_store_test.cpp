// Tests for QueueStore: durable puts, group commit, listing, loading, state, cleanup, failures.
#include "daemon/queue/queue_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "lib/base/files.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using hk::test::TempDir;
using std::chrono::seconds;

Envelope make_envelope(std::string id, size_t rcpts = 2) {
  Envelope env;
  env.id = std::move(id);
  env.created = TimePoint(seconds(1718000000));
  env.from = "alice@example.org";
  env.client_ip = "192.0.2.1";
  env.helo = "client.example.org";
  for (size_t i = 0; i < rcpts; ++i) {
    Recipient r;
    r.address = "user" + std::to_string(i) + "@example.net";
    r.original = r.address;
    r.local = i % 2 == 0;
    env.rcpts.push_back(r);
  }
  return env;
}

const std::string kMessage =
    "From: alice@example.org\r\nSubject: hi\r\n\r\nline one\r\n\r\n.leading dot\r\n";

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

// The put's result; a put that does not finish fails the test and reads as an I/O error.
std::error_code put_sync(asio::io_context& io, QueueStore& store, const Envelope& env,
                         const std::string& message) {
  std::optional<std::error_code> ec = hk::test::run(io, store.put(env, message));
  EXPECT_TRUE(ec.has_value()) << "put did not finish in time";
  return ec.value_or(std::make_error_code(std::errc::io_error));
}

TEST(QueueStore, NewIdsAreUniqueSortableAndSafe) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    ids.push_back(QueueStore::new_id());
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  for (const std::string& id : ids) {
    ASSERT_EQ(id.size(), 19u);
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
  }
  // The first 11 characters are the time: never decreasing.
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LE(ids[i - 1].substr(0, 11), ids[i].substr(0, 11));
  }
}

TEST(QueueStore, PutListLoadRoundTrip) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  EXPECT_TRUE(fs::is_directory(tmp.path() / "queue" / "tmp"));
  EXPECT_EQ(fs::status(tmp.path() / "queue").permissions(), fs::perms::owner_all);

  Envelope env = make_envelope(QueueStore::new_id(), 3);
  env.from = "";  // null sender
  env.helo = "odd\r\nhelo %41";
  env.auth_user = "user name";
  env.eightbit = true;
  ASSERT_FALSE(put_sync(io, store, env, kMessage));

  EXPECT_EQ(store.list(), std::vector<std::string>{env.id});
  struct stat st {};
  ASSERT_EQ(::stat(store.message_path(env.id).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(count_files(tmp.path() / "queue" / "tmp"), 0u);

  Envelope back;
  ASSERT_FALSE(store.load_envelope(env.id, back));
  EXPECT_EQ(back.id, env.id);
  EXPECT_EQ(back.from, "");
  EXPECT_EQ(back.helo, env.helo);
  EXPECT_EQ(back.auth_user, env.auth_user);
  EXPECT_TRUE(back.eightbit);
  EXPECT_FALSE(back.smtputf8);
  ASSERT_EQ(back.rcpts.size(), 3u);
  EXPECT_EQ(back.rcpts[2].address, "user2@example.net");
  EXPECT_TRUE(back.rcpts[2].local);
  EXPECT_FALSE(back.rcpts[1].local);

  std::string message;
  ASSERT_FALSE(store.read_message(env.id, message));
  EXPECT_EQ(message, kMessage);

  Envelope both;
  std::string bytes;
  ASSERT_FALSE(store.load(env.id, both, bytes));
  EXPECT_EQ(bytes, kMessage);
  EXPECT_EQ(both.rcpts.size(), 3u);
}

TEST(QueueStore, LoadEnvelopeOfLargeMessageAndEmptyBody) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  // A message that itself contains "\n\n"-like sequences and is larger than one read buffer.
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 300000) {
    big += "0123456789 \n\n abcdefghij\r\n";
  }
  Envelope a = make_envelope("A1");
  Envelope b = make_envelope("B2");
  ASSERT_FALSE(put_sync(io, store, a, big));
  ASSERT_FALSE(put_sync(io, store, b, ""));
  EXPECT_EQ(store.list(), (std::vector<std::string>{"A1", "B2"}));
  Envelope env;
  ASSERT_FALSE(store.load_envelope("A1", env));
  EXPECT_EQ(env.rcpts.size(), 2u);
  std::string msg;
  ASSERT_FALSE(store.read_message("A1", msg));
  EXPECT_EQ(msg, big);
  ASSERT_FALSE(store.read_message("B2", msg));
  EXPECT_EQ(msg, "");
}

TEST(QueueStore, StateSidecar) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  Envelope env = make_envelope(QueueStore::new_id(), 2);
  ASSERT_FALSE(put_sync(io, store, env, kMessage));

  // Absent: everything pending, 0 attempts.
  Envelope loaded;
  ASSERT_FALSE(store.load_envelope(env.id, loaded));
  EXPECT_FALSE(fs::exists(tmp.path() / "queue" / (env.id + ".state")));
  for (const Recipient& r : loaded.rcpts) {
    EXPECT_EQ(r.state, RcptState::Pending);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.next_attempt, TimePoint{});
  }

  loaded.rcpts[0].state = RcptState::Delivered;
  loaded.rcpts[0].attempts = 1;
  loaded.rcpts[0].last_code = 250;
  loaded.rcpts[0].last_enhanced = "2.0.0";
  loaded.rcpts[0].last_text = "ok";
  loaded.rcpts[1].attempts = 2;
  loaded.rcpts[1].next_attempt = TimePoint(seconds(1718009999));
  loaded.rcpts[1].last_code = 451;
  loaded.rcpts[1].last_enhanced = "4.7.1";
  loaded.rcpts[1].last_text = "greylisted\r\nsee you";
  ASSERT_FALSE(store.save_state(loaded));
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() / "queue" / (env.id + ".state")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Envelope again;
  ASSERT_FALSE(store.load_envelope(env.id, again));
  EXPECT_EQ(again.rcpts[0].state, RcptState::Delivered);
  EXPECT_EQ(again.rcpts[0].last_code, 250);
  EXPECT_EQ(again.rcpts[0].last_enhanced, "2.0.0");
  EXPECT_EQ(again.rcpts[0].last_text, "ok");
  EXPECT_EQ(again.rcpts[1].state, RcptState::Pending);
  EXPECT_EQ(again.rcpts[1].attempts, 2);
  EXPECT_EQ(again.rcpts[1].next_attempt, TimePoint(seconds(1718009999)));
  EXPECT_EQ(again.rcpts[1].last_code, 451);
  EXPECT_EQ(again.rcpts[1].last_enhanced, "4.7.1");
  EXPECT_EQ(again.rcpts[1].last_text, "greylisted\r\nsee you");

  // The message file itself is never rewritten by state changes.
  std::string msg;
  ASSERT_FALSE(store.read_message(env.id, msg));
  EXPECT_EQ(msg, kMessage);

  // A corrupt sidecar is reported, not silently treated as "all pending".
  ASSERT_FALSE(base::write_file_atomic(tmp.path() / "queue" / (env.id + ".state"), "junk\n"));
  EXPECT_EQ(store.load_envelope(env.id, again), std::errc::bad_message);

  ASSERT_FALSE(store.remove(env.id));
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(count_files(tmp.path() / "queue"), 0u);
  EXPECT_EQ(store.load_envelope(env.id, again), std::errc::no_such_file_or_directory);
}

TEST(QueueStore, CrashLeftoversAreCleanedAndNeverListed) {
  TempDir tmp;
  fs::path q = tmp.path() / "queue";
  asio::io_context io;
  std::string kept = QueueStore::new_id();
  {
    QueueStore store(q);
    ASSERT_FALSE(put_sync(io, store, make_envelope(kept), kMessage));
  }
  // What a kill -9 can leave: a half-written tmp file, a half-written state replacement, the
  // state of a message whose .msg was already unlinked.
  std::string half = QueueStore::new_id();
  std::ofstream(q / "tmp" / half) << "hikyaku-queue 1\nid: " << half << "\ncreated: 1\n";
  std::ofstream(q / (kept + ".state.tmp.12345")) << "hikyaku-state 1\nrcpt: 0 deliv";
  std::ofstream(q / "ORPHAN1.state") << "hikyaku-state 1\n";
  {
    QueueStore store(q);
    EXPECT_EQ(store.list(), std::vector<std::string>{kept});
    EXPECT_EQ(count_files(q / "tmp"), 0u);
    EXPECT_FALSE(fs::exists(q / (kept + ".state.tmp.12345")));
    EXPECT_FALSE(fs::exists(q / "ORPHAN1.state"));
    std::string msg;
    ASSERT_FALSE(store.read_message(kept, msg));
    EXPECT_EQ(msg, kMessage);
  }
  // A file in tmp/ written after startup (a put in progress) is never listed.
  QueueStore store(q);
  std::ofstream(q / "tmp" / QueueStore::new_id()) << "partial";
  EXPECT_EQ(store.list(), std::vector<std::string>{kept});
}

TEST(QueueStore, FailedPutLeavesNothing) {
  struct Case {
    const char* name;
    FileOp op;
    std::errc error;
  };
  const std::vector<Case> cases = {
      {"open", FileOp::Open, std::errc::no_space_on_device},
      {"write", FileOp::Write, std::errc::no_space_on_device},
      {"write-eio", FileOp::Write, std::errc::io_error},
      {"fsync", FileOp::Sync, std::errc::no_space_on_device},
      {"close", FileOp::Close, std::errc::io_error},
      {"rename", FileOp::Rename, std::errc::io_error},
      {"dir-fsync", FileOp::SyncDir, std::errc::io_error},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir tmp;
    asio::io_context io;
    QueueStore store(tmp.path() / "queue");
    auto ops = std::make_shared<FailingFileOps>(c.op, 1, c.error);
    store.set_file_ops_for_test(ops);
    Envelope env = make_envelope(QueueStore::new_id());
    EXPECT_EQ(put_sync(io, store, env, kMessage), std::make_error_code(c.error));
    EXPECT_GE(ops->calls(), 1);
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(count_files(tmp.path() / "queue"), 0u);
    EXPECT_EQ(count_files(tmp.path() / "queue" / "tmp"), 0u);
    // The disk recovers: the next put works.
    Envelope next = make_envelope(QueueStore::new_id());
    EXPECT_FALSE(put_sync(io, store, next, kMessage));
    EXPECT_EQ(store.list(), std::vector<std::string>{next.id});
  }
}

TEST(QueueStore, DuplicateAndInvalidIdsAreRefused) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  Envelope env = make_envelope("SAMEID");
  ASSERT_FALSE(put_sync(io, store, env, kMessage));
  EXPECT_EQ(put_sync(io, store, env, "other bytes"), std::errc::file_exists);
  std::string msg;
  ASSERT_FALSE(store.read_message("SAMEID", msg));
  EXPECT_EQ(msg, kMessage);  // the first message is intact
  for (const char* bad : {"", "../x", "a.b", "a/b"}) {
    EXPECT_EQ(put_sync(io, store, make_envelope(bad), kMessage), std::errc::invalid_argument);
  }
  EXPECT_EQ(store.list(), std::vector<std::string>{"SAMEID"});
  EXPECT_EQ(count_files(tmp.path() / "queue" / "tmp"), 0u);
}

// A coroutine that puts `n` messages one after the other and counts the successes.
asio::awaitable<void> put_many(QueueStore& store, int n, std::string_view message, int& ok,
                               std::vector<std::string>& ids) {
  for (int i = 0; i < n; ++i) {
    Envelope env = make_envelope(QueueStore::new_id());
    std::error_code ec = co_await store.put(env, message);
    if (!ec) {
      ++ok;
      ids.push_back(env.id);
    }
  }
}

TEST(QueueStore, ConcurrentPutsAreAllDurableAndBatched) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  std::string message(1024, 'x');
  int ok = 0;
  std::vector<std::string> ids;
  for (int c = 0; c < 20; ++c) {
    asio::co_spawn(io, put_many(store, 5, message, ok, ids), asio::detached);
  }
  io.run_for(std::chrono::seconds(30));
  EXPECT_EQ(ok, 100);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(store.list(), ids);
  PutStats stats = store.put_stats();
  EXPECT_EQ(stats.puts, 100u);
  EXPECT_GT(stats.max_batch, 1u);
  EXPECT_LT(stats.batches, 100u);
  std::string msg;
  for (const std::string& id : ids) {
    ASSERT_FALSE(store.read_message(id, msg));
    ASSERT_EQ(msg, message);
  }
}

TEST(QueueStore, OneFailureInABatchSparesTheOthers) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  // The 2nd fsync of the next batch fails: exactly one put of the batch fails.
  store.set_file_ops_for_test(
      std::make_shared<FailingFileOps>(FileOp::Sync, 2, std::errc::no_space_on_device));
  int ok = 0;
  std::vector<std::string> ids;
  for (int c = 0; c < 10; ++c) {
    asio::co_spawn(io, put_many(store, 1, kMessage, ok, ids), asio::detached);
  }
  io.run_for(std::chrono::seconds(30));
  EXPECT_EQ(ok, 9);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(store.list(), ids);
  EXPECT_EQ(count_files(tmp.path() / "queue" / "tmp"), 0u);
}

TEST(QueueStore, DiskStaysFull) {
  TempDir tmp;
  asio::io_context io;
  QueueStore store(tmp.path() / "queue");
  store.set_file_ops_for_test(std::make_shared<FailingFileOps>(
      FileOp::Write, 1, std::errc::no_space_on_device, /*sticky=*/true));
  int ok = 0;
  std::vector<std::string> ids;
  for (int c = 0; c < 5; ++c) {
    asio::co_spawn(io, put_many(store, 4, kMessage, ok, ids), asio::detached);
  }
  io.run_for(std::chrono::seconds(30));
  EXPECT_EQ(ok, 0);
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(count_files(tmp.path() / "queue" / "tmp"), 0u);
}

TEST(QueueStore, DestructorFinishesPendingPuts) {
  TempDir tmp;
  int ok = 0;
  std::vector<std::string> ids;
  {
    asio::io_context io;
    auto store = std::make_unique<QueueStore>(tmp.path() / "queue");
    for (int c = 0; c < 10; ++c) {
      asio::co_spawn(io, put_many(*store, 1, kMessage, ok, ids), asio::detached);
    }
    // Start the puts (each coroutine runs up to its first suspension), then destroy the store
    // while they are in the writer's hands: it must finish them, not abandon them.
    io.poll();
    store.reset();
    io.run_for(std::chrono::seconds(10));
  }
  EXPECT_EQ(ok, 10);
  QueueStore store(tmp.path() / "queue");
  EXPECT_EQ(store.list().size(), 10u);
}

// The child of KillNineKeepsEveryAcknowledgedMessage: puts until killed, writing each id to `fd`
// only after its put completed (the moment the SMTP server would answer 250).
asio::awaitable<void> put_and_ack(QueueStore& store, int fd) {
  for (int i = 0; i < 100000; ++i) {
    Envelope env = make_envelope(QueueStore::new_id());
    if (co_await store.put(env, kMessage)) {
      continue;
    }
    std::string line = env.id + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      ::_exit(3);
    }
  }
}

TEST(QueueStore, KillNineKeepsEveryAcknowledgedMessage) {
  TempDir tmp;
  fs::path q = tmp.path() / "queue";
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    asio::io_context io;
    QueueStore store(q);
    for (int c = 0; c < 8; ++c) {
      asio::co_spawn(io, put_and_ack(store, pipefd[1]), asio::detached);
    }
    io.run();
    ::_exit(0);
  }
  ::close(pipefd[1]);
  // Read acknowledgements until 200 have come, then kill the writer mid-stream.
  std::vector<std::string> acked;
  std::string buf;
  char chunk[4096];
  while (acked.size() < 200) {
    ssize_t n = ::read(pipefd[0], chunk, sizeof chunk);
    ASSERT_GT(n, 0);
    buf.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      acked.push_back(buf.substr(0, nl));
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pipefd[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  QueueStore store(q);
  std::vector<std::string> listed = store.list();
  std::set<std::string> present(listed.begin(), listed.end());
  for (const std::string& id : acked) {
    ASSERT_TRUE(present.count(id)) << id << " was acknowledged but is not in the queue";
  }
  // Everything listed is complete, acknowledged or not (a batch may have been renamed but not
  // yet acknowledged when the kill came).
  for (const std::string& id : listed) {
    std::string msg;
    ASSERT_FALSE(store.read_message(id, msg)) << id;
    ASSERT_EQ(msg, kMessage) << id;
  }
  EXPECT_EQ(count_files(q / "tmp"), 0u);
}

}  // namespace
}  // namespace hk::queue
