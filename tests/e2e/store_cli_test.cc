// The store commands end to end: interop with skopeo/umoci/podman, crash
// safety, concurrency and bad input (issue: foundation).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <random>

#include "tests/support/kiln_runner.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/temp_dir.h"

extern char** environ;

namespace kiln::test {
namespace {

class StoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("", "kiln-e2e-");
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    m_root = path_join(m_tmp->path(), "store");
    ASSERT_FALSE(busybox_layout().empty()) << "busybox fixture failed to build";
  }
  CmdResult kiln(const std::vector<std::string>& args) { return run_kiln(m_root, args); }
  void pull_busybox() {
    auto r = kiln({"pull", "oci:" + busybox_layout()});
    ASSERT_EQ(r.status, 0) << r.describe();
    ASSERT_EQ(last_line(r.out), busybox_image_id());
  }
  std::unique_ptr<TempDir> m_tmp;
  std::string m_root;
};

TEST_F(StoreCliTest, PullPrintsIdAndImagesListsIt) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  auto r = kiln({"images"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("docker.io/library/busybox"), std::string::npos);
  EXPECT_NE(r.out.find(busybox_image_id().substr(7, 12)), std::string::npos);
  auto j = kiln({"images", "--json"});
  EXPECT_NE(j.out.find("\"names\""), std::string::npos);
  EXPECT_NE(j.out.find(busybox_image_id()), std::string::npos);
}

TEST_F(StoreCliTest, SkopeoAndUmociReadTheStore) {
  if (!have_program("skopeo") || !have_program("umoci")) {
    GTEST_SKIP() << "skopeo or umoci not installed";
  }
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  ASSERT_EQ(kiln({"tag", "busybox", "app:1"}).status, 0);
  auto s = run_cmd({"skopeo", "inspect", "oci:" + m_root + ":localhost/app:1"});
  ASSERT_EQ(s.status, 0) << s.describe();
  EXPECT_NE(s.out.find("\"Architecture\""), std::string::npos);
  std::string bundle = path_join(m_tmp->path(), "bundle");
  auto u = run_cmd({"umoci", "unpack", "--rootless", "--image", m_root + ":docker.io/library/busybox:latest", bundle});
  ASSERT_EQ(u.status, 0) << u.describe();
  EXPECT_TRUE(path_exists(path_join(bundle, "rootfs/bin/busybox")));
}

TEST_F(StoreCliTest, DockerArchiveLoadsWithPodman) {
  if (!have_program("podman")) {
    GTEST_SKIP() << "podman not installed";
  }
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  ASSERT_EQ(kiln({"tag", "busybox", "app:1"}).status, 0);
  std::string tar = path_join(m_tmp->path(), "app.tar");
  auto p = kiln({"push", "app:1", "docker-archive:" + tar});
  ASSERT_EQ(p.status, 0) << p.describe();
  std::string proot = path_join(m_tmp->path(), "podman-root");
  std::string prun = path_join(m_tmp->path(), "podman-run");
  std::vector<std::string> podman = {"podman", "--root", proot, "--runroot", prun, "--storage-driver", "vfs"};
  auto args = podman;
  args.insert(args.end(), {"load", "-i", tar});
  auto l = run_cmd(args);
  if (l.status != 0 && l.err.find("cannot") != std::string::npos && l.err.find("namespace") != std::string::npos) {
    GTEST_SKIP() << "podman cannot run here: " << l.err;
  }
  ASSERT_EQ(l.status, 0) << l.describe();
  args = podman;
  args.insert(args.end(), {"images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"});
  auto i = run_cmd(args);
  EXPECT_NE(i.out.find("localhost/app:1 " + busybox_image_id().substr(7, 12)), std::string::npos) << i.describe();
  args = podman;
  args.insert(args.end(), {"rmi", "-a", "-f"});
  run_cmd(args);
}

TEST_F(StoreCliTest, InspectShowsManifestAndConfig) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  auto r = kiln({"inspect", busybox_image_id().substr(7, 12)});
  ASSERT_EQ(r.status, 0) << r.describe();
  for (const char* key : {"\"name\"", "\"id\"", "\"digest\"", "\"manifest\"", "\"config\"", "\"diff_ids\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
}

TEST_F(StoreCliTest, RmiByNameAndId) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  ASSERT_EQ(kiln({"tag", "busybox", "app:1"}).status, 0);
  auto r = kiln({"rmi", "app:1"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(kiln({"inspect", "busybox"}).status, 0);
  EXPECT_NE(kiln({"inspect", "app:1"}).status, 0);
  r = kiln({"rmi", busybox_image_id()});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(trim(kiln({"images", "--json"}).out), "[]");
  auto p = kiln({"prune"});
  EXPECT_EQ(p.status, 0) << p.describe();
  EXPECT_NE(p.out.find("removed 3 blobs"), std::string::npos) << p.out;
}

// ---- bad input: one clear error each, exit non-zero, store unchanged ----

std::string store_state(const std::string& root) {
  auto idx = read_file(path_join(root, "index.json"));
  auto blobs = list_dir(path_join(root, "blobs/sha256"));
  return cat(idx ? *idx : "?", "|", blobs ? join(*blobs, ",") : "?");
}

TEST_F(StoreCliTest, UnknownImageIsAClearError) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  std::string before = store_state(m_root);
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"inspect", "nosuch"}, {"rmi", "nosuch"},
                                                                {"tag", "nosuch", "x"}, {"push", "nosuch", "oci:/tmp/x"}}) {
    auto r = kiln(cmd);
    EXPECT_EQ(r.status, 1) << r.describe();
    EXPECT_NE(r.err.find("image `nosuch` not found"), std::string::npos) << r.describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << "one line plus a hint: " << r.err;
  }
  EXPECT_EQ(store_state(m_root), before);
}

