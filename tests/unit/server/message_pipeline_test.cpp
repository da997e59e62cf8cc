// The message pipeline's steps, in order: loop detection, From: authorization, the headers it
// adds (and where), DKIM signing, and the commit into a Maildir or the queue.
#include "daemon/server/message_pipeline.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <optional>
#include <span>
#include <string>

#include "daemon/queue/queue.hpp"
#include "lib/base/base64.hpp"
#include "lib/dkim/signer.hpp"
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

// A stranger on port 25 sending to alice, SPF already checked at MAIL FROM.
Transaction inbound() {
  Transaction tx;
  tx.port = Port::Smtp;
  tx.client_ip = "192.0.2.1";
  tx.helo = "client.test";
  tx.esmtp = true;
  tx.from = "sender@remote.test";
  tx.rcpts = {rcpt("alice@example.test", true)};
  tx.spf_header = "Received-SPF: pass (test) client-ip=192.0.2.1;\r\n";
  tx.spf_result = "pass";
  return tx;
}

// alice, authenticated on port 465, sending to a remote address.
Transaction submission() {
  Transaction tx;
  tx.port = Port::SubmissionTls;
  tx.client_ip = "127.0.0.1";
  tx.helo = "laptop.test";
  tx.esmtp = true;
  tx.auth_user = "alice@example.test";
  tx.submission = true;
  tx.tls = true;
  tx.tls_version = "TLSv1.3";
  tx.tls_cipher = "TLS_AES_256_GCM_SHA384";
  tx.from = "alice@example.test";
  tx.rcpts = {rcpt("friend@remote.test", false)};
  return tx;
}

smtp::Reply run(ServerEnv& env, Transaction tx, std::string body) {
  std::optional<smtp::Reply> reply;
  asio::co_spawn(env.io, accept_message(env.deps(), std::move(tx), std::move(body)),
                 [&](std::exception_ptr e, smtp::Reply r) {
                   EXPECT_FALSE(e);
                   reply = std::move(r);
                 });
  env.io.run_for(30s);
  env.io.restart();
  EXPECT_TRUE(reply.has_value()) << "the pipeline did not finish";
  return reply.value_or(smtp::Reply(0, "", "none"));
}

// The byte offset of `needle` in `text`, or npos.
size_t at(const std::string& text, const std::string& needle) { return text.find(needle); }

TEST(MessagePipeline, InboundMailGetsTraceHeadersAndTheMaildir) {
  ServerEnv env;
  smtp::Reply r = run(env, inbound(), "Subject: hi\r\n\r\nhello\r\n");
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.lines.front().rfind("Ok: queued as ", 0), 0u);
  ASSERT_EQ(env.maildir_count("example.test", "alice"), 1u);
  EXPECT_EQ(env.queued_files(), 0u);
  std::string msg = env.maildir_text("example.test", "alice");
  // Received-SPF, then Received, then the message as sent; no submission fix-ups.
  size_t spf = at(msg, "Received-SPF: pass (test)");
  size_t received = at(msg, "Received: from client.test");
  size_t body = at(msg, "Subject: hi\r\n\r\nhello\r\n");
  ASSERT_NE(spf, std::string::npos);
  ASSERT_NE(received, std::string::npos);
  ASSERT_NE(body, std::string::npos);
  EXPECT_LT(spf, received);
  EXPECT_LT(received, body);
  EXPECT_NE(at(msg, "for <alice@example.test>"), std::string::npos);
  EXPECT_EQ(at(msg, "Message-ID:"), std::string::npos);
  EXPECT_EQ(at(msg, "Authentication-Results:"), std::string::npos);  // verify_dkim is off
  EXPECT_EQ(env.metrics.accepted.value(), 1u);
  EXPECT_EQ(env.metrics.delivered_maildir.value(), 1u);
}

