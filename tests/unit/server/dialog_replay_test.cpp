// Replays every dialog script of tests/dialogs/ in-process: the real Session over an in-memory
// stream (TLS included, OpenSSL over the same stream), with the configuration and domains the
// live test t-01-dialogs gives the daemon, checking every reply as tests/integration/dialog.py
// does — and, after the dialog, what t-01-dialogs/run.sh checks on disk and in the metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/queue/queue.hpp"
#include "daemon/server/session_timer.hpp"
#include "server_env.hpp"

namespace hk::server::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---- the script format of tests/integration/dialog.py ----

struct Step {
  enum class Op { Send, Expect, Closed, Tls, Sleep };
  Op op;
  std::string text;    // Send: the bytes; Expect: the regex (may be empty)
  std::string code;    // Expect: the reply code, or a prefix of it ("5")
  double seconds = 0;  // Sleep
  std::string where;   // "file:line: line", for failure messages
};

// dialog.py's `=>`: Python string escapes, each giving one byte.
std::optional<std::string> unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'r') {
      out += '\r';
    } else if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == '\\') {
      out += '\\';
    } else if (c == '0') {
      out += '\0';
    } else if (c == 'x' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      return std::nullopt;  // an escape these tests do not know: fail loudly, not silently
    }
  }
  return out;
}

std::vector<Step> parse_script(std::istream& in, const std::string& name, std::string& error) {
  std::vector<Step> steps;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[0] == '#') {
      continue;
    }
    size_t space = line.find(' ');
    std::string op = line.substr(0, space);
    std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    Step s;
    s.where = name + ":" + std::to_string(n) + ": " + line.substr(0, 80);
    if (op == "->") {
      s.op = Step::Op::Send;
      s.text = rest + "\r\n";
    } else if (op == "=>") {
      s.op = Step::Op::Send;
      auto raw = unescape(rest);
      if (!raw) {
        error = s.where + ": unknown escape";
        return {};
      }
      s.text = *raw;
    } else if (op == "<-" && rest == "closed") {
      s.op = Step::Op::Closed;
    } else if (op == "<-") {
      s.op = Step::Op::Expect;
      size_t sp = rest.find(' ');
      s.code = rest.substr(0, sp);
      s.text = sp == std::string::npos ? "" : rest.substr(sp + 1);
    } else if (op == "==" && rest == "tls") {
      s.op = Step::Op::Tls;
    } else if (op == "==" && rest.rfind("sleep ", 0) == 0) {
      s.op = Step::Op::Sleep;
      s.seconds = std::stod(rest.substr(6));
    } else {
      error = s.where + ": unknown step";
      return {};
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

// Python's re.search with a leading (?s) or (?i) group, in std::regex's ECMAScript: (?i) becomes
// icase, and under (?s) every unescaped '.' outside brackets matches newlines too.
bool python_search(std::string pattern, const std::string& text) {
  auto flags = std::regex::ECMAScript;
  bool dotall = false;
  while (pattern.size() >= 4 && pattern.compare(0, 2, "(?") == 0 && pattern[3] == ')') {
    if (pattern[2] == 'i') {
      flags |= std::regex::icase;
    } else if (pattern[2] == 's') {
      dotall = true;
    }
    pattern.erase(0, 4);
  }
  if (dotall) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (c == '\\' && i + 1 < pattern.size()) {
        out += c;
        out += pattern[++i];
        continue;
      }
      in_class = c == '[' ? true : c == ']' ? false : in_class;
      out += (c == '.' && !in_class) ? std::string("[\\s\\S]") : std::string(1, c);
    }
    pattern = out;
  }
  return std::regex_search(text, std::regex(pattern, flags));
}

// ---- the client: dialog.py's Conn over the in-memory stream ----

