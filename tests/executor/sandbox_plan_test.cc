#include "executor/sandbox_plan.h"

#include <sched.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "executor/mounts.h"
#include "executor/sandbox.h"

namespace kiln::executor {
namespace {

TEST(SandboxPlanTest, ParsesUlimits) {
  auto r = parse_ulimit("nofile=1024:2048");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resource, RLIMIT_NOFILE);
  EXPECT_EQ(r->soft, 1024u);
  EXPECT_EQ(r->hard, 2048u);
  r = parse_ulimit("nproc=512");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->soft, 512u);
  EXPECT_EQ(r->hard, 512u);
  r = parse_ulimit("core=unlimited");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hard, RLIM_INFINITY);
  EXPECT_FALSE(parse_ulimit("nofile"));
  EXPECT_FALSE(parse_ulimit("bogus=1"));
  EXPECT_FALSE(parse_ulimit("nofile=2:1"));
}

TEST(SandboxPlanTest, ParsesNetworkModes) {
  EXPECT_EQ(*parse_network_mode("host"), NetworkMode::host);
  EXPECT_EQ(*parse_network_mode("default"), NetworkMode::host);
  EXPECT_EQ(*parse_network_mode("None"), NetworkMode::none);
  EXPECT_EQ(parse_network_mode("bridge").error().render(),
            "parse network mode `bridge`: expected host, none or default");
}

TEST(SandboxPlanTest, AppliesSecurityOpts) {
  SandboxSpec spec;
  ASSERT_TRUE(apply_security_opt(spec, "no-new-privileges"));
  EXPECT_TRUE(spec.no_new_privs);
  ASSERT_TRUE(apply_security_opt(spec, "no-new-privileges=false"));
  EXPECT_FALSE(spec.no_new_privs);
  ASSERT_TRUE(apply_security_opt(spec, "seccomp=unconfined"));
  EXPECT_EQ(spec.seccomp, SeccompMode::unconfined);
  EXPECT_EQ(apply_security_opt(spec, "seccomp=/etc/profile.json").error().code(), ErrorCode::unsupported);
  EXPECT_EQ(apply_security_opt(spec, "apparmor=x").error().code(), ErrorCode::unsupported);
  EXPECT_EQ(apply_security_opt(spec, "bogus").error().code(), ErrorCode::invalid_input);
}

TEST(SandboxPlanTest, ParsesStorageDrivers) {
  EXPECT_EQ(*parse_storage_driver("overlay"), StorageDriver::overlay);
  EXPECT_EQ(*parse_storage_driver("fuse-overlayfs"), StorageDriver::fuse_overlayfs);
  EXPECT_EQ(*parse_storage_driver("VFS"), StorageDriver::vfs);
  auto bad = parse_storage_driver("btrfs");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().render(), "parse storage driver `btrfs`: expected overlay, fuse-overlayfs or vfs");
}

TEST(SandboxPlanTest, NetworkNoneAddsANetNamespace) {
  SandboxSpec spec;
  EXPECT_EQ(namespace_flags(spec), uint64_t{CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS});
  spec.network = NetworkMode::none;
  EXPECT_NE(namespace_flags(spec) & CLONE_NEWNET, 0u);
}

TEST(SandboxPlanTest, MountTargetsListEveryPossibleStub) {
  SandboxSpec spec;
  spec.hosts = "x";
  spec.mounts.push_back({MountSpec::Type::tmpfs, "", "/cache"});
  EXPECT_EQ(mount_targets(spec), (std::vector<std::string>{"/proc", "/dev", "/sys", "/etc/hosts", "/cache"}));
}

TEST(SandboxPlanTest, RefusesToRunOutsideKilnsNamespace) {
  // This binary never enters the namespace: a sandbox must not start with
  // the invoking user's real ids (host root in CI).
  SandboxSpec spec;
  spec.rootfs_dir = "/";
  spec.argv = {"true"};
  auto r = run_sandbox(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::sandbox);
  EXPECT_NE(r.error().render().find("outside kiln's user namespace"), std::string::npos) << r.error().render();
}

TEST(SandboxPlanTest, RejectsBadSpecsBeforeStarting) {
  SandboxSpec spec;
  spec.argv = {"true"};
  auto r = plan_child(spec, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::invalid_input);
  spec.rootfs_dir = "relative/dir";
  EXPECT_EQ(plan_child(spec, false).error().render(), "rootfs `relative/dir` is not an absolute path");
  spec.rootfs_dir = "/";
  spec.argv.clear();
  EXPECT_EQ(plan_child(spec, false).error().render(), "run a sandbox: empty command");
}

TEST(SandboxPlanTest, DefaultEtcFiles) {
  EXPECT_EQ(default_hosts("box"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tbox\n");
  auto none = default_resolv_conf(NetworkMode::none);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->find("nameserver"), std::string::npos);
}

}  // namespace
}  // namespace kiln::executor
