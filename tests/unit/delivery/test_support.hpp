// Test support for hk_delivery: a self-signed certificate made with the openssl CLI, the
// fake_mx.py aiosmtpd server as a child process, and a scripted raw TCP server on the test's own
// io_context. Running a coroutine, free ports and child processes: tests/support.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::delivery::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A self-signed certificate for "mx.test" and 127.0.0.1, made once per test binary; it is its
// own CA file.
struct TestCert {
  std::string cert;
  std::string key;
};
const TestCert& test_cert();
// A self-signed certificate (its own CA file) for the DNS names `names`, written into `dir`;
// empty paths when openssl failed.
TestCert make_cert(const std::filesystem::path& dir, const std::vector<std::string>& names);

// One message fake_mx.py stored.
struct Stored {
  std::vector<std::string> env;  // "from a@b", "rcpt c@d", "mail-option SMTPUTF8", "tls yes", ...
  std::string data;
  std::vector<std::string> values(const std::string& key) const;  // every value of `key`
};

// fake_mx.py (aiosmtpd) in a child process on 127.0.0.1, with `flags` as its options; it stops
// on its own after 20 s and is killed at destruction.
class FakeMx {
 public:
  explicit FakeMx(std::vector<std::string> flags = {});
  FakeMx(const FakeMx&) = delete;
  FakeMx& operator=(const FakeMx&) = delete;

  bool started() const { return port_ != 0; }
  tcp::endpoint endpoint() const;
  std::vector<Stored> messages() const;
  // sessions.log: "connect N" per connection accepted, "quit N" per QUIT received.
  std::vector<std::string> sessions() const;

 private:
  hk::test::TempDir dir_;
  std::optional<hk::test::Child> child_;  // after dir_: stopped before its folder goes
  uint16_t port_ = 0;
};

// policy_server.py (http.server in TLS, for MTA-STS fetches) in a child process, with `flags`
// as its options (--cert and --key among them); killed at destruction.
class PolicyServer {
 public:
  explicit PolicyServer(std::vector<std::string> flags);
  PolicyServer(const PolicyServer&) = delete;
  PolicyServer& operator=(const PolicyServer&) = delete;

  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }

 private:
  std::optional<hk::test::Child> child_;
  uint16_t port_ = 0;
};

// A raw TCP server for what aiosmtpd cannot be made to do (silence, garbage, split replies).
// Accepts one connection and plays the script, or one connection per script in turn.
struct Step {
  enum class Kind {
    Send,        // write `text` (then wait `ms` milliseconds)
    Expect,      // read one line from the client and record it
    ExpectData,  // read lines up to and including "." and record them as one entry
    Hold,        // read and discard until the client closes
    Close,       // close the connection
  } kind;
  std::string text;
  int ms = 0;
};
class ScriptedServer {
 public:
  ScriptedServer(asio::io_context& io, std::vector<Step> script);
  ScriptedServer(asio::io_context& io, std::vector<std::vector<Step>> scripts);
  tcp::endpoint endpoint() const { return endpoint_; }
  // What the client sent, one entry per Expect / ExpectData step played (all connections).
  const std::vector<std::string>& received() const { return *received_; }
  size_t accepted() const { return *accepted_; }

 private:
  tcp::endpoint endpoint_;
  std::shared_ptr<std::vector<std::string>> received_;
  std::shared_ptr<size_t> accepted_;
};

}  // namespace hk::delivery::test