// RFC 8601 §5: a stranger's Authentication-Results in our name is renamed before it is stored,
// in a message kept in memory and in one spooled to disk; other hosts' fields and the body stay.
TEST(MessagePipeline, ForgedAuthenticationResultsAreRenamed) {
  const std::string forged =
      "Authentication-Results: mx.test; dkim=pass header.d=bank.test\r\n"
      "Authentication-Results: relay.other.test; spf=pass\r\n"
      "Subject: hi\r\n\r\n";
  for (size_t body_size : {size_t{10}, 3 * queue::Spool::kMemoryLimit}) {
    ServerEnv env;
    std::string body(body_size, 'b');
    body += "\r\nAuthentication-Results: mx.test; in the body\r\n";
    smtp::Reply r = run(env, inbound(), forged + body);
    EXPECT_EQ(r.code, 250);
    std::string msg = env.maildir_text("example.test", "alice");
    EXPECT_NE(at(msg, "X-Invalid-Auth-Results: mx.test; dkim=pass header.d=bank.test\r\n"),
              std::string::npos)
        << body_size;
    EXPECT_EQ(at(msg, "Authentication-Results: mx.test; dkim"), std::string::npos) << body_size;
    EXPECT_NE(at(msg, "\r\nAuthentication-Results: relay.other.test; spf=pass\r\n"),
              std::string::npos);
    EXPECT_NE(at(msg, "\r\nAuthentication-Results: mx.test; in the body\r\n"), std::string::npos);
  }
  // Our own users' mail is inside the trust boundary: left as it is.
  ServerEnv env;
  smtp::Reply r = run(env, submission(),
                      "From: Alice <alice@example.test>\r\nAuthentication-Results: mx.test; "
                      "none\r\n\r\nhi\r\n");
  EXPECT_EQ(r.code, 250);
  EXPECT_NE(at(env.queued_text(), "\r\nAuthentication-Results: mx.test; none\r\n"),
            std::string::npos);
}

TEST(MessagePipeline, SubmissionIsFixedUpSignedAndQueued) {
  ServerEnv env;
  env.add_dkim_key("example.test", "s1");
  env.enable_signing();
  smtp::Reply r =
      run(env, submission(), "From: Alice <alice@example.test>\r\nSubject: x\r\n\r\nhi\r\n");
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(env.queued_files(), 1u);
  EXPECT_EQ(env.queue->size(), 1u);
  std::string msg = env.queued_text();
  size_t sig = at(msg, "DKIM-Signature:");
  size_t received = at(msg, "Received: from laptop.test");
  size_t date = at(msg, "Date: ");
  size_t id = at(msg, "Message-ID: <");
  size_t body = at(msg, "From: Alice <alice@example.test>");
  ASSERT_NE(sig, std::string::npos);
  ASSERT_NE(received, std::string::npos);
  ASSERT_NE(date, std::string::npos);
  ASSERT_NE(id, std::string::npos);
  EXPECT_LT(sig, received);  // signed last, so the signature comes first
  EXPECT_LT(received, date);
  EXPECT_LT(date, body);
  EXPECT_LT(id, body);
  EXPECT_NE(at(msg, "with ESMTPSA"), std::string::npos);
  EXPECT_NE(at(msg, "TLSv1.3"), std::string::npos);
  EXPECT_EQ(env.metrics.dkim_signed.value(), 1u);
}

// The bh= tag of the first DKIM-Signature in `msg`, unfolded.
std::string body_hash_tag(const std::string& msg) {
  size_t sig = msg.find("DKIM-Signature:");
  size_t bh = msg.find("bh=", sig);
  if (sig == std::string::npos || bh == std::string::npos) {
    return "";
  }
  std::string out;
  for (size_t i = bh + 3; i < msg.size() && msg[i] != ';'; ++i) {
    if (msg[i] != '\r' && msg[i] != '\n' && msg[i] != '\t' && msg[i] != ' ') {
      out += msg[i];
    }
  }
  return out;
}