class DialogClient {
 public:
  DialogClient(TestStream& stream, const fs::path& cafile)
      : plain_(stream), ctx_(asio::ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_2_VERSION);
    ctx_.load_verify_file(cafile.string());
    ctx_.set_verify_mode(asio::ssl::verify_peer);
  }

  // Runs every step; empty on success, else where and why it failed (dialog.py's message).
  asio::awaitable<std::string> run(std::vector<Step> steps) {
    for (const Step& s : steps) {
      std::string failure = co_await step(s);
      if (!failure.empty()) {
        co_return s.where + ": " + failure;
      }
    }
    co_return std::string();
  }

 private:
  asio::awaitable<std::string> step(const Step& s) {
    switch (s.op) {
      case Step::Op::Send:
        co_return co_await write(s.text) ? "" : "write failed";
      case Step::Op::Expect: {
        std::vector<std::string> reply;
        for (;;) {
          std::optional<std::string> line = co_await read_line();
          if (!line) {
            co_return "connection closed";
          }
          reply.push_back(*line);
          if (line->size() < 4 || (*line)[3] != '-') {
            break;
          }
        }
        std::string text;
        for (const auto& l : reply) {
          text += (text.empty() ? "" : "\n") + l;
        }
        if (reply.back().rfind(s.code, 0) != 0 ||
            (!s.text.empty() && !python_search(s.text, text))) {
          co_return "got:\n" + text;
        }
        co_return "";
      }
      case Step::Op::Closed:
        // Whatever is still buffered or arrives is dropped until the end of the stream; a
        // session that never closes leaves this read waiting, and the test's deadline fails it.
        for (;;) {
          std::optional<std::string> line = co_await read_line();
          if (!line) {
            co_return "";
          }
        }
      case Step::Op::Tls: {
        tls_ = std::make_unique<asio::ssl::stream<TestStream&>>(plain_, ctx_);
        // SNI as dialog.py sends it; SSL_set_tlsext_host_name() spelled out, since the macro's C
        // cast trips -Wold-style-cast.
        char name[] = "mx.test";
        SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 name);
        tls_->set_verify_callback(asio::ssl::host_name_verification("mx.test"));
        auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kTuple);
        buf_.clear();
        co_return ec ? "TLS handshake: " + ec.message() : "";
      }
      case Step::Op::Sleep: {
        asio::steady_timer t(plain_.get_executor(),
                             std::chrono::milliseconds(static_cast<long>(s.seconds * 1000)));
        co_await t.async_wait(kTuple);
        co_return "";
      }
    }
    co_return "unknown step";
  }

  asio::awaitable<bool> write(const std::string& bytes) {
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await asio::async_write(*tls_, asio::buffer(bytes), kTuple);
    } else {
      std::tie(ec, n) = co_await asio::async_write(plain_, asio::buffer(bytes), kTuple);
    }
    co_return !ec;
  }

  // One line without its CRLF; nothing at the end of the stream (or a TLS error, as dialog.py
  // counts an SSLError as closed).
  asio::awaitable<std::optional<std::string>> read_line() {
    while (buf_.find('\n') == std::string::npos) {
      char chunk[4096];
      boost::system::error_code ec;
      size_t n = 0;
      if (tls_) {
        std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(chunk), kTuple);
      } else {
        std::tie(ec, n) = co_await plain_.async_read_some(asio::buffer(chunk), kTuple);
      }
      if (ec) {
        co_return std::nullopt;
      }
      buf_.append(chunk, n);
    }
    size_t eol = buf_.find('\n');
    std::string line = buf_.substr(0, eol);
    buf_.erase(0, eol + 1);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    co_return line;
  }

  TestStream& plain_;
  asio::ssl::context ctx_;
  std::unique_ptr<asio::ssl::stream<TestStream&>> tls_;
  std::string buf_;
};

// ---- the scripts, the ports t-01-dialogs/run.sh runs them on, and its checks after them ----

// Every script must be listed: a new one without a port here fails the test until it is added.
const std::map<std::string, Port> kPorts = {
    {"auth-failures", Port::SubmissionTls},
    {"basic", Port::Smtp},
    {"long-line", Port::Smtp},
    {"open-relay-case", Port::Smtp},
    {"open-relay", Port::Smtp},
    {"pipelining", Port::Smtp},
    {"pipelining-improper", Port::Smtp},
    {"protocol", Port::Smtp},
    {"requiretls", Port::Smtp},
    {"sender-rules", Port::SubmissionTls},
    {"smuggling", Port::Smtp},
    {"starttls-injection", Port::Submission},
    {"starttls-restart", Port::Submission},
};

