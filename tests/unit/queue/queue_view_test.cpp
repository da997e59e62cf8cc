// Tests for QueueView, the passive reader of a queue folder: listing, envelopes with state and
// sizes, whole messages, errors, files in the format as written today, and that it never changes
// the folder it reads.
#include "lib/queue/queue_view.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "daemon/queue/queue_store.hpp"
#include "lib/queue/queue_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace fs = std::filesystem;
using hk::test::TempDir;
using std::chrono::seconds;

// A message and its sidecar exactly as hikyaku writes them today (docs/queue-format.md): the
// view must read them, and what it reads must encode back to the same bytes.
const std::string kHeader =
    "hikyaku-queue 1\n"
    "id: 1K0YGE493PY941M693M\n"
    "created: 1718000000\n"
    "from: alice@example.org\n"
    "rcpt: local bob@example.net Bob@example.net\n"
    "rcpt: remote carol@example.com carol@example.com\n"
    "rcpt: remote dave@example.com dave@example.com\n"
    "client-ip: 192.0.2.1\n"
    "helo: mail.example.org\n"
    "auth-user: alice@example.org\n"
    "smtputf8: no\n"
    "body: 7bit\n"
    "\n";
const std::string kBody = "Subject: hello\r\n\r\nhi\r\n";
const std::string kState =
    "hikyaku-state 1\n"
    "delay-warned: 1718014400\n"
    "rcpt: 0 delivered 1 0 bob@example.net 250%202.0.0%20delivered%20to%20maildir\n"
    "rcpt: 1 pending 3 1718003600 carol@example.com 451%204.7.1%20try%20later\n"
    "rcpt: 2 pending 2 1718003000 dave@example.com connection%20refused%20by%20192.0.2.1:25\n";
const std::string kId = "1K0YGE493PY941M693M";

void write(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// Every file under `dir` with its size and modification time, to show that nothing changed.
std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> snapshot(const fs::path& dir) {
  std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out[e.path().string()] = {e.is_regular_file() ? e.file_size() : 0, e.last_write_time()};
  }
  return out;
}

struct Folder {
  TempDir tmp;
  fs::path dir = tmp.path() / "queue";
  Folder() {
    fs::create_directories(dir / "tmp");
    write(dir / (kId + ".msg"), kHeader + kBody);
    write(dir / (kId + ".state"), kState);
  }
};

TEST(QueueView, ReadsTodaysFormat) {
  Folder f;
  QueueView view(f.dir);
  Envelope env;
  MessageSizes sizes;
  ASSERT_FALSE(view.load_envelope(kId, env, &sizes));
  EXPECT_EQ(sizes.header, kHeader.size());
  EXPECT_EQ(sizes.message, kBody.size());
  EXPECT_EQ(env.id, kId);
  EXPECT_EQ(env.created, TimePoint(seconds(1718000000)));
  EXPECT_EQ(env.from, "alice@example.org");
  EXPECT_EQ(env.delay_warned, TimePoint(seconds(1718014400)));
  ASSERT_EQ(env.rcpts.size(), 3u);
  EXPECT_TRUE(env.rcpts[0].local);
  EXPECT_EQ(env.rcpts[0].original, "Bob@example.net");
  EXPECT_EQ(env.rcpts[0].state, RcptState::Delivered);
  EXPECT_EQ(env.rcpts[0].last_code, 250);
  EXPECT_EQ(env.rcpts[0].last_enhanced, "2.0.0");
  EXPECT_EQ(env.rcpts[0].last_text, "delivered to maildir");
  EXPECT_EQ(env.rcpts[1].state, RcptState::Pending);
  EXPECT_EQ(env.rcpts[1].attempts, 3);
  EXPECT_EQ(env.rcpts[1].next_attempt, TimePoint(seconds(1718003600)));
  EXPECT_EQ(env.rcpts[1].last_code, 451);
  EXPECT_EQ(env.rcpts[1].last_enhanced, "4.7.1");
  EXPECT_EQ(env.rcpts[1].last_text, "try later");
  EXPECT_EQ(env.rcpts[2].last_code, 0);
  EXPECT_EQ(env.rcpts[2].last_text, "connection refused by 192.0.2.1:25");
  // Written back, the same bytes: an older hikyaku reads what this one writes.
  EXPECT_EQ(encode_header(env), kHeader);
  EXPECT_EQ(encode_state(env), kState);

  Envelope whole;
  std::string message;
  ASSERT_FALSE(view.load(kId, whole, message));
  EXPECT_EQ(message, kBody);
  EXPECT_EQ(encode_state(whole), kState);

  // The daemon's store reads the folder through the same view.
  QueueStore store(f.dir);
  Envelope stored;
  ASSERT_FALSE(store.load_envelope(kId, stored));
  EXPECT_EQ(encode_state(stored), kState);
  EXPECT_EQ(store.list(), std::vector<std::string>{kId});
}

