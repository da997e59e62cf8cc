// Capture mode in the message pipeline: a trusted client's message is stored in the capture
// after every step (DKIM-signed), not queued and not put in a Maildir; [capture] deliver
// recipients are split off to the normal path; mail outside capture mode is untouched.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <optional>
#include <string>

#include "daemon/capture/capture_store.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/message_pipeline.hpp"
#include "daemon/server/recipients.hpp"
#include "domains/watcher.hpp"
#include "server_env.hpp"

namespace hk::server {
namespace {

using test::ServerEnv;
using namespace std::chrono_literals;

queue::Recipient rcpt(const std::string& address, bool local) {
  queue::Recipient r;
  r.address = address;
  r.original = address;
  r.local = local;
  return r;
}

// A web app on a trusted network, no AUTH, as the session describes it in capture mode.
Transaction trusted_app(std::vector<queue::Recipient> rcpts) {
  Transaction tx;
  tx.port = Port::Smtp;
  tx.client_ip = "127.0.0.1";
  tx.helo = "app.test";
  tx.esmtp = true;
  tx.submission = true;
  tx.from = "alice@example.test";
  tx.rcpts = std::move(rcpts);
  tx.capture = true;
  return tx;
}

const char* kBody = "From: App <alice@example.test>\r\nSubject: order 42\r\n\r\nthanks\r\n";

struct CaptureEnv {
  explicit CaptureEnv(std::vector<std::string> deliver = {})
      : env([&](config::Config& c) {
          c.capture.enabled = true;
          c.capture.deliver = deliver;
        }),
        capture(env.io.get_executor(), env.dir.path() / "capture", {.max_messages = 100},
                *env.store, [this](queue::Envelope e) { env.queue->enqueued(std::move(e)); }) {
    env.add_dkim_key("example.test", "s1");
    env.enable_signing();
    // As the Server supplies it.
    capture.set_recipient_resolver([this](const std::string& address, std::string& error) {
      return resolve_release_rcpt(*env.domains->current(), env.cfg.hostname, address, error);
    });
  }
  capture::CaptureStore::Released release(const std::string& id, std::vector<std::string> to) {
    std::optional<capture::CaptureStore::Released> out;
    asio::co_spawn(env.io, capture.release(id, std::move(to)),
                   [&](std::exception_ptr e, capture::CaptureStore::Released r) {
                     EXPECT_FALSE(e);
                     out = std::move(r);
                   });
    env.io.run_for(30s);
    env.io.restart();
    EXPECT_TRUE(out.has_value()) << "the release did not finish";
    return out.value_or(capture::CaptureStore::Released{});
  }
  smtp::Reply run(Transaction tx) {
    Deps deps = env.deps();
    deps.capture = &capture;
    std::optional<smtp::Reply> reply;
    asio::co_spawn(env.io, accept_message(deps, std::move(tx), kBody),
                   [&](std::exception_ptr e, smtp::Reply r) {
                     EXPECT_FALSE(e);
                     reply = std::move(r);
                   });
    env.io.run_for(30s);
    env.io.restart();
    EXPECT_TRUE(reply.has_value()) << "the pipeline did not finish";
    return reply.value_or(smtp::Reply(0, "", "none"));
  }
  // The only captured message's envelope recipients and bytes.
  std::vector<std::string> captured_rcpts(std::string* raw = nullptr) {
    size_t total = 0;
    auto list = capture.list(0, 10, total);
    EXPECT_EQ(total, 1u);
    if (list.empty()) {
      return {};
    }
    queue::Envelope e;
    EXPECT_FALSE(capture.envelope(list[0]->id, e));
    if (raw != nullptr) {
      EXPECT_FALSE(capture.raw(list[0]->id, *raw));
    }
    std::vector<std::string> out;
    for (const auto& r : e.rcpts) {
      out.push_back(r.address);
    }
    return out;
  }

