// Test support for hk_delivery: the Python servers, certificates, a scripted raw server.
#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hk::delivery::test {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `args` and reads the port it prints as its first line of stdout, waiting up to 8 s;
// 0 (and no child) when it did not. Python and aiosmtpd start in well under a second.
uint16_t start_and_read_port(std::optional<hk::test::Child>& child,
                             const std::vector<std::string>& args) {
  child.emplace(args, true);
  std::optional<std::string> line = child->read_line(std::chrono::seconds(8));
  int port = line ? std::atoi(line->c_str()) : 0;
  if (port > 0 && port < 65536) {
    return static_cast<uint16_t>(port);
  }
  child.reset();
  return 0;
}

asio::awaitable<void> play(tcp::socket sock, std::vector<Step> script,
                           std::shared_ptr<std::vector<std::string>> received) {
  std::string buf;
  for (const Step& s : script) {
    if (s.kind == Step::Kind::Send) {
      auto [ec, n] = co_await asio::async_write(sock, asio::buffer(s.text), kTuple);
      if (ec) {
        co_return;
      }
      if (s.ms > 0) {
        asio::steady_timer t(sock.get_executor(), std::chrono::milliseconds(s.ms));
        co_await t.async_wait(kTuple);
      }
    } else if (s.kind == Step::Kind::Expect || s.kind == Step::Kind::ExpectData) {
      std::string got;
      for (;;) {
        auto [ec, n] =
            co_await asio::async_read_until(sock, asio::dynamic_buffer(buf), "\n", kTuple);
        if (ec) {
          co_return;
        }
        std::string line = buf.substr(0, n);
        buf.erase(0, n);
        got += line;
        if (s.kind == Step::Kind::Expect || line == ".\r\n") {
          break;
        }
      }
      received->push_back(got);
    } else if (s.kind == Step::Kind::Hold) {
      char scratch[512];
      for (;;) {
        auto [ec, n] = co_await sock.async_read_some(asio::buffer(scratch), kTuple);
        if (ec) {
          break;
        }
      }
    } else {
      boost::system::error_code ignored;
      sock.close(ignored);
      co_return;
    }
  }
}

// Accepts one connection per script, each played on its own.
asio::awaitable<void> serve(tcp::acceptor acceptor, std::vector<std::vector<Step>> scripts,
                            std::shared_ptr<std::vector<std::string>> received,
                            std::shared_ptr<size_t> accepted) {
  for (std::vector<Step>& script : scripts) {
    auto [aec, sock] = co_await acceptor.async_accept(kTuple);
    if (aec) {
      co_return;
    }
    ++*accepted;
    asio::co_spawn(acceptor.get_executor(), play(std::move(sock), std::move(script), received),
                   asio::detached);
  }
}

}  // namespace

const TestCert& test_cert() {
  static hk::test::TempDir dir;
  static TestCert cert = [] {
    TestCert c{(dir.path() / "cert.pem").string(), (dir.path() / "key.pem").string()};
    int rc = hk::test::run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key,
                                    "-out", c.cert, "-days", "2", "-subj", "/CN=mx.test", "-addext",
                                    "subjectAltName=DNS:mx.test,IP:127.0.0.1"});
    if (rc != 0) {
      c.cert.clear();
    }
    return c;
  }();
  return cert;
}

TestCert make_cert(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  std::string san;
  for (const std::string& n : names) {
    san += (san.empty() ? "subjectAltName=DNS:" : ",DNS:") + n;
  }
  TestCert c{(dir / (names.front() + ".pem")).string(), (dir / (names.front() + ".key")).string()};
  int rc = hk::test::run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key,
                                  "-out", c.cert, "-days", "2", "-subj", "/CN=" + names.front(),
                                  "-addext", san});
  if (rc != 0) {
    c = {};
  }
  return c;
}

std::vector<std::string> Stored::values(const std::string& key) const {
  std::vector<std::string> out;
  for (const std::string& line : env) {
    if (line.rfind(key + " ", 0) == 0) {
      out.push_back(line.substr(key.size() + 1));
    }
  }
  return out;
}

FakeMx::FakeMx(std::vector<std::string> flags) {
  std::vector<std::string> args = {"/usr/bin/python3",   HK_FAKE_MX,   "--dir",
                                   dir_.path().string(), "--lifetime", "20"};
  args.insert(args.end(), flags.begin(), flags.end());
  port_ = start_and_read_port(child_, args);
}

PolicyServer::PolicyServer(std::vector<std::string> flags) {
  std::vector<std::string> args = {"/usr/bin/python3", HK_POLICY_SERVER};
  args.insert(args.end(), flags.begin(), flags.end());
  port_ = start_and_read_port(child_, args);
}

tcp::endpoint FakeMx::endpoint() const { return {asio::ip::make_address_v4("127.0.0.1"), port_}; }

std::vector<std::string> FakeMx::sessions() const {
  std::vector<std::string> out;
  std::istringstream lines(read_file(dir_.path() / "sessions.log"));
  for (std::string line; std::getline(lines, line);) {
    out.push_back(line);
  }
  return out;
}

std::vector<Stored> FakeMx::messages() const {
  std::vector<Stored> out;
  for (int i = 1;; ++i) {
    auto base = dir_.path() / ("msg-" + std::to_string(i));
    std::filesystem::path env = base;
    env += ".env";
    if (!std::filesystem::exists(env)) {
      break;
    }
    std::filesystem::path eml = base;
    eml += ".eml";
    Stored s;
    std::istringstream lines(read_file(env));
    for (std::string line; std::getline(lines, line);) {
      s.env.push_back(line);
    }
    s.data = read_file(eml);
    out.push_back(std::move(s));
  }
  return out;
}

ScriptedServer::ScriptedServer(asio::io_context& io, std::vector<Step> script)
    : ScriptedServer(io, std::vector<std::vector<Step>>{std::move(script)}) {}

ScriptedServer::ScriptedServer(asio::io_context& io, std::vector<std::vector<Step>> scripts)
    : received_(std::make_shared<std::vector<std::string>>()),
      accepted_(std::make_shared<size_t>(0)) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  endpoint_ = acceptor.local_endpoint();
  asio::co_spawn(io, serve(std::move(acceptor), std::move(scripts), received_, accepted_),
                 asio::detached);
}

}  // namespace hk::delivery::test