TEST(QueueView, ListsCompleteMessagesOldestFirst) {
  Folder f;
  write(f.dir / "0000000000000000001.msg", kHeader);
  write(f.dir / "ZZZZ.msg", kHeader);
  write(f.dir / "tmp" / "0000000000000000002", "half");  // being written: not a message
  write(f.dir / "0000000000000000003.state", kState);    // a sidecar alone: not a message
  write(f.dir / "bad id.msg", kHeader);                  // not a valid ID
  write(f.dir / ".msg", kHeader);
  write(f.dir / (kId + ".state.tmp.42"), kState);
  std::vector<std::string> ids;
  ASSERT_FALSE(QueueView(f.dir).list(ids));
  EXPECT_EQ(ids, (std::vector<std::string>{"0000000000000000001", kId, "ZZZZ"}));

  std::vector<std::string> none = {"stale"};
  EXPECT_TRUE(QueueView(f.tmp.path() / "absent").list(none));
  EXPECT_TRUE(none.empty());
}

TEST(QueueView, WithoutSidecarEveryRecipientIsPending) {
  Folder f;
  fs::remove(f.dir / (kId + ".state"));
  Envelope env;
  ASSERT_FALSE(QueueView(f.dir).load_envelope(kId, env));
  for (const Recipient& r : env.rcpts) {
    EXPECT_EQ(r.state, RcptState::Pending);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.last_code, 0);
    EXPECT_EQ(r.last_text, "");
  }
  EXPECT_EQ(env.delay_warned, TimePoint{});
}

TEST(QueueView, Errors) {
  Folder f;
  QueueView view(f.dir);
  Envelope env;
  std::string message;
  EXPECT_EQ(view.load_envelope("../etc/passwd", env), std::errc::invalid_argument);
  EXPECT_EQ(view.load("../etc/passwd", env, message), std::errc::invalid_argument);
  EXPECT_EQ(view.load_envelope("0000000000000000009", env), std::errc::no_such_file_or_directory);
  EXPECT_EQ(view.load("0000000000000000009", env, message), std::errc::no_such_file_or_directory);

  // A file renamed by hand: its id line names another message.
  fs::copy_file(f.dir / (kId + ".msg"), f.dir / "0000000000000000009.msg");
  EXPECT_EQ(view.load_envelope("0000000000000000009", env), std::errc::bad_message);
  EXPECT_EQ(view.load("0000000000000000009", env, message), std::errc::bad_message);

  // A header block that never ends, and a sidecar that does not fit.
  write(f.dir / "0000000000000000008.msg", "hikyaku-queue 1\nid: 0000000000000000008\n");
  EXPECT_EQ(view.load_envelope("0000000000000000008", env), std::errc::bad_message);
  EXPECT_EQ(view.load("0000000000000000008", env, message), std::errc::bad_message);
  write(f.dir / (kId + ".state"), "hikyaku-state 1\nrcpt: 7 pending 0 0 x \n");
  EXPECT_EQ(view.load_envelope(kId, env), std::errc::bad_message);
}

// The view may look at a running daemon's folder: it leaves tmp/, orphan sidecars and
// interrupted state writes alone (only the store cleans them, at its start) and writes nothing.
TEST(QueueView, NeverChangesTheFolder) {
  Folder f;
  write(f.dir / "tmp" / "0000000000000000002", "half");
  write(f.dir / "0000000000000000003.state", kState);
  write(f.dir / (kId + ".state.tmp.42"), kState);
  auto before = snapshot(f.dir);
  QueueView view(f.dir);
  std::vector<std::string> ids;
  ASSERT_FALSE(view.list(ids));
  for (const std::string& id : ids) {
    Envelope env;
    std::string message;
    MessageSizes sizes;
    ASSERT_FALSE(view.load_envelope(id, env, &sizes));
    ASSERT_FALSE(view.load(id, env, message));
  }
  EXPECT_EQ(snapshot(f.dir), before);
}

TEST(QueueView, Paths) {
  QueueView view("/var/lib/hikyaku/queue");
  EXPECT_EQ(view.message_path(kId), fs::path("/var/lib/hikyaku/queue/" + kId + ".msg"));
  EXPECT_EQ(view.state_path(kId), fs::path("/var/lib/hikyaku/queue/" + kId + ".state"));
  EXPECT_EQ(view.dir(), fs::path("/var/lib/hikyaku/queue"));
}

}  // namespace
}  // namespace hk::queue
