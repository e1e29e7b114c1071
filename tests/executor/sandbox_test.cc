// What a command sees inside the sandbox, asserted through the probe (T5).
#include "executor/sandbox.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "executor/capabilities.h"
#include "executor/user_namespace.h"
#include "tests/executor/sandbox_fixture.h"
#include "tests/support/busybox_rootfs.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor::test {
namespace {

using nlohmann::json;

std::string mask_hex(uint64_t bits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
  return buf;
}

class SandboxTest : public SandboxFixture {};

TEST_F(SandboxTest, RootGetsBuildkitCapabilitiesAndSeccomp) {
  json j = probe(overlay_spec({}));
  ASSERT_FALSE(j.is_null());
  std::string caps = mask_hex(CapabilitySet::buildkit_default().bits());
  EXPECT_EQ(j["uid"], 0);
  EXPECT_EQ(j["gid"], 0);
  EXPECT_EQ(j["status"]["CapEff"], caps);
  EXPECT_EQ(j["status"]["CapPrm"], caps);
  EXPECT_EQ(j["status"]["CapBnd"], caps);
  EXPECT_EQ(j["status"]["CapInh"], mask_hex(0));
  EXPECT_EQ(j["status"]["CapAmb"], mask_hex(0));
  EXPECT_EQ(j["status"]["NoNewPrivs"], "0");
  EXPECT_EQ(j["status"]["Seccomp"], "2");
  EXPECT_EQ(j["status"]["Umask"], "0022");
}

TEST_F(SandboxTest, IdMapNeverMapsHostRoot) {
  json j = probe(overlay_spec({}));
  ASSERT_FALSE(j.is_null());
  for (const char* file : {"uid_map", "gid_map"}) {
    std::string text = j[file];
    ASSERT_FALSE(trim(text).empty());
    for (const auto& line : split(std::string(trim(text)), '\n')) {
      unsigned long inside = 0, host = 0, count = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "%lu %lu %lu", &inside, &host, &count), 3) << line;
      EXPECT_NE(host, 0u) << file << " maps container " << inside << " to host root: " << text;
    }
  }
}

TEST_F(SandboxTest, SeesOnlyItsOwnProcesses) {
  json j = probe(overlay_spec({}));
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["pid"], 1);
  EXPECT_EQ(j["pids"], json::array({1}));
}

TEST_F(SandboxTest, SeesNoHostMountBeyondThoseGiven) {
  SandboxSpec spec = overlay_spec({});
  std::string shared = path_join(tmp(), "shared");
  ASSERT_TRUE(make_dirs(shared));
  spec.mounts.push_back({MountSpec::Type::bind, shared, "/mnt/shared", ReadOnly::yes});
  spec.mounts.push_back({MountSpec::Type::tmpfs, "", "/scratch", ReadOnly::no, 1 << 20});
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  const std::set<std::string> exact = {"/", "/proc", "/dev", "/sys", "/etc/hosts", "/etc/resolv.conf",
                                       "/etc/hostname", "/mnt/shared", "/scratch"};
  std::set<std::string> seen;
  for (const auto& m : j["mounts"]) {
    std::string point = m["point"];
    seen.insert(point);
    bool allowed = exact.count(point) != 0 || point.rfind("/proc/", 0) == 0 || point.rfind("/dev/", 0) == 0 ||
                   point.rfind("/sys/", 0) == 0;
    EXPECT_TRUE(allowed) << "unexpected mount " << point;
    if (point == "/sys" || point.rfind("/sys/", 0) == 0) {
      EXPECT_EQ(std::string(m["options"]).rfind("ro,", 0), 0u) << point << " is not read-only";
    }
  }
  for (const auto& p : exact) {
    EXPECT_EQ(seen.count(p), 1u) << "missing mount " << p;
  }
  EXPECT_EQ(seen.count("/proc/sys"), 1u);
  EXPECT_EQ(seen.count("/dev/pts"), 1u);
  EXPECT_EQ(seen.count("/dev/shm"), 1u);
}

TEST_F(SandboxTest, RefusesMountUnshareKexecAndModules) {
  json j = probe(overlay_spec({}));
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["syscalls"]["mount"], EPERM);
  EXPECT_EQ(j["syscalls"]["unshare_user"], EPERM);
  EXPECT_EQ(j["syscalls"]["unshare_mount"], EPERM);
  EXPECT_EQ(j["syscalls"]["kexec_load"], EPERM);
  EXPECT_EQ(j["syscalls"]["init_module"], EPERM);
  // clone3 must fail with ENOSYS so glibc falls back to clone.
  EXPECT_EQ(j["syscalls"]["clone3"], ENOSYS);
  EXPECT_EQ(j["syscalls"]["chroot"], 0);  // CAP_SYS_CHROOT is in the default set
}

