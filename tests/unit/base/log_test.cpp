// lib/base/log.hpp: log_internal_error, what co_spawn's completion handlers log.
#include "lib/base/log.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace hk::base {
namespace {

std::string logged(std::exception_ptr e, bool& result) {
  set_log_timestamps(false);
  testing::internal::CaptureStderr();
  result = log_internal_error(e, "console client=192.0.2.1");
  return testing::internal::GetCapturedStderr();
}

TEST(LogInternalError, NothingForNoException) {
  bool r = true;
  EXPECT_EQ(logged(nullptr, r), "");
  EXPECT_FALSE(r);
}

TEST(LogInternalError, OneLineWithTheQuotedReason) {
  bool r = false;
  EXPECT_EQ(
      logged(std::make_exception_ptr(std::runtime_error("out of \"memory\"")), r),
      "error console client=192.0.2.1 result=internal-error error=\"out of \\\"memory\\\"\"\n");
  EXPECT_TRUE(r);
}

TEST(LogInternalError, ANonStandardException) {
  bool r = false;
  EXPECT_EQ(logged(std::make_exception_ptr(42), r),
            "error console client=192.0.2.1 result=internal-error\n");
  EXPECT_TRUE(r);
}

}  // namespace
}  // namespace hk::base
