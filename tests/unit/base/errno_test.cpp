// lib/base/errno.hpp: errno as a std::error_code.
#include "lib/base/errno.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace hk::base {
namespace {

TEST(Errno, ErrnoCode) {
  const int values[] = {ENOENT, EACCES, EINTR, EAGAIN};
  for (int v : values) {
    errno = v;
    std::error_code ec = errno_code();
    EXPECT_EQ(ec.value(), v);
    EXPECT_EQ(ec.category(), std::generic_category());
    EXPECT_EQ(ec, std::error_code(v, std::generic_category()));
  }
  EXPECT_NE(::close(-1), 0);
  EXPECT_EQ(errno_code(), std::errc::bad_file_descriptor);
}

}  // namespace
}  // namespace hk::base