TEST_F(SandboxTest, NestedNamespaceToolsFail) {
  for (std::vector<std::string> argv : {std::vector<std::string>{"unshare", "-U", "-r", "true"},
                                        std::vector<std::string>{"unshare", "-m", "true"},
                                        std::vector<std::string>{"mount", "-t", "tmpfs", "none", "/mnt"}}) {
    RunOutput r = run(overlay_spec(argv));
    ASSERT_TRUE(r.status) << r.status.error().render();
    EXPECT_NE(*r.status, 0) << argv[0] << " succeeded";
    // busybox mount words EPERM as "permission denied (are you root?)".
    EXPECT_TRUE(r.err.find("Operation not permitted") != std::string::npos ||
                r.err.find("permission denied") != std::string::npos)
        << r.err;
  }
}

TEST_F(SandboxTest, ThreadsAndPosixSpawnWork) {
  // busybox sh forks through clone; a clone3 EPERM would break this.
  RunOutput r = run(overlay_spec({"sh", "-c", "echo a | cat; (echo b) & wait"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\n");
}

TEST_F(SandboxTest, NoNewPrivilegesLoadsSeccompLast) {
  SandboxSpec spec = overlay_spec({});
  spec.no_new_privs = true;
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["status"]["NoNewPrivs"], "1");
  EXPECT_EQ(j["status"]["Seccomp"], "2");
  EXPECT_EQ(j["status"]["CapEff"], mask_hex(CapabilitySet::buildkit_default().bits()));
  EXPECT_EQ(j["syscalls"]["mount"], EPERM);
}

TEST_F(SandboxTest, SeccompUnconfinedLoadsNoFilter) {
  SandboxSpec spec = overlay_spec({});
  spec.seccomp = SeccompMode::unconfined;
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["status"]["Seccomp"], "0");
  EXPECT_NE(j["syscalls"]["clone3"], ENOSYS);
}

TEST_F(SandboxTest, CapAddAndDropChangeTheSets) {
  SandboxSpec spec = overlay_spec({});
  auto caps = apply_capability_changes(CapabilitySet::buildkit_default(), {"SYS_ADMIN"}, {"net_raw", "CAP_MKNOD"});
  ASSERT_TRUE(caps);
  spec.capabilities = *caps;
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["status"]["CapEff"], mask_hex(caps->bits()));
  EXPECT_EQ(j["status"]["CapBnd"], mask_hex(caps->bits()));
  // With CAP_SYS_ADMIN, Docker's policy allows mount and unshare.
  EXPECT_EQ(j["syscalls"]["mount"], 0);
  EXPECT_NE(j["syscalls"]["clone3"], ENOSYS);
}

TEST_F(SandboxTest, RunsAsResolvedUserWithoutCapabilities) {
  if (single_id_mode()) {
    GTEST_SKIP() << "single-id mode: only container root exists (SingleIdModeTest covers it)";
  }
  SandboxSpec spec = overlay_spec({});
  spec.uid = 1000;
  spec.gid = 1000;
  spec.groups = {50};
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["uid"], 1000);
  EXPECT_EQ(j["euid"], 1000);
  EXPECT_EQ(j["gid"], 1000);
  EXPECT_EQ(j["groups"], json::array({50}));
  EXPECT_EQ(j["status"]["CapEff"], mask_hex(0));
  EXPECT_EQ(j["status"]["CapPrm"], mask_hex(0));
  EXPECT_EQ(j["status"]["CapBnd"], mask_hex(CapabilitySet::buildkit_default().bits()));
  EXPECT_EQ(j["status"]["CapAmb"], mask_hex(0));
}

TEST_F(SandboxTest, PassesArgvAndEnvExactly) {
  SandboxSpec spec = overlay_spec({"/kiln_probe", "a b", "", "--x=1"});
  spec.env = {"A=1", "B= spaced ", "EMPTY="};
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["argv"], json::array({"/kiln_probe", "a b", "", "--x=1"}));
  EXPECT_EQ(j["env"], json::array({"A=1", "B= spaced ", "EMPTY="}));
}

TEST_F(SandboxTest, CreatesAMissingWorkdir) {
  SandboxSpec spec = overlay_spec({});
  spec.cwd = "/work/app";
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["cwd"], "/work/app");
  EXPECT_TRUE(is_directory(path_join(upper(), "work/app")));
}

TEST_F(SandboxTest, WorkdirThroughProcSelfFdFailsCleanly) {
  // CVE-2024-21626: a leaked fd must never become the working directory.
  for (int fd = 3; fd <= 10; ++fd) {
    SandboxSpec spec = overlay_spec({"/kiln_probe"});
    spec.cwd = cat("/proc/self/fd/", fd);
    RunOutput r = run(spec);
    ASSERT_FALSE(r.status) << "WORKDIR " << spec.cwd << " ran: " << r.out;
    EXPECT_NE(r.status.error().render().find("working directory"), std::string::npos) << r.status.error().render();
    EXPECT_TRUE(r.out.empty());
  }
}

TEST_F(SandboxTest, OnlyStdioReachesTheCommand) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);  // deliberately not close-on-exec
  json j = probe(overlay_spec({}));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["fds"], json::array({0, 1, 2}));
}

