// hikyaku --dev: the folder it prepares, the file it never overwrites, and its default place.
#include "daemon/server/dev_setup.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "lib/config/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::server {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DevSetup, WritesAReadyFolder) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "new" / "dev";
  DevSetup dev = prepare_dev_dir(dir);
  EXPECT_TRUE(dev.created);
  EXPECT_EQ(dev.dir, dir);
  EXPECT_EQ(dev.config, dir / "hikyaku.toml");
  EXPECT_EQ(slurp(dev.config), dev_config_text());
  EXPECT_TRUE(fs::exists(dir / "certs" / "localhost" / "fullchain.pem"));
  EXPECT_TRUE(fs::exists(dir / "certs" / "localhost" / "privkey.pem"));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // What the file promises: loopback ports that need no root, capture on, nothing to run as.
  const std::string text = dev_config_text();
  for (const char* want :
       {"smtp = [\"127.0.0.1:1025\"]", "console = [\"127.0.0.1:8025\"]", "submission = []",
        "submission_tls = []", "[capture]\nenabled = true", "data_dir = \"data\""}) {
    EXPECT_NE(text.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(text.find("run_as"), std::string::npos);
}

// The file is a configuration the daemon takes as it is: loopback only, capture on, data beside it.
TEST(DevSetup, TheFileLoads) {
  test::TempDir tmp;
  DevSetup dev = prepare_dev_dir(tmp.path() / "dev");
  config::Config c = config::load_config(dev.dir);
  EXPECT_TRUE(c.capture.enabled);
  EXPECT_TRUE(c.capture.deliver.empty());
  EXPECT_EQ(c.hostname, "localhost");
  EXPECT_EQ(c.data_dir, dev.dir / "data");
  EXPECT_TRUE(c.run_as.empty());
  ASSERT_EQ(c.listen.smtp.size(), 1u);
  EXPECT_EQ(c.listen.smtp[0].str(), "127.0.0.1:1025");
  ASSERT_EQ(c.listen.console.size(), 1u);
  EXPECT_EQ(c.listen.console[0].str(), "127.0.0.1:8025");
  EXPECT_TRUE(c.listen.submission.empty());
  EXPECT_TRUE(c.listen.submission_tls.empty());
  EXPECT_TRUE(c.listen.metrics.empty());
  for (const config::Cidr& net : c.trusted_networks) {
    EXPECT_TRUE(net.net.is_loopback()) << net.str();
  }
}

TEST(DevSetup, KeepsAnExistingConfiguration) {
  test::TempDir tmp;
  const fs::path file = tmp.write("dev/hikyaku.toml", "hostname = 'edited.test'\n");
  DevSetup dev = prepare_dev_dir(tmp.path() / "dev/");  // a trailing slash too
  EXPECT_FALSE(dev.created);
  EXPECT_EQ(dev.dir, tmp.path() / "dev");
  EXPECT_EQ(slurp(file), "hostname = 'edited.test'\n");
  EXPECT_FALSE(fs::exists(tmp.path() / "dev" / "certs"));
}

TEST(DevSetup, RelativeFolderBecomesAbsolute) {
  test::TempDir tmp;
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp.path());
  DevSetup dev = prepare_dev_dir("rel");
  fs::current_path(cwd);
  EXPECT_EQ(dev.dir, tmp.path() / "rel");
  EXPECT_TRUE(fs::exists(tmp.path() / "rel" / "hikyaku.toml"));
}

TEST(DevSetup, UnwritableFolderIsAClearError) {
  test::TempDir tmp;
  tmp.write("file", "x");
  try {
    prepare_dev_dir(tmp.path() / "file" / "dev");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((tmp.path() / "file" / "dev").string()), std::string::npos)
        << e.what();
  }
}

TEST(DevSetup, DefaultFolder) {
  const char* old_xdg = getenv("XDG_DATA_HOME");
  const char* old_home = getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "", saved_home = old_home ? old_home : "";
  setenv("HOME", "/home/dev", 1);
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(default_dev_dir(), fs::path("/home/dev/.local/share/hikyaku-dev"));
  setenv("XDG_DATA_HOME", "/data/xdg", 1);
  EXPECT_EQ(default_dev_dir(), fs::path("/data/xdg/hikyaku-dev"));
  setenv("XDG_DATA_HOME", "relative", 1);  // not absolute: ignored, as the XDG spec says
  EXPECT_EQ(default_dev_dir(), fs::path("/home/dev/.local/share/hikyaku-dev"));
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  EXPECT_THROW(default_dev_dir(), std::runtime_error);
  if (old_xdg) {
    setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  }
  if (old_home) {
    setenv("HOME", saved_home.c_str(), 1);
  }
}

}  // namespace
}  // namespace hk::server
