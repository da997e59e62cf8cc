// Tests for base::Fingerprint and base::Reloadable: what counts as a change, and that a broken
// file never replaces the value in service and is reported once.
#include "lib/base/reload.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "lib/base/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::base {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

Fingerprint stamp(const std::vector<fs::path>& files) {
  Fingerprint out;
  for (const fs::path& f : files) {
    out.add_file(f);
  }
  return out;
}

TEST(Fingerprint, WhatCountsAsAChange) {
  struct Case {
    const char* what;
    void (*apply)(const TempDir& dir);
    bool changed;
  };
  const Case cases[] = {
      {"nothing", [](const TempDir&) {}, false},
      {"read only",
       [](const TempDir& dir) {
         std::string text;
         ASSERT_FALSE(read_file(dir.path() / "a", text));
       },
       false},
      {"new size", [](const TempDir& dir) { dir.write("a", "longer text\n"); }, true},
      {"same size, new mtime",
       [](const TempDir& dir) {
         dir.write("a", "two\n");
         fs::last_write_time(dir.path() / "a",
                             fs::file_time_type::clock::now() + std::chrono::hours(1));
       },
       true},
      {"same size, new inode (rename over)",
       [](const TempDir& dir) {
         fs::path tmp = dir.write("a.tmp", "one\n");
         fs::last_write_time(tmp, fs::last_write_time(dir.path() / "a"));
         fs::rename(tmp, dir.path() / "a");
       },
       true},
      {"mode", [](const TempDir& dir) { fs::permissions(dir.path() / "a", fs::perms::owner_read); },
       true},
      {"removed", [](const TempDir& dir) { fs::remove(dir.path() / "a"); }, true},
      {"missing file appears", [](const TempDir& dir) { dir.write("b", ""); }, true},
      {"unwatched file", [](const TempDir& dir) { dir.write("c", "x"); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    dir.write("a", "one\n");
    std::vector<fs::path> files = {dir.path() / "a", dir.path() / "b"};  // b is missing
    Fingerprint before = stamp(files);
    c.apply(dir);
    EXPECT_EQ(stamp(files) != before, c.changed);
  }
}

TEST(Fingerprint, OrderDoesNotMatterAndNamesIgnoreTimes) {
  TempDir dir;
  dir.write("a", "1");
  dir.write("b", "2");
  EXPECT_EQ(stamp({dir.path() / "a", dir.path() / "b"}),
            stamp({dir.path() / "b", dir.path() / "a"}));
  EXPECT_NE(stamp({dir.path() / "a"}), stamp({dir.path() / "a", dir.path() / "b"}));

  // A folder added by name keeps its fingerprint when a file appears in it.
  fs::create_directories(dir.path() / "folder");
  Fingerprint named;
  named.add_name(dir.path() / "folder");
  Fingerprint stamped = stamp({dir.path() / "folder"});
  fs::last_write_time(dir.path() / "folder",
                      fs::file_time_type::clock::now() + std::chrono::hours(1));
  dir.write("folder/editor.swp", "x");
  Fingerprint named_after;
  named_after.add_name(dir.path() / "folder");
  EXPECT_EQ(named_after, named);
  EXPECT_NE(stamp({dir.path() / "folder"}), stamped);
  EXPECT_TRUE(Fingerprint().empty());
  EXPECT_FALSE(named.empty());
}

// A value read from one file: its text, or an error when it says "broken".
class TextFile {
 public:
  explicit TextFile(fs::path path)
      : path_(std::move(path)),
        value_([this] { return stamp({path_}); },
               [this](const std::shared_ptr<const std::string>& previous) {
                 ++loads_;
                 std::string text;
                 if (std::error_code ec = read_file(path_, text)) {
                   throw std::runtime_error(path_.filename().string() + ": " + ec.message());
                 }
                 if (text == "broken") {
                   throw std::runtime_error(path_.filename().string() + ": broken");
                 }
                 if (text == "same" && previous) {
                   return previous;  // the loader finds nothing new to serve
                 }
                 return std::make_shared<const std::string>(text);
               }) {}

  Reloadable<const std::string>& value() { return value_; }
  int loads() const { return loads_; }

 private:
  fs::path path_;
  int loads_ = 0;
  Reloadable<const std::string> value_;
};

TEST(Reloadable, FirstLoadThrowsAndLeavesNothingInService) {
  TempDir dir;
  dir.write("value", "broken");
  TextFile file(dir.path() / "value");
  EXPECT_EQ(file.value().current(), nullptr);
  EXPECT_THROW(file.value().load(), std::runtime_error);
  EXPECT_EQ(file.value().current(), nullptr);
}

TEST(Reloadable, ReloadsOnChangeKeepsOldOnErrorReportsOnce) {
  TempDir dir;
  fs::path path = dir.write("value", "one");
  TextFile file(path);
  file.value().load();
  auto first = file.value().current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first, "one");

  // Unchanged: no load at all, same value.
  ReloadResult r = file.value().reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(file.loads(), 1);
  EXPECT_EQ(file.value().current(), first);

  // Changed: a new value in service; old holders keep theirs.
  dir.write("value", "two!");
  r = file.value().reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  auto second = file.value().current();
  EXPECT_EQ(*second, "two!");
  EXPECT_EQ(*first, "one");
  EXPECT_FALSE(file.value().reload_if_changed().changed);

  // Broken: reported, the old value stays; not reported again until the file changes.
  dir.write("value", "broken");
  r = file.value().reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "value: broken");
  EXPECT_EQ(file.value().current(), second);
  r = file.value().reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(file.value().current(), second);

  // Removed: an error too (this loader needs the file); the old value stays.
  fs::remove(path);
  r = file.value().reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "value: No such file or directory");
  EXPECT_EQ(file.value().current(), second);
  EXPECT_EQ(file.value().reload_if_changed().error, "");

  // Back: loads again.
  dir.write("value", "three");
  r = file.value().reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(*file.value().current(), "three");
}

TEST(Reloadable, ForcedReloadAndNothingNew) {
  TempDir dir;
  fs::path path = dir.write("value", "one");
  TextFile file(path);
  file.value().load();
  auto first = file.value().current();

  // SIGHUP: loads although nothing changed.
  ReloadResult r = file.value().reload();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(file.loads(), 2);
  EXPECT_NE(file.value().current(), first);
  EXPECT_EQ(*file.value().current(), "one");

  // A loader that hands back the value in service reports no change.
  auto current = file.value().current();
  dir.write("value", "same");
  r = file.value().reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(file.loads(), 3);
  EXPECT_EQ(file.value().current(), current);

  // A forced reload of a broken file reports it, every time it is asked.
  dir.write("value", "broken");
  EXPECT_EQ(file.value().reload().error, "value: broken");
  EXPECT_EQ(file.value().reload().error, "value: broken");
  EXPECT_EQ(file.value().current(), current);
}

}  // namespace
}  // namespace hk::base