TEST_F(SandboxTest, HostnameAndEtcFilesComeFromTheSpec) {
  SandboxSpec spec = overlay_spec({"sh", "-c", "hostname; cat /etc/hostname /etc/resolv.conf /etc/hosts"});
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(r.out, "kiln-test\nkiln-test\nnameserver 192.0.2.53\n" + default_hosts("kiln-test"));
}

TEST_F(SandboxTest, RlimitsApplyAndCannotExceedKilnsHardLimit) {
  struct rlimit own {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  SandboxSpec spec = overlay_spec({"/kiln_probe"});
  uint64_t hard = own.rlim_max == RLIM_INFINITY ? 4096 : std::min<uint64_t>(own.rlim_max, 4096);
  spec.rlimits = {{RLIMIT_NOFILE, hard / 2, hard}};
  json j = probe(spec);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["nofile"], json::array({hard / 2, hard}));
  if (own.rlim_max != RLIM_INFINITY) {
    spec.rlimits = {{RLIMIT_NOFILE, own.rlim_max + 1, own.rlim_max + 1}};
    RunOutput r = run(spec);
    ASSERT_FALSE(r.status);
    EXPECT_EQ(r.status.error().code(), ErrorCode::invalid_input);
    EXPECT_NE(r.status.error().hint().find("CAP_SYS_RESOURCE"), std::string::npos) << r.status.error().render();
  }
}

TEST_F(SandboxTest, NetworkNoneCannotReachHostLoopback) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));

  SandboxSpec host = overlay_spec({"/kiln_probe", "connect", port});
  json reached = probe(host);
  SandboxSpec none = overlay_spec({"/kiln_probe", "connect", port});
  none.network = NetworkMode::none;
  json refused = probe(none);
  ::close(listener);
  ASSERT_FALSE(reached.is_null());
  ASSERT_FALSE(refused.is_null());
  EXPECT_EQ(reached["connect"], 0);
  EXPECT_EQ(refused["connect"], ECONNREFUSED);  // its own loopback is up, nothing listens
}

TEST_F(SandboxTest, SetupFailureNamesTheStep) {
  SandboxSpec spec = overlay_spec({"true"});
  spec.mounts.push_back({MountSpec::Type::tmpfs, "", "/bin/busybox/below-a-file"});
  RunOutput r = run(spec);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code(), ErrorCode::sandbox) << r.status.error().render();
  EXPECT_NE(r.status.error().render().find("sandbox step 3: apply the mounts"), std::string::npos)
      << r.status.error().render();
}

TEST_F(SandboxTest, UnknownCommandIsNotFound) {
  RunOutput r = run(overlay_spec({"no-such-command"}));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code(), ErrorCode::not_found);
  EXPECT_NE(r.status.error().render().find("no-such-command"), std::string::npos);
}

TEST_F(SandboxTest, ReadOnlyBindRefusesWrites) {
  std::string shared = path_join(tmp(), "ro");
  ASSERT_TRUE(make_dirs(shared));
  SandboxSpec spec = overlay_spec({"sh", "-c", "touch /data/x"});
  spec.mounts.push_back({MountSpec::Type::bind, shared, "/data", ReadOnly::yes});
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_NE(*r.status, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(path_join(shared, "x")));
}

TEST_F(SandboxTest, SameSnapshotRunsAgainAfterAVolatileMount) {
  RunOutput r = run(overlay_spec({"sh", "-c", "echo 1 > /one"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  r = run(overlay_spec({"sh", "-c", "cat /one && echo 2 > /two"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(r.out, "1\n");
  EXPECT_EQ(list_tree(upper()), (std::vector<std::string>{"one f", "two f"}));
  wait_for_sandbox_teardown(m_overlay.work);
  EXPECT_FALSE(path_exists(path_join(m_overlay.work, "work/incompat")));
}

TEST_F(SandboxTest, SyncedOverlayWorksToo) {
  SandboxSpec spec = overlay_spec({"sh", "-c", "echo x > /x"});
  spec.overlay->durability = Durability::synced;
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(read_file(path_join(upper(), "x")).value_or(""), "x\n");
}

TEST_F(SandboxTest, PlainDirectoryRootfs) {
  std::string rootfs = path_join(tmp(), "rootfs");
  ASSERT_TRUE(make_dirs(rootfs));
  ASSERT_TRUE(kiln::test::make_busybox_rootfs(rootfs, {probe_path()}));
  auto before = list_tree(rootfs);
  SandboxSpec spec = overlay_spec({"sh", "-c", "echo hi > /tmp/out"});
  spec.overlay.reset();
  spec.rootfs_dir = rootfs;
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_EQ(read_file(path_join(rootfs, "tmp/out")).value_or(""), "hi\n");
  // The stubs (proc, dev, sys, etc/hosts, ...) are gone again.
  auto after = list_tree(rootfs);
  after.erase(std::remove(after.begin(), after.end(), "tmp/out f"), after.end());
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace kiln::executor::test