void check_after(const std::string& name, ServerEnv& env) {
  if (name == "basic") {
    EXPECT_EQ(env.maildir_count("example.test", "alice"), 1u);
    EXPECT_NE(env.maildir_text("example.test", "alice").find("by mx.test (hikyaku) with ESMTP"),
              std::string::npos);
  } else if (name == "pipelining") {
    EXPECT_EQ(env.maildir_count("example.test", "alice"), 1u);
    EXPECT_NE(env.maildir_text("example.test", "alice").find("\r\n.dot-stuffed\r\n"),
              std::string::npos);  // dot-unstuffed once
  } else if (name == "smuggling") {
    // The smuggled commands never became a message.
    EXPECT_EQ(env.maildir_text("example.test", "alice").find("evil@remote.test"),
              std::string::npos);
    EXPECT_EQ(env.queued_text().find("evil@remote.test"), std::string::npos);
    EXPECT_EQ(env.maildir_count("example.test", "alice"), 0u);
  } else if (name == "pipelining-improper") {
    EXPECT_EQ(env.maildir_count("example.test", "alice"), 0u);
    EXPECT_EQ(env.queued_files(), 0u);
    EXPECT_EQ(env.metrics.rejected_pipelining.value(), 1u);
  } else if (name == "sender-rules") {
    // The authenticated relay is queued for the remote recipient.
    EXPECT_EQ(env.queued_files(), 1u);
    EXPECT_EQ(env.queue->size(), 1u);
  } else if (name == "open-relay") {
    EXPECT_GT(env.metrics.rejected_relay.value(), 0u);
  }
}

