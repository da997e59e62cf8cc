// ControlServer on a temporary socket with a fake flush, driven by control_request and raw
// sockets: the protocol, the limits, the socket file's mode and stale-file replacement.
#include "daemon/server/control.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/control/client.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::server {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using control::control_request;
using control::ControlReply;

constexpr const char* kKnownId = "1K0YGE493PY941M693M";

// Records every flush; knows one id.
struct FakeQueue {
  std::mutex mutex;
  std::vector<std::string> flushed;

  bool flush(const std::string& id) {
    std::lock_guard lock(mutex);
    if (!id.empty() && id != kKnownId) {
      return false;
    }
    flushed.push_back(id);
    return true;
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex);
    return flushed;
  }
};

struct FlushInto {
  FakeQueue* queue;
  bool operator()(const std::string& id) const { return queue->flush(id); }
};

sockaddr_un address_of(const fs::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  return addr;
}

// A socket file nobody listens on: what a daemon killed with SIGKILL leaves behind.
void make_stale_socket(const fs::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr = address_of(path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(fs::is_socket(path));
}

// Sends raw bytes (no newline added), optionally waits, and returns everything the server sent
// until it closed.
std::string raw_exchange(const fs::path& path, const std::string& bytes,
                         std::chrono::milliseconds pause = std::chrono::milliseconds(0)) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = address_of(path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!bytes.empty()) {
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  std::this_thread::sleep_for(pause);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// A ControlServer running on its own I/O thread.
class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() / "control.sock"; }
  void TearDown() override { stop(); }
  void start(ControlServer::StatusFn status = nullptr) {
    server_ = std::make_unique<ControlServer>(io_.get_executor(), path_, FlushInto{&queue_},
                                              std::move(status));
    server_->set_timeout_for_test(std::chrono::milliseconds(300));
    asio::co_spawn(io_, server_->run(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (thread_.joinable()) {
      asio::post(io_, [this] { server_->close(); });
      thread_.join();
    }
    server_.reset();
  }

  hk::test::TempDir dir_;
  fs::path path_;
  FakeQueue queue_;
  asio::io_context io_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

TEST_F(ControlTest, Requests) {
  start();
  struct Case {
    std::string request;
    bool ok;
    std::string text_prefix;
    std::vector<std::string> flushed_after;
  };
  const Case cases[] = {
      {"ping", true, std::string("hikyaku ") + HK_VERSION, {}},
      {"ping\r\n", true, "hikyaku ", {}},
      {"flush", true, "flushing every queued message", {""}},
      {std::string("flush ") + kKnownId, true, std::string("flushing ") + kKnownId, {"", kKnownId}},
      {"flush 0000000000UNKNOWN", false, "unknown id 0000000000UNKNOWN", {"", kKnownId}},
      {"flush ../../etc/passwd", false, "invalid id", {"", kKnownId}},
      {"flush ", false, "invalid id", {"", kKnownId}},
      {"flush A B", false, "invalid id", {"", kKnownId}},
      {"FLUSH", false, "unknown request", {"", kKnownId}},
      {"frobnicate", false, "unknown request", {"", kKnownId}},
      {"", false, "unknown request", {"", kKnownId}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request);
    ControlReply r = control_request(path_, c.request, std::chrono::seconds(5));
    EXPECT_FALSE(r.error) << r.error.message();
    EXPECT_EQ(r.ok, c.ok) << r.text;
    EXPECT_TRUE(r.text.starts_with(c.text_prefix)) << r.text;
    EXPECT_EQ(queue_.calls(), c.flushed_after);
  }
}

TEST_F(ControlTest, OversizedRequestIsRefusedUnread) {
  start();
  std::string big = "flush " + std::string(2000, 'A') + "\n";
  std::string reply = raw_exchange(path_, big);
  EXPECT_TRUE(reply.starts_with("error request too long")) << reply;
  // Exactly at the limit a request is still read (1023 bytes + newline).
  std::string edge = "flush " + std::string(kMaxControlRequest - 7, 'A') + "\n";
  ASSERT_EQ(edge.size(), kMaxControlRequest);
  EXPECT_EQ(raw_exchange(path_, edge), "error invalid id\n");
  EXPECT_TRUE(queue_.calls().empty());
}

TEST_F(ControlTest, SlowRequestTimesOut) {
  start();
  // Half a request, then silence past the deadline (300 ms in this test).
  std::string reply = raw_exchange(path_, "flu", std::chrono::milliseconds(0));
  EXPECT_TRUE(reply.starts_with("error timeout")) << reply;
  EXPECT_TRUE(queue_.calls().empty());
}

TEST_F(ControlTest, OnlyTheFirstLineCounts) {
  start();
  EXPECT_EQ(raw_exchange(path_, "ping\nflush\n").substr(0, 11), "ok hikyaku ");
  EXPECT_TRUE(queue_.calls().empty());
}

TEST_F(ControlTest, SocketIsPrivate) {
  start();
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(ControlTest, StaleSocketIsReplaced) {
  make_stale_socket(path_);
  EXPECT_EQ(control_request(path_, "ping", std::chrono::seconds(1)).error,
            std::errc::connection_refused);
  start();
  ControlReply r = control_request(path_, "ping", std::chrono::seconds(5));
  EXPECT_TRUE(r.ok) << r.text;
}

TEST_F(ControlTest, LiveSocketIsNotStolen) {
  start();
  asio::io_context other;
  EXPECT_THROW(ControlServer(other.get_executor(), path_, FlushInto{&queue_}), std::runtime_error);
  EXPECT_TRUE(control_request(path_, "ping", std::chrono::seconds(5)).ok);
}

TEST_F(ControlTest, RefusesToReplaceOtherFiles) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  EXPECT_THROW(ControlServer(io_.get_executor(), path_, FlushInto{&queue_}), std::runtime_error);
  EXPECT_TRUE(fs::is_regular_file(path_));
}

TEST_F(ControlTest, PathTooLong) {
  fs::path longer = dir_.path() / std::string(120, 'x');
  EXPECT_THROW(ControlServer(io_.get_executor(), longer, FlushInto{&queue_}), std::runtime_error);
  EXPECT_EQ(control_request(longer, "ping", std::chrono::seconds(1)).error,
            std::errc::filename_too_long);
}

TEST_F(ControlTest, CloseUnlinksAndClientSaysNotRunning) {
  start();
  stop();
  EXPECT_FALSE(fs::exists(path_));
  ControlReply r = control_request(path_, "ping", std::chrono::seconds(1));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, std::errc::no_such_file_or_directory);
}

TEST(ControlReplyTest, WithoutFlushFunction) {
  EXPECT_EQ(control_reply("flush", nullptr), "error flush is not available");
  EXPECT_TRUE(control_reply("ping", nullptr).starts_with("ok hikyaku "));
  EXPECT_EQ(control_reply("status", nullptr), "error status is not available");
  EXPECT_EQ(control_reply("status", nullptr, [] { return std::string("{}"); }), "ok {}");
  EXPECT_EQ(control_reply("status extra", nullptr, [] { return std::string("{}"); }),
            "error unknown request (expected ping, status, flush or flush ID)");
}

// A status reply is far longer than the others: 40 KiB arrive whole, on one line.
TEST_F(ControlTest, LongStatusReplyArrivesWhole) {
  std::string json = "{\"pad\":\"" + std::string(40 * 1024, 'x') + "\"}";
  start([json] { return json; });
  ControlReply r = control_request(path_, "status", std::chrono::seconds(5));
  EXPECT_TRUE(r.ok) << r.text.substr(0, 100);
  EXPECT_EQ(r.text, json);
  stop();
}

}  // namespace
}  // namespace hk::server
