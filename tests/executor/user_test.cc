#include "executor/user.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::executor {
namespace {

const std::optional<std::string> k_passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1001:app:/home/app:/bin/sh\n"
    "daemon:x:2:2::/:/bin/false\n";
const std::optional<std::string> k_group =
    "root:x:0:\n"
    "wheel:x:10:app,other\n"
    "app:x:1001:\n"
    "audio:x:29:app\n";

TEST(UserTest, EmptyMeansRootWithItsPasswdEntry) {
  auto u = resolve_user_from("", k_passwd, k_group);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/root");
  EXPECT_TRUE(u->groups.empty());
}

TEST(UserTest, NameResolvesUidGidHomeAndSupplementaryGroups) {
  auto u = resolve_user_from("app", k_passwd, k_group);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1001u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->groups, (std::vector<uint32_t>{10, 29}));
}

TEST(UserTest, NumericIdsWorkWithoutPasswd) {
  auto u = resolve_user_from("1234", std::nullopt, std::nullopt);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 1234u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/");
  u = resolve_user_from("1234:77", std::nullopt, std::nullopt);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->gid, 77u);
  u = resolve_user_from("1000", k_passwd, k_group);  // numeric matches passwd by uid
  ASSERT_TRUE(u);
  EXPECT_EQ(u->gid, 1001u);
}

TEST(UserTest, ExplicitGroupDropsSupplementaryGroups) {
  auto u = resolve_user_from("app:audio", k_passwd, k_group);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 29u);
  EXPECT_TRUE(u->groups.empty());
  u = resolve_user_from("daemon:55", k_passwd, k_group);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->gid, 55u);
}

TEST(UserTest, UnknownNamesAreClearErrors) {
  auto u = resolve_user_from("ghost", k_passwd, k_group);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().render(), "unable to find user `ghost`: no matching entries in passwd file");
  u = resolve_user_from("app:nogroup", k_passwd, k_group);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().render(), "unable to find group `nogroup`: no matching entries in group file");
  EXPECT_FALSE(resolve_user_from("4294967296", k_passwd, k_group));
}

class UserLayersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create();
    ASSERT_TRUE(dir);
    m_tmp.emplace(std::move(*dir));
    ASSERT_TRUE(make_dirs(layer("base", "etc")));
    ASSERT_TRUE(write_file(layer("base", "etc/passwd"), *k_passwd));
    ASSERT_TRUE(write_file(layer("base", "etc/group"), *k_group));
    ASSERT_TRUE(make_dirs(layer("top", "etc")));
  }
  std::string layer(const std::string& name, const std::string& rel = "") const {
    return path_join(path_join(m_tmp->path(), name), rel);
  }
  std::optional<TempDir> m_tmp;
};

TEST_F(UserLayersTest, UpperLayersWin) {
  ASSERT_TRUE(write_file(layer("top", "etc/passwd"), "app:x:2000:2000::/srv:/bin/sh\n"));
  auto u = resolve_user({layer("top"), layer("base")}, "app");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 2000u);
  EXPECT_EQ(u->groups, (std::vector<uint32_t>{10, 29}));  // group file from the base layer
}

TEST_F(UserLayersTest, WhiteoutHidesLowerFile) {
  ASSERT_EQ(::mknod(layer("top", "etc/passwd").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  auto u = resolve_user({layer("top"), layer("base")}, "app");
  ASSERT_FALSE(u);
  auto numeric = resolve_user({layer("top"), layer("base")}, "1000");
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->gid, 0u);
}

TEST_F(UserLayersTest, OpaqueDirectoryHidesLowerFiles) {
  if (::setxattr(layer("top", "etc").c_str(), "user.overlay.opaque", "y", 1, 0) != 0) {
    GTEST_SKIP() << "this filesystem does not take user xattrs";
  }
  auto passwd = read_file_in_layers({layer("top"), layer("base")}, "/etc/passwd");
  ASSERT_TRUE(passwd);
  EXPECT_FALSE(passwd->has_value());
}

TEST_F(UserLayersTest, SymlinkedPasswdStaysInsideTheLayer) {
  ASSERT_EQ(::symlink("/../../../../etc/shadow-like", layer("top", "etc/passwd").c_str()), 0);
  auto passwd = read_file_in_layers({layer("top")}, "/etc/passwd");
  ASSERT_TRUE(passwd) << passwd.error().render();
  EXPECT_FALSE(passwd->has_value());
}

TEST(UserEnvTest, HomeIsAddedOnlyWhenMissing) {
  std::vector<std::string> env = {"PATH=/bin"};
  ResolvedUser u;
  u.home = "/home/app";
  add_home_env(env, u);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOME=/home/app"}));
  add_home_env(env, ResolvedUser{});
  EXPECT_EQ(env.size(), 2u);
}

}  // namespace
}  // namespace kiln::executor