  ServerEnv env;
  capture::CaptureStore capture;
};

TEST(CapturePipeline, EverythingCapturedNothingDelivered) {
  CaptureEnv c;
  smtp::Reply r =
      c.run(trusted_app({rcpt("alice@example.test", true), rcpt("friend@remote.test", false)}));
  ASSERT_EQ(r.code, 250);
  std::string raw;
  EXPECT_EQ(c.captured_rcpts(&raw),
            (std::vector<std::string>{"alice@example.test", "friend@remote.test"}));
  // The reply names the captured copy, as it names a queued one.
  size_t total = 0;
  EXPECT_EQ(r.lines.front(), "Ok: queued as " + c.capture.list(0, 1, total)[0]->id);
  // After every step: our Received header and the DKIM signature are in the stored bytes.
  EXPECT_NE(raw.find("DKIM-Signature:"), std::string::npos);
  EXPECT_NE(raw.find("d=example.test"), std::string::npos);
  EXPECT_NE(raw.find("Received: from app.test"), std::string::npos);
  EXPECT_NE(raw.find("Subject: order 42\r\n\r\nthanks\r\n"), std::string::npos);
  EXPECT_EQ(c.env.queued_files(), 0u);
  EXPECT_EQ(c.env.maildir_count("example.test", "alice"), 0u);
  EXPECT_EQ(c.env.queue->size(), 0u);
}

TEST(CapturePipeline, DeliverRecipientsAreSplitOff) {
  CaptureEnv c({"*@real.test", "alice@example.test"});
  smtp::Reply r = c.run(trusted_app({rcpt("Alice@Example.test", true), rcpt("x@real.test", false),
                                     rcpt("y@remote.test", false)}));
  ASSERT_EQ(r.code, 250);
  EXPECT_EQ(c.captured_rcpts(), std::vector<std::string>{"y@remote.test"});
  // The others took the normal path: the remote one queued, the local one... queued with it
  // (a message is delivered to Maildirs at once only when all its recipients are local).
  EXPECT_EQ(c.env.queued_files(), 1u);
  std::string queued = c.env.queued_text();
  EXPECT_NE(queued.find("DKIM-Signature:"), std::string::npos);
  EXPECT_EQ(queued.find("y@remote.test"), std::string::npos);
  EXPECT_EQ(c.env.queue->size(), 1u);
}

TEST(CapturePipeline, LocalDeliverRecipientGoesToItsMaildir) {
  CaptureEnv c({"*@example.test"});
  smtp::Reply r =
      c.run(trusted_app({rcpt("alice@example.test", true), rcpt("y@remote.test", false)}));
  ASSERT_EQ(r.code, 250);
  EXPECT_EQ(c.captured_rcpts(), std::vector<std::string>{"y@remote.test"});
  EXPECT_EQ(c.env.maildir_count("example.test", "alice"), 1u);
  EXPECT_EQ(c.env.queued_files(), 0u);
}

TEST(CapturePipeline, AllAllowedNothingCaptured) {
  CaptureEnv c({"*@*.test"});  // subdomains of "test": every address here
  smtp::Reply r = c.run(trusted_app({rcpt("y@remote.test", false)}));
  ASSERT_EQ(r.code, 250);
  EXPECT_EQ(c.capture.size(), 0u);
  EXPECT_EQ(c.env.queued_files(), 1u);
}

TEST(CapturePipeline, OutsideCaptureModeNothingIsCaptured) {
  CaptureEnv c;
  Transaction tx = trusted_app({rcpt("y@remote.test", false)});
  tx.capture = false;  // an authenticated user, or a stranger: the session says so
  smtp::Reply r = c.run(std::move(tx));
  ASSERT_EQ(r.code, 250);
  EXPECT_EQ(c.capture.size(), 0u);
  EXPECT_EQ(c.env.queued_files(), 1u);
}

// Released to local addresses: resolved as at RCPT (aliases), marked local, into the queue and
// handed to its runner; the capture's copy is gone.
TEST(CapturePipeline, ReleaseResolvesLocalAddresses) {
  CaptureEnv c;
  ASSERT_EQ(c.run(trusted_app({rcpt("y@remote.test", false)})).code, 250);
  size_t total = 0;
  const std::string id = c.capture.list(0, 1, total).at(0)->id;

  // A local address nobody has is refused, and the capture keeps the message.
  capture::CaptureStore::Released refused = c.release(id, {"nobody@example.test"});
  EXPECT_EQ(refused.ec, capture::Error::RecipientRefused);
  EXPECT_NE(refused.detail.find("no such user here"), std::string::npos) << refused.detail;
  EXPECT_EQ(c.capture.size(), 1u);
  EXPECT_EQ(c.env.queued_files(), 0u);

  capture::CaptureStore::Released r = c.release(id, {"team@example.test", "far@remote.test"});
  ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.detail;
  EXPECT_EQ(c.capture.size(), 0u);
  EXPECT_EQ(c.env.queued_files(), 1u);
  EXPECT_EQ(c.env.queue->size(), 1u);  // Enqueued reached the runner
  queue::Envelope queued;
  ASSERT_FALSE(c.env.store->load_envelope(r.queue_id, queued));
  std::vector<std::string> got;
  for (const queue::Recipient& q : queued.rcpts) {
    got.push_back(q.address + (q.local ? " local" : " remote"));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"alice@example.test local", "bob@example.test local",
                                           "far@remote.test remote"}));
}

TEST(CapturePipeline, ReleaseResolver) {
  ServerEnv env;
  auto doms = env.domains->current();
  std::string error;
  std::vector<queue::Recipient> r =
      resolve_release_rcpt(*doms, "mx.test", "sales@example.test", error);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].address, "alice@example.test");
  EXPECT_TRUE(r[0].local);
  EXPECT_EQ(r[0].original, "sales@example.test");
  r = resolve_release_rcpt(*doms, "mx.test", "whoever@catchall.test", error);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].address, "alice@example.test");
  r = resolve_release_rcpt(*doms, "mx.test", "x@remote.test", error);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].local);
  for (const char* bad : {"no-domain", "a@[127.0.0.1]", "a b@example.test", "<a@b.test>", ""}) {
    error.clear();
    EXPECT_TRUE(resolve_release_rcpt(*doms, "mx.test", bad, error).empty()) << bad;
    EXPECT_NE(error.find("not a valid address"), std::string::npos) << bad << ": " << error;
  }
  error.clear();
  EXPECT_TRUE(resolve_release_rcpt(*doms, "mx.test", "carol@example.test", error).empty());
  EXPECT_EQ(error, "no such user here: carol@example.test");
}

}  // namespace
}  // namespace hk::server