// A message past Spool::kMemoryLimit is spooled to disk: it is signed from the spool (the body
// hash read back in pieces) and stored whole behind our headers.
TEST(MessagePipeline, SpooledSubmissionIsSignedOverTheWholeBody) {
  ServerEnv env;
  env.add_dkim_key("example.test", "s1");
  env.enable_signing();
  std::string body;
  for (int i = 0; i < 40000; ++i) {
    body += "line " + std::to_string(i) + "  with \t spaces \r\n";
  }
  body += "\r\n\r\n";
  const std::string message = "From: Alice <alice@example.test>\r\nSubject: big\r\n\r\n" + body;
  ASSERT_GT(message.size(), 4 * queue::Spool::kMemoryLimit);
  smtp::Reply r = run(env, submission(), message);
  EXPECT_EQ(r.code, 250);
  std::string msg = env.queued_text();
  ASSERT_GE(msg.size(), message.size());
  EXPECT_EQ(msg.substr(msg.size() - message.size()), message);
  // The hash the signature carries is that of the body, hashed whole here.
  std::string canon = dkim::relaxed_body(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(canon.data(), canon.size(), digest.data(), &len, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(body_hash_tag(msg), base::base64_encode(std::span(digest.data(), len)));
  EXPECT_EQ(env.metrics.dkim_signed.value(), 1u);
}

// From: and DKIM need the whole header section in memory: past the first Spool::kMemoryLimit
// bytes it is refused for submission, and taken from a stranger (nothing to check there).
TEST(MessagePipeline, HugeHeaderSectionIsRefusedForSubmissionOnly) {
  std::string headers;
  while (headers.size() < 2 * queue::Spool::kMemoryLimit) {
    headers += "X-Pad: " + std::string(90, 'p') + "\r\n";
  }
  {
    ServerEnv env;
    smtp::Reply r = run(env, submission(), headers + "From: Bob <bob@example.test>\r\n\r\nhi\r\n");
    EXPECT_EQ(r.code, 552);
    EXPECT_EQ(r.enhanced, "5.3.4");
    EXPECT_EQ(env.queued_files(), 0u);
  }
  {
    ServerEnv env;
    smtp::Reply r = run(env, inbound(), headers + "Subject: s\r\n\r\nhi\r\n");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(env.maildir_count("example.test", "alice"), 1u);
  }
}

TEST(MessagePipeline, ForeignFromIsRefusedBeforeAnythingIsStored) {
  ServerEnv env;
  smtp::Reply r = run(env, submission(), "From: Bob <bob@example.test>\r\n\r\nhi\r\n");
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.7.1");
  EXPECT_EQ(r.lines.front(),
            "From: header address <bob@example.test> not allowed for user alice@example.test");
  EXPECT_EQ(env.queued_files(), 0u);
  EXPECT_EQ(env.metrics.rejected_from_header.value(), 1u);
}

TEST(MessagePipeline, TooManyHopsIsALoop) {
  ServerEnv env;
  Transaction tx = inbound();
  tx.hops = env.cfg.limits.max_received_headers;
  smtp::Reply r = run(env, std::move(tx), "Subject: loop\r\n\r\n");
  EXPECT_EQ(r.code, 554);
  EXPECT_EQ(r.enhanced, "5.4.6");
  EXPECT_EQ(env.maildir_count("example.test", "alice"), 0u);
  tx = inbound();
  tx.hops = env.cfg.limits.max_received_headers - 1;
  EXPECT_EQ(run(env, std::move(tx), "Subject: not yet\r\n\r\n").code, 250);
}

TEST(MessagePipeline, MixedRecipientsAreQueued) {
  ServerEnv env;
  Transaction tx = inbound();
  tx.rcpts.push_back(rcpt("someone@remote.test", false));
  EXPECT_EQ(run(env, std::move(tx), "Subject: two\r\n\r\n").code, 250);
  EXPECT_EQ(env.maildir_count("example.test", "alice"), 0u);
  EXPECT_EQ(env.queued_files(), 1u);
  // Two recipients: the Received header names neither (privacy).
  EXPECT_EQ(at(env.queued_text(), "for <"), std::string::npos);
}

}  // namespace
}  // namespace hk::server
