// hk-dkim-bench: what one DKIM signature costs, in process, without SMTP around it.
//
// For RSA-2048 and Ed25519 keys and 1 KiB and 100 KiB messages it prints signatures per second,
// on 1 and 2 threads, of:
//   openssl      the bare private-key operation on a 32-byte digest with a parsed key (what
//                `openssl speed` measures): the floor no signer can go below;
//   hikyaku      DkimSigner::sign (canonicalize, hash, sign with the key parsed once);
//   libopendkim  dkim_sign() .. dkim_eom() .. dkim_getsighdr_d(), given the PEM text each time as
//                its API requires.
// Usage: hk-dkim-bench [--seconds S] (default 1 per figure).
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/openssl.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/signer.hpp"
#include "tests/unit/dkim/opendkim_reference.hpp"

namespace {

using namespace hk;
using Clock = std::chrono::steady_clock;

std::string make_message(size_t size) {
  std::string m =
      "From: Bench Sender <sender@bench.test>\r\nTo: Bench Sink <sink@bench.test>\r\n"
      "Subject: signing benchmark\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
      "Message-ID: <bench@bench.test>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  const std::string line =
      "The quick brown fox jumps over the lazy dog, and the courier runs on to Edo.\r\n";
  while (m.size() < size) {
    m += line;
  }
  return m;
}

// Runs `work` on `threads` threads for `seconds`; returns operations per second (all threads).
double rate(int threads, double seconds, const std::function<bool()>& work) {
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::vector<long> counts(static_cast<size_t>(threads), 0);
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!work()) {
          failed = true;
          break;
        }
        ++n;
      }
      counts[static_cast<size_t>(t)] = n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& th : pool) {
    th.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    return -1;
  }
  long total = 0;
  for (long c : counts) {
    total += c;
  }
  return static_cast<double>(total) / elapsed;
}

bool raw_sign(const dkim::DkimKey& key) {
  unsigned char digest[32] = {1, 2, 3};
  unsigned char sig[512];
  size_t len = sizeof sig;
  if (key.algo == dkim::DkimAlgo::Ed25519) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr &&
              EVP_DigestSignInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, key.pkey.get(),
                                    nullptr) == 1 &&
              EVP_DigestSign(ctx, sig, &len, digest, sizeof digest) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  }
  base::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
  return ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_sign(ctx.get(), sig, &len, digest, sizeof digest) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: hk-dkim-bench [--seconds S]\n");
      return 2;
    }
  }
  dkim::DkimSigner ours;
  dkim::test::OpendkimSigner reference;
  std::printf("%-9s %-8s %-12s %12s %12s %14s\n", "key", "message", "signer", "1 thread/s",
              "2 threads/s", "us/sig (1 th)");
  for (dkim::DkimAlgo algo : {dkim::DkimAlgo::Rsa2048, dkim::DkimAlgo::Ed25519}) {
    std::string pem = dkim::generate_key_pem(algo);
    dkim::DkimKey key = dkim::parse_key(pem, "bench.test", "bench", "bench key");
    for (size_t size : {size_t{1024}, size_t{100 * 1024}}) {
      std::string message = make_message(size);
      struct Engine {
        const char* name;
        std::function<bool()> work;
      };
      std::vector<Engine> engines = {
          {"openssl", [&] { return raw_sign(key); }},
          {"hikyaku",
           [&] {
             std::string error;
             return ours.sign(message, key, error).has_value();
           }},
          {"libopendkim",
           [&] {
             std::string error;
             return reference.sign(message, pem, key, error).has_value();
           }},
      };
      for (const Engine& e : engines) {
        if (std::strcmp(e.name, "openssl") == 0 && size != 1024) {
          continue;  // the digest is the same size whatever the message
        }
        double one = rate(1, seconds, e.work);
        double two = rate(2, seconds, e.work);
        std::printf("%-9s %-8s %-12s %12.0f %12.0f %14.1f\n",
                    std::string(dkim::algo_name(algo)).c_str(), size == 1024 ? "1 KiB" : "100 KiB",
                    e.name, one, two, one > 0 ? 1e6 / one : 0.0);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