TEST_F(StoreCliTest, MalformedReferenceIsAClearError) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  std::string before = store_state(m_root);
  auto r = kiln({"tag", "busybox", "Bad Name"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid reference `Bad Name`"), std::string::npos) << r.describe();
  r = kiln({"tag", "busybox", "team/UPPER"});
  EXPECT_NE(r.err.find("must be lowercase"), std::string::npos) << r.describe();
  r = kiln({"pull", "busybox@sha256:123"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid reference"), std::string::npos) << r.describe();
  EXPECT_EQ(store_state(m_root), before);
}

TEST_F(StoreCliTest, CorruptedBlobIsDetected) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  std::string config = path_join(m_root, "blobs/sha256/" + busybox_image_id().substr(7));
  auto bytes = read_file(config);
  ASSERT_TRUE(bytes);
  std::string flipped = *bytes;
  flipped[flipped.size() / 2] ^= 1;
  ::chmod(config.c_str(), 0644);
  ASSERT_TRUE(write_file(config, flipped));
  auto r = kiln({"inspect", "busybox"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("corrupted"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find(busybox_image_id()), std::string::npos) << r.describe();
  auto f = kiln({"fsck"});
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.out.find(busybox_image_id()), std::string::npos) << f.describe();
}

TEST_F(StoreCliTest, TruncatedArchiveLeavesStoreUnchanged) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  std::string before = store_state(m_root);
  auto bytes = read_file(busybox_archive());
  std::string cut = path_join(m_tmp->path(), "cut.tar");
  ASSERT_TRUE(write_file(cut, bytes->substr(0, bytes->size() * 2 / 3)));
  auto r = kiln({"pull", "oci-archive:" + cut});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cut.tar"), std::string::npos) << r.describe();
  EXPECT_EQ(store_state(m_root), before);
  auto missing = kiln({"pull", "oci-archive:" + path_join(m_tmp->path(), "absent.tar")});
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.describe();
}

TEST_F(StoreCliTest, UnwritableRootIsAClearError) {
  // Run as an unprivileged id against a directory it may not write: copy the
  // binary somewhere it can execute first (the checkout may be private).
  std::string bin = path_join(m_tmp->path(), "bin");
  ASSERT_TRUE(make_dirs(bin));
  ASSERT_EQ(run_cmd({"cp", kiln_binary(), path_join(bin, "kiln")}).status, 0);
  ::chmod(m_tmp->path().c_str(), 0755);
  ::chmod(bin.c_str(), 0755);
  std::string locked = path_join(m_tmp->path(), "locked");
  ASSERT_TRUE(make_dirs(locked));
  ::chmod(locked.c_str(), 0555);
  std::vector<std::string> argv = {path_join(bin, "kiln"), "--root", path_join(locked, "store"), "images"};
  if (::geteuid() == 0) {
    if (!have_program("setpriv")) {
      GTEST_SKIP() << "setpriv missing";
    }
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  auto r = run_cmd(argv);
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.err.find("open store `" + path_join(locked, "store") + "`: Permission denied"), std::string::npos)
      << r.describe();
  EXPECT_NE(r.err.find("Hint: "), std::string::npos) << r.describe();
}

// ---- crash safety and concurrency ----

pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  for (const auto& a : argv) {
    c.push_back(const_cast<char*>(a.c_str()));
  }
  c.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  posix_spawn(&pid, c[0], &fa, nullptr, c.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

TEST_F(StoreCliTest, KilledPullsAndTagsLeaveAConsistentStore) {
  std::mt19937 rng(12345);
  std::string archive = busybox_archive();
  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> argv = {kiln_binary(), "--root", m_root};
    if (i % 2 == 0) {
      argv.insert(argv.end(), {"pull", "oci-archive:" + archive});
    } else {
      argv.insert(argv.end(), {"tag", "busybox", "t" + std::to_string(i)});
    }
    pid_t pid = spawn(argv);
    ASSERT_GT(pid, 0);
    ::usleep(std::uniform_int_distribution<int>(0, 40000)(rng));
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    auto f = kiln({"fsck"});
    ASSERT_EQ(f.status, 0) << "after run " << i << ": " << f.describe();
  }
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  EXPECT_EQ(kiln({"prune"}).status, 0);
  EXPECT_EQ(kiln({"fsck"}).status, 0);
  EXPECT_EQ(kiln({"inspect", "busybox"}).status, 0);
}

TEST_F(StoreCliTest, ConcurrentTagsAllExist) {
  ASSERT_NO_FATAL_FAILURE(pull_busybox());
  std::vector<pid_t> pids;
  for (int i = 0; i < 8; ++i) {
    pids.push_back(spawn({kiln_binary(), "--root", m_root, "tag", "busybox", "c" + std::to_string(i)}));
  }
  for (pid_t p : pids) {
    int st = 0;
    ::waitpid(p, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(kiln({"inspect", "c" + std::to_string(i)}).status, 0) << i;
  }
}

}  // namespace
}  // namespace kiln::test
