// Real clients read what kiln pushed: skopeo inspect/copy, podman pull + run.
#include <gtest/gtest.h>

#include "oci/json.h"
#include "tests/registry/registry_fixture.h"

namespace kiln::test {
namespace {

class InteropTest : public PlainRegistryTest {
 protected:
  void SetUp() override {
    PlainRegistryTest::SetUp();
    if (stopped()) {
      return;
    }
    src = store_with_busybox();
  }

  std::string push(const std::string& image, const std::string& repo_tag) {
    std::string ref = server->host() + "/" + repo_tag;
    auto r = kiln({"--root", src, "push", "--tls-verify=false", image, ref});
    EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
    return ref;
  }

  std::string manifest_digest(const std::string& root, const std::string& image) {
    auto j = oci::parse_json(kiln({"--root", root, "inspect", image}).stdout_data, "inspect");
    return j ? (*j)["digest"].get<std::string>() : "";
  }

  std::string src;
};

TEST_F(InteropTest, SkopeoInspectsAndCopiesWhatKilnPushed) {
  if (find_program("skopeo").empty()) {
    GTEST_SKIP() << "skopeo is not installed (apt-get install skopeo)";
  }
  std::string ref = push("busybox", "interop/busybox:1");
  auto inspect = run({"skopeo", "inspect", "--tls-verify=false", "docker://" + ref});
  ASSERT_EQ(inspect.exit_status, 0) << inspect.stderr_data;
  auto j = oci::parse_json(inspect.stdout_data, "skopeo inspect");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["Digest"].get<std::string>(), manifest_digest(src, "busybox"));

  std::string layout = path_join(tmp(), "copied");
  auto copy = run({"skopeo", "copy", "--src-tls-verify=false", "docker://" + ref, "oci:" + layout + ":copied"});
  ASSERT_EQ(copy.exit_status, 0) << copy.stderr_data;
  auto pulled = kiln({"--root", path_join(tmp(), "back"), "pull", "oci:" + layout + ":copied"});
  ASSERT_EQ(pulled.exit_status, 0) << pulled.stderr_data;
  auto id = kiln({"--root", src, "inspect", "busybox"});
  EXPECT_NE(id.stdout_data.find(out_of(pulled)), std::string::npos);
}

TEST_F(InteropTest, DockerFormatImagePushesDockerMediaTypes) {
  if (find_program("skopeo").empty()) {
    GTEST_SKIP() << "skopeo is not installed (apt-get install skopeo)";
  }
  // skopeo writes a Docker v2 schema 2 image; kiln pulls it (keeping the
  // manifest bytes) and pushes it elsewhere: the media types stay Docker's.
  std::string v2s2 = server->host() + "/interop/v2s2:1";
  auto copy = run({"skopeo", "copy", "--format", "v2s2", "--dest-tls-verify=false", "oci:" + busybox_layout(),
                   "docker://" + v2s2});
  ASSERT_EQ(copy.exit_status, 0) << copy.stderr_data;
  std::string docker_store = path_join(tmp(), "docker-store");
  auto pulled = kiln({"--root", docker_store, "pull", "--tls-verify=false", v2s2});
  ASSERT_EQ(pulled.exit_status, 0) << pulled.stderr_data;
  std::string ref = server->host() + "/interop/docker:1";
  auto r = kiln({"--root", docker_store, "push", "--tls-verify=false", v2s2, ref});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  auto raw = run({"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref});
  ASSERT_EQ(raw.exit_status, 0) << raw.stderr_data;
  auto j = oci::parse_json(raw.stdout_data, "raw manifest");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["mediaType"], "application/vnd.docker.distribution.manifest.v2+json") << raw.stdout_data;
  EXPECT_EQ((*j)["config"]["mediaType"], "application/vnd.docker.container.image.v1+json");
  EXPECT_EQ((*j)["layers"][0]["mediaType"], "application/vnd.docker.image.rootfs.diff.tar.gzip");
  auto original = run({"skopeo", "inspect", "--tls-verify=false", "docker://" + v2s2});
  auto again = run({"skopeo", "inspect", "--tls-verify=false", "docker://" + ref});
  auto a = oci::parse_json(original.stdout_data, "a");
  auto b = oci::parse_json(again.stdout_data, "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)["Digest"], (*b)["Digest"]);
}

TEST_F(InteropTest, PodmanPullsAndRunsWhatKilnPushed) {
  if (find_program("podman").empty() || find_program("runc").empty()) {
    GTEST_SKIP() << "podman or runc is not installed";
  }
  std::string ref = push("busybox", "interop/run:1");
  ASSERT_TRUE(write_file(auth_file, "{}"));  // podman wants $REGISTRY_AUTH_FILE to exist
  std::vector<std::string> podman{"podman",          "--root",         path_join(tmp(), "podman-root"),
                                  "--runroot",       path_join(tmp(), "podman-run"), "--storage-driver",
                                  "vfs",             "--cgroup-manager", "cgroupfs", "--events-backend", "file"};
  auto args = [&](std::vector<std::string> more) {
    std::vector<std::string> v = podman;
    v.insert(v.end(), more.begin(), more.end());
    return v;
  };
  auto pull = run(args({"pull", "-q", "--tls-verify=false", ref}));
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;
  auto runr = run(args({"run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=4096:4096",
                        "--ulimit", "nproc=4096:4096", ref, "sh", "-c", "echo hello from kiln"}));
  if (runr.exit_status != 0 && runr.stderr_data.find("cgroup") != std::string::npos) {
    GTEST_SKIP() << "podman cannot run containers on this machine: " << runr.stderr_data;
  }
  ASSERT_EQ(runr.exit_status, 0) << runr.stderr_data;
  EXPECT_EQ(out_of(runr), "hello from kiln");
  run(args({"rmi", "-f", ref}));
}

}  // namespace
}  // namespace kiln::test
