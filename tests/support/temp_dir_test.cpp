// TempDir: a fresh, empty, private directory per object, removed with everything in it.
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

namespace hk::test {
namespace {

namespace fs = std::filesystem;

std::string content(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(TempDir, IsCreatedEmptyAndPrivate) {
  TempDir dir;
  ASSERT_TRUE(fs::is_directory(dir.path()));
  EXPECT_TRUE(dir.path().is_absolute());
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_EQ(fs::status(dir.path()).permissions(), fs::perms::owner_all);
}

TEST(TempDir, EachIsUnique) {
  TempDir a;
  TempDir b;
  EXPECT_NE(a.path(), b.path());
  a.write("same", "a");
  b.write("same", "b");
  EXPECT_EQ(content(a.path() / "same"), "a");
  EXPECT_EQ(content(b.path() / "same"), "b");
}

TEST(TempDir, IsRemovedWithItsContents) {
  std::optional<TempDir> dir(std::in_place);
  const fs::path path = dir->path();
  dir->write("top", "x");
  dir->write("a/b/deep", "y");
  fs::create_directories(path / "empty/folder");
  dir.reset();
  EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, WriteCreatesFoldersAndReplaces) {
  TempDir dir;
  const fs::path p = dir.write("a/b/file.txt", std::string("one\r\n\0two", 10));
  EXPECT_EQ(p, dir.path() / "a/b/file.txt");
  EXPECT_EQ(content(p), std::string("one\r\n\0two", 10));
  dir.write("a/b/file.txt", "short");
  EXPECT_EQ(content(p), "short");
}

TEST(TempDir, WriteFailureThrows) {
  TempDir dir;
  fs::create_directory(dir.path() / "folder");
  // A folder where the file should go cannot be opened for writing.
  EXPECT_THROW(dir.write("folder", "y"), std::runtime_error);
}

}  // namespace
}  // namespace hk::test
