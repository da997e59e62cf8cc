// Tests for watch(): the polling coroutine reports a renewal on its own.
#include "certs/watch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <vector>

#include "certs/cert_store.hpp"
#include "certs/self_signed.hpp"
#include "tests/unit/certs/test_support.hpp"

namespace hk::certs {
namespace {

TEST(Watch, ReportsARenewalAndStopsWhenCancelled) {
  test::ScratchDir scratch;
  std::filesystem::path certs = scratch.path() / "certs";
  make_self_signed(certs / "a.test", {"a.test"}, 30);
  CertStore store(certs, "a.test", MinTls::V1_2);
  store.load();
  std::string before = test::handshake(store.context(), {}).serial;
  make_self_signed(certs / "a.test", {"a.test"}, 30);

  boost::asio::io_context io;
  std::vector<ReloadResult> reports;
  bool ended = false;
  boost::asio::co_spawn(io,
                        watch(store, std::chrono::seconds(1),
                              [&](const ReloadResult& r) {
                                reports.push_back(r);
                                io.stop();
                              }),
                        [&](const std::exception_ptr&) { ended = true; });
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].changed);
  EXPECT_EQ(reports[0].error, "");
  EXPECT_NE(test::handshake(store.context(), {}).serial, before);
  EXPECT_FALSE(ended);
}

}  // namespace
}  // namespace hk::certs