std::vector<std::string> script_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(HK_DIALOGS_DIR)) {
    if (e.path().extension() == ".smtp") {
      names.push_back(e.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Replay {
  std::optional<std::string> failure;  // empty: every step matched; nothing: did not finish
  bool session_done = false;
  std::exception_ptr escaped;
};

// Runs `steps` against a new session on `port`, as dialog.py runs them against the daemon.
Replay replay(ServerEnv& env, Port port, std::vector<Step> steps) {
  Replay r;
  env.io.restart();  // a replay before this one may have run the context out of work
  TestStream client_end(env.io.get_executor());
  env.start_session(client_end, port, &r.session_done, &r.escaped);
  DialogClient client(client_end, env.cfg.certs_dir() / "mx.test" / "fullchain.pem");
  asio::co_spawn(env.io, client.run(std::move(steps)),
                 [&](std::exception_ptr e, std::string result) {
                   r.failure = e ? "the client threw" : result;
                   client_end.close();  // as dialog.py exits: the session reads EOF
                 });
  env.io.run_for(60s);
  return r;
}

std::vector<Step> parse_text(const std::string& text) {
  std::istringstream in(text);
  std::string error;
  std::vector<Step> steps = parse_script(in, "inline", error);
  EXPECT_EQ(error, "");
  return steps;
}

void expect_success(const Replay& r) {
  ASSERT_TRUE(r.failure.has_value()) << "the dialog did not finish in time";
  EXPECT_EQ(*r.failure, "");
  EXPECT_TRUE(r.session_done) << "the session did not end";
  EXPECT_FALSE(r.escaped) << "an exception escaped the session";
}

class DialogReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(DialogReplay, SameRepliesAsTheLiveDaemon) {
  const std::string name = GetParam();
  auto port = kPorts.find(name);
  ASSERT_NE(port, kPorts.end()) << "tests/dialogs/" << name << ".smtp: add its port to kPorts";
  std::ifstream in(fs::path(HK_DIALOGS_DIR) / (name + ".smtp"));
  std::string parse_error;
  std::vector<Step> steps = parse_script(in, name + ".smtp", parse_error);
  ASSERT_TRUE(parse_error.empty()) << parse_error;
  ASSERT_FALSE(steps.empty());
  ServerEnv env;
  expect_success(replay(env, port->second, std::move(steps)));
  check_after(name, env);
}

INSTANTIATE_TEST_SUITE_P(Dialogs, DialogReplay, ::testing::ValuesIn(script_names()),
                         [](const ::testing::TestParamInfo<std::string>& script) {
                           std::string id = script.param;
                           std::replace(id.begin(), id.end(), '-', '_');
                           return id;
                         });

// Dialogs the live tests cannot run quickly or at all: the session's own timeouts and limits.
TEST(SessionInMemory, CommandTimeoutSays421AndCloses) {
  ServerEnv env([](config::Config& c) { c.limits.command_timeout = std::chrono::seconds(1); });
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
<- 421 4.4.2 mx.test Timeout exceeded
<- closed
)")));
  EXPECT_EQ(env.metrics.session_timeouts.value(), 1u);
}

// A command line that trickles in is cut at command_line_timeout, far before command_timeout;
// a client that is merely idle is not.
TEST(SessionInMemory, UnfinishedCommandLineIsCutAtItsBound) {
  ServerEnv env([](config::Config& c) {
    c.limits.command_timeout = std::chrono::seconds(30);
    c.limits.command_line_timeout = std::chrono::seconds(1);
  });
  auto t0 = std::chrono::steady_clock::now();
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
=> N
== sleep 0.4
=> O
== sleep 0.4
=> O
<- 421 4.4.2 mx.test Timeout exceeded
<- closed
)")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(env.metrics.session_timeouts.value(), 1u);
}

// The same bound holds for the answer to an AUTH challenge.
TEST(SessionInMemory, UnfinishedAuthAnswerIsCutAtTheLineBound) {
  ServerEnv env([](config::Config& c) {
    c.limits.command_timeout = std::chrono::seconds(30);
    c.limits.command_line_timeout = std::chrono::seconds(1);
  });
  auto t0 = std::chrono::steady_clock::now();
  expect_success(replay(env, Port::SubmissionTls, parse_text(R"(
== tls
<- 220
-> EHLO client.test
<- 250
-> AUTH LOGIN
<- 334
=> YWxp
== sleep 0.6
=> Y2U
<- closed
)")));
  // Under TLS the 421 is not written (Transport::abort cannot wait for a TLS write); the timeout
  // is what closed the connection.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(env.metrics.session_timeouts.value(), 1u);
}

TEST(SessionInMemory, IdleClientIsNotCutAtTheLineBound) {
  ServerEnv env([](config::Config& c) {
    c.limits.command_timeout = std::chrono::seconds(3);
    c.limits.command_line_timeout = std::chrono::seconds(1);
  });
  auto t0 = std::chrono::steady_clock::now();
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
== sleep 1.5
-> NOOP
<- 250
<- 421 4.4.2
<- closed
)")));
  // 1.5 s of silence, then 3 s of idle after the NOOP.
  EXPECT_GT(std::chrono::steady_clock::now() - t0, 4s);
}

// Stress mode: at stress_threshold percent of max_connections, an idle client gets
// stress_timeout instead of command_timeout.
TEST(SessionInMemory, UnderStressIdleClientsGetTheShortTimeout) {
  ServerEnv env([](config::Config& c) {
    c.limits.command_timeout = std::chrono::seconds(30);
    c.limits.max_connections = 10;
    c.limits.stress_threshold = 70;
    c.limits.stress_timeout = std::chrono::seconds(1);
  });
  env.counts.total = 7;
  auto t0 = std::chrono::steady_clock::now();
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
-> EHLO client.test
<- 250
<- 421 4.4.2
<- closed
)")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(SessionTimer::stressed(env.cfg, &env.counts));
  env.counts.total = 6;
  EXPECT_FALSE(SessionTimer::stressed(env.cfg, &env.counts));
}

// RFC 2920 §3.1: commands behind one that must end a group are refused for strangers...
TEST(SessionInMemory, ImproperPipeliningAfterGroupEndersIsRefused) {
  for (std::string first :
       {"EHLO client.test", "HELO client.test", "NOOP", "VRFY alice@example.test", "EXPN staff"}) {
    ServerEnv env;
    std::string script = "<- 220\n";
    if (first.rfind("NOOP", 0) == 0 || first.rfind("VRFY", 0) == 0 || first.rfind("EXPN", 0) == 0) {
      script += "-> EHLO client.test\n<- 250\n";
    }
    script += "=> " + first + "\\r\\nMAIL FROM:<a@remote.test>\\r\\n\n<- 554 5.5.0\n<- closed\n";
    SCOPED_TRACE(first);
    expect_success(replay(env, Port::Smtp, parse_text(script)));
    EXPECT_EQ(env.metrics.rejected_pipelining.value(), 1u);
  }
}

// ... while correct pipelining works: a new group right behind the final dot.
TEST(SessionInMemory, PipeliningBehindTheFinalDotIsCorrect) {
  ServerEnv env;
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
-> EHLO client.test
<- 250
=> MAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n
<- 250
<- 250
<- 354
=> Subject: one\r\n\r\n1\r\n.\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n
<- 250
<- 250
<- 250
<- 354
=> Subject: two\r\n\r\n2\r\n.\r\nQUIT\r\n
<- 250
<- 221
<- closed
)")));
  EXPECT_EQ(env.maildir_count("example.test", "alice"), 1u);
  EXPECT_EQ(env.maildir_count("example.test", "bob"), 1u);
  EXPECT_EQ(env.metrics.rejected_pipelining.value(), 0u);
}

