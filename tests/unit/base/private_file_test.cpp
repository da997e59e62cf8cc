// private_file_problem: which modes of a secret file are refused, and what the message says.
#include "lib/base/private_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/temp_dir.hpp"

namespace hk::base {
namespace {

TEST(PrivateFile, ModesTable) {
  hk::test::TempDir dir;
  const struct {
    mode_t mode;
    const char* problem;  // "" = accepted
  } cases[] = {
      {0600, ""},
      {0400, ""},
      {0640, ""},  // group access is the operator's choice (an ACME hook's group)
      {0660, ""},
      {0644, "is readable by other users (mode 0644); run: chmod 600 "},
      {0604, "is readable by other users (mode 0604); run: chmod 600 "},
      {0602, "is writable by other users (mode 0602); run: chmod 600 "},
      {0666, "is readable and writable by other users (mode 0666); run: chmod 600 "},
  };
  for (const auto& c : cases) {
    std::filesystem::path f = dir.write("key.pem", "secret");
    ASSERT_EQ(::chmod(f.c_str(), c.mode), 0);
    std::string got = private_file_problem(f);
    if (*c.problem == '\0') {
      EXPECT_EQ(got, "") << std::oct << c.mode;
    } else {
      EXPECT_EQ(got, f.string() + " " + c.problem + f.string()) << std::oct << c.mode;
    }
  }
}

TEST(PrivateFile, MissingFileOrFolderIsTheLoadersConcern) {
  hk::test::TempDir dir;
  EXPECT_EQ(private_file_problem(dir.path() / "nothing.pem"), "");
  std::filesystem::create_directories(dir.path() / "users");
  ASSERT_EQ(::chmod((dir.path() / "users").c_str(), 0755), 0);
  EXPECT_EQ(private_file_problem(dir.path() / "users"), "");
}

TEST(PrivateFile, SymlinkCountsByItsTarget) {
  hk::test::TempDir dir;
  std::filesystem::path target = dir.write("real.pem", "secret");
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  std::filesystem::create_symlink(target, dir.path() / "link.pem");
  EXPECT_NE(private_file_problem(dir.path() / "link.pem"), "");
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  EXPECT_EQ(private_file_problem(dir.path() / "link.pem"), "");
}

}  // namespace
}  // namespace hk::base