// Trusted networks are exempt: their content sent before the 354 is still taken as the message.
TEST(SessionInMemory, TrustedClientsMayPipelineFreely) {
  ServerEnv env(
      [](config::Config& c) { c.trusted_networks = {config::parse_cidr("127.0.0.0/8")}; });
  expect_success(replay(env, Port::Smtp, parse_text(R"(
<- 220
=> EHLO app.test\r\nMAIL FROM:<a@app.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nNOOP\r\nQUIT\r\n
<- 250
<- 250
<- 250
<- 354
<- 250
<- 250
<- 221
<- closed
)")));
  EXPECT_EQ(env.maildir_count("example.test", "alice"), 1u);
}

// Failed logins are counted across connections: past auth_failures_per_ip the address gets 454.
TEST(SessionInMemory, AuthBanAcrossConnections) {
  ServerEnv env([](config::Config& c) { c.limits.auth_failures_per_ip = 3; });
  const std::string wrong = "-> AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB3cm9uZw==\n";
  expect_success(replay(env, Port::SubmissionTls,
                        parse_text("== tls\n<- 220\n-> EHLO c.test\n<- 250\n" + wrong +
                                   "<- 535 5.7.8\n" + wrong + "<- 535 5.7.8\n-> QUIT\n<- 221\n")));
  expect_success(replay(env, Port::SubmissionTls,
                        parse_text("== tls\n<- 220\n-> EHLO c.test\n<- 250\n" + wrong +
                                   "<- 535 5.7.8\n"
                                   "-> AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\n"
                                   "<- 454 4.7.0\n-> QUIT\n<- 221\n")));
  EXPECT_EQ(env.metrics.rejected_auth_ban.value(), 1u);
}

TEST(SessionInMemory, MessageRatePerAuthenticatedUser) {
  ServerEnv env([](config::Config& c) { c.limits.messages_per_hour_user = 1; });
  expect_success(replay(env, Port::SubmissionTls, parse_text(R"(
== tls
<- 220
-> EHLO c.test
<- 250
-> AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=
<- 235
-> MAIL FROM:<alice@example.test>
<- 250
-> RSET
<- 250
-> MAIL FROM:<alice@example.test>
<- 451 4.7.1
-> QUIT
<- 221
)")));
  EXPECT_EQ(env.metrics.rejected_message_rate.value(), 1u);
}

TEST(SessionInMemory, OverlongAuthAnswerAbortsAndCloses) {
  ServerEnv env;
  expect_success(replay(env, Port::SubmissionTls, parse_text(R"(
== tls
<- 220
-> EHLO client.test
<- 250
-> AUTH LOGIN
<- 334 VXNlcm5hbWU6
-> )" + std::string(1200, 'A') + R"(
<- 501 5.5.2 Authentication aborted
<- closed
)")));
}

TEST(SessionInMemory, CancelledAuthKeepsTheSession) {
  ServerEnv env;
  expect_success(replay(env, Port::SubmissionTls, parse_text(R"(
== tls
<- 220
-> EHLO client.test
<- 250
-> AUTH PLAIN
<- 334
-> *
<- 501 5.0.0 Authentication cancelled
-> AUTH CRAM-MD5
<- 504 5.5.4
-> AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=
<- 235 2.7.0
-> QUIT
<- 221
<- closed
)")));
}

// The replay must be able to fail: a wrong expectation is reported with what came instead.
TEST(DialogReplayHarness, ReportsAMismatch) {
  ServerEnv env;
  Replay r = replay(env, Port::Smtp, parse_text("<- 220\n-> NOOP\n<- 500\n"));
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(*r.failure, "inline:3: <- 500: got:\n250 2.0.0 Ok");
  EXPECT_TRUE(r.session_done);
}

TEST(DialogReplayHarness, PythonPatterns) {
  EXPECT_TRUE(python_search("(?i)bare", "554 5.6.0 Bare line endings"));
  EXPECT_FALSE(python_search("bare", "554 5.6.0 Bare line endings"));
  const std::string ehlo = "250-mx.test Hello\n250-PIPELINING\n250 SIZE 1048576";
  EXPECT_TRUE(python_search("(?s)PIPELINING.*SIZE 1048576|SIZE 1048576.*PIPELINING", ehlo));
  EXPECT_FALSE(python_search("PIPELINING.*SIZE 1048576", ehlo));
  EXPECT_EQ(unescape("a\\r\\n\\x41"), std::string("a\r\nA"));
  EXPECT_FALSE(unescape("\\q").has_value());
}

}  // namespace
}  // namespace hk::server::test
