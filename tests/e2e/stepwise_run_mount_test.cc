// `kiln run --volume` and `kiln run --mount` (issues 8 and 11): the
// Dockerfile's RUN --mount syntax on a working container, host directories
// bound in place (rw written through, :ro read-only), the store's cache
// mounts shared with `kiln bud`, and none of it in the committed layer.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/e2e/run_mount_fixture.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

class StepwiseRunMountTest : public RunMountTest {
 protected:
  void SetUp() override {
    RunMountTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auto c = kiln({"from", "busybox"});
    ASSERT_EQ(c.status, 0) << c.describe();
    m_c = std::string(trim(c.out));
    // A host directory container root can write to whatever id it maps to
    // (invoked as root: a subordinate id).
    m_host = make_dir("host");
    ASSERT_EQ(::chmod(m_host.c_str(), 0777), 0);
    ASSERT_TRUE(write_file(path_join(m_host, "in.txt"), "from the host\n", 0644));
  }
  CmdResult run(const std::vector<std::string>& flags, const std::string& script) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {m_c, "--", "sh", "-c", script});
    return kiln(args);
  }
  std::string run_ok(const std::vector<std::string>& flags, const std::string& script) {
    auto r = run(flags, script);
    EXPECT_EQ(r.status, 0) << r.describe();
    return std::string(trim(r.out));
  }
  std::string record() {
    auto r = kiln({"inspect", "--type", "container", m_c});
    EXPECT_EQ(r.status, 0) << r.describe();
    return r.out;
  }
  std::string commit(const std::string& name) {
    auto r = kiln({"commit", m_c, name});
    EXPECT_EQ(r.status, 0) << r.describe();
    return last_line(r.out);
  }
  void expect_error(const CmdResult& r, const std::string& text) {
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_TRUE(has(r.err, text)) << "expected `" << text << "` in:\n" << r.err;
  }

  std::string m_c;
  std::string m_host;
};

// A rw volume container root cannot write to (here: 0555) gets a warning
// naming the host id; a writable one and a read-only one get none.
TEST_F(StepwiseRunMountTest, UnwritableVolumeIsWarnedAbout) {
  auto fine = run({"-v", m_host + ":/kv-vol"}, "true");
  EXPECT_EQ(fine.status, 0) << fine.describe();
  EXPECT_FALSE(has(fine.err, "cannot write")) << fine.err;
  std::string locked = make_dir("locked");
  ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
  auto warned = run({"-v", locked + ":/kv-locked"}, "true");
  EXPECT_EQ(warned.status, 0) << warned.describe();
  EXPECT_TRUE(has(warned.err, "cannot write to `" + locked + "`")) << warned.err;
  EXPECT_TRUE(has(warned.err, "host uid ")) << warned.err;
  auto ro = run({"-v", locked + ":/kv-locked:ro"}, "true");
  EXPECT_FALSE(has(ro.err, "cannot write")) << ro.err;
}

TEST_F(StepwiseRunMountTest, VolumeWritesReachTheHostDirectoryAndRunEveryTime) {
  EXPECT_EQ(run_ok({"--volume", m_host + ":/kv-vol"}, "cat /kv-vol/in.txt; echo one >> /kv-vol/log"), "from the host");
  // Same command again: a written-through step is never a cache hit.
  run_ok({"-v", m_host + ":/kv-vol:rw"}, "echo one >> /kv-vol/log");
  auto log = read_file(path_join(m_host, "log"));
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_EQ(*log, "one\none\n");
  std::string listing = layer_listing(commit("vol:1"));
  EXPECT_FALSE(has(listing, "kv-vol")) << listing;
  EXPECT_FALSE(has(listing, "in.txt")) << listing;
}

TEST_F(StepwiseRunMountTest, ReadOnlyVolumeRefusesWrites) {
  std::string before = tree_fingerprint(m_host);
  auto r = run({"--volume", m_host + ":/vol:ro"}, "cat /vol/in.txt; touch /vol/new");
  EXPECT_NE(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "from the host\n");
  EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;
  EXPECT_EQ(tree_fingerprint(m_host), before);
}

TEST_F(StepwiseRunMountTest, CommitHoldsNeitherTargetsNorMountedFiles) {
  ASSERT_TRUE(write_file(path_join(m_context, "ctx.txt"), "context file\n"));
  std::string before = tree_fingerprint(m_context);
  std::string out = run_ok({"-v", m_host + ":/kv-mnt/vol:ro", "--mount",
                            "type=bind,source=" + m_context + ",target=/kv-src,rw", "--mount",
                            "type=tmpfs,target=/kv-scratch", "--mount", "type=cache,target=/kv-cache/k"},
                           "cat /kv-src/ctx.txt /kv-mnt/vol/in.txt; echo gone > /kv-src/ctx.txt; echo t > /kv-scratch/t; "
                           "echo c > /kv-cache/k/c; echo kept > /made-by-step");
  EXPECT_EQ(out, "context file\nfrom the host");
  EXPECT_EQ(tree_fingerprint(m_context), before) << "a rw --mount bind wrote through to the host";
  std::string listing = layer_listing(commit("clean:1"));
  EXPECT_TRUE(has(listing, "made-by-step")) << listing;
  for (const char* absent : {"kv-", "ctx.txt", "in.txt"}) {
    EXPECT_FALSE(has(listing, absent)) << absent << " leaked into the layer:\n" << listing;
  }
}

TEST_F(StepwiseRunMountTest, CacheMountIsSharedWithBud) {
  bud_ok("FROM busybox\nRUN --mount=type=cache,target=/c sh -c 'echo from bud > /c/f'\n");
  EXPECT_EQ(run_ok({"--mount", "type=cache,target=/c"}, "cat /c/f; echo from run > /c/g"), "from bud");
  std::string id = bud_ok("FROM busybox\nRUN --mount=type=cache,id=/c,target=/x cat /x/g > /seen\n");
  EXPECT_EQ(file_in_image(id, "/seen"), "from run\n");
}

TEST_F(StepwiseRunMountTest, CacheMountStepHasTheDockerfilesKey) {
  // STYLE.md F3: the same BuildState::run, so the same cache key as bud's.
  bud_ok("FROM busybox\nRUN --mount=type=cache,target=/c echo hi > /kv-x\n");
  auto r = kiln({"run", "--mount", "type=cache,target=/c", m_c, "--", "/bin/sh", "-c", "echo hi > /kv-x"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(has(r.err, "Using cache")) << r.err;
}

TEST_F(StepwiseRunMountTest, TmpfsAndSecretMounts) {
  std::string secret = path_join(m_tmp->path(), "token");
  ASSERT_TRUE(write_file(secret, "s3cr3t", 0644));
  std::string out = run_ok({"--mount", "type=tmpfs,target=/t,size=1048576", "--secret", "id=tok,src=" + secret,
                            "--mount", "type=secret,id=tok"},
                           "grep -c ' /t tmpfs ' /proc/mounts; cat /run/secrets/tok");
  EXPECT_EQ(out, "1\ns3cr3t");
  std::string id = commit("sec:1");
  EXPECT_FALSE(has(layer_bytes(id), "s3cr3t"));
  EXPECT_FALSE(has(inspect(id), "s3cr3t"));
}

TEST_F(StepwiseRunMountTest, RelativeBindSourceIsTheCurrentDirectoryAndItsDigestIsKept) {
  ASSERT_TRUE(write_file(path_join(m_context, "f"), "first\n"));
  auto in_context = [&](const std::vector<std::string>& args) {
    std::string cmd = "cd '" + m_context + "' && exec '" + kiln_binary() + "' --root '" + m_root + "'";
    for (const auto& a : args) {
      cmd += " '" + a + "'";
    }
    return run_cmd({"/bin/sh", "-c", cmd});
  };
  auto r = in_context({"run", "--mount", "type=bind,source=f,target=/m/f", m_c, "--", "sh", "-c", "cat /m/f > /copied"});
  ASSERT_EQ(r.status, 0) << r.describe();
  ASSERT_TRUE(write_file(path_join(m_context, "f"), "second\n"));
  // A later command elsewhere does not re-key (and so re-run) the first step.
  EXPECT_EQ(run_ok({}, "cat /copied"), "first");
}

TEST_F(StepwiseRunMountTest, QuotedCommasStayInTheTarget) {
  // CVE-2024-9407 for `kiln run`: the value is one CSV record, as in BuildKit.
  EXPECT_EQ(run_ok({"--mount", "type=tmpfs,\"target=/t,mode=0777,uid=1234\""},
                   "stat -c '%u %a' '/t,mode=0777,uid=1234'; test ! -e /t && echo no-t"),
            "0 1777\nno-t");
}

TEST_F(StepwiseRunMountTest, BadMountSpecsNameTheOption) {
  std::string before = record();
  expect_error(run({"--mount", "type=bogus,target=/x"}, "true"), "--mount type=bogus,target=/x");
  expect_error(run({"--mount", "type=cache,target=/x,bind-propagation=shared"}, "true"), "bind-propagation");
  expect_error(run({"--volume", "relative"}, "true"), "invalid --volume `relative`");
  expect_error(run({"--volume", m_host + ":rel"}, "true"), "is not absolute");
  expect_error(run({"--volume", m_host + ":/v:z"}, "true"), "unsupported option `z`");
  expect_error(run({"--volume", m_host + "/missing:/v"}, "true"), "missing");
  expect_error(run({"--mount", "type=bind,source=/nonexistent-kiln-src,target=/v"}, "true"), "nonexistent-kiln-src");
  expect_error(run({"--mount", "type=bind,from=no-such-image,target=/v"}, "true"), "no-such-image");
  EXPECT_EQ(record(), before) << "a refused run changed the container";
}

// CVE-2024-1753 for `kiln run`: a bind `source` inside another container or
// an image resolves inside it, symlinks and all; only the host paths the
// user names on the command line are host paths.
TEST_F(StepwiseRunMountTest, Cve_2024_1753_FromSourcesResolveInsideTheImage) {
  std::string canary = make_dir("canary");
  ASSERT_TRUE(write_file(path_join(canary, "keep"), "host file\n"));
  std::string canary_before = tree_fingerprint(canary);
  std::string breakout = "/KILN_RUN_BIND_BREAKOUT_" + path_basename(m_tmp->path());
  auto evil = kiln({"from", "--name", "evil", "busybox"});
  ASSERT_EQ(evil.status, 0) << evil.describe();
  auto prep = kiln({"run", "evil", "--", "sh", "-c",
                    "ln -s / /rootdir && ln -s " + canary + " /canarylink && mkdir -p " + canary +
                        " && echo image keep > " + canary + "/keep"});
  ASSERT_EQ(prep.status, 0) << prep.describe();
  ASSERT_EQ(kiln({"commit", "evil", "evil:1"}).status, 0);
  for (const std::string from : {"evil", "evil:1"}) {
    std::string out = run_ok({"--mount", "type=bind,from=" + from + ",source=/rootdir,target=/exploit,rw", "--mount",
                              "type=bind,from=" + from + ",source=/canarylink,target=/through"},
                             "ls /exploit | grep -c rootdir; cat /through/keep; touch /exploit" + breakout +
                                 " /exploit" + canary + "/pwned");
    EXPECT_EQ(out, "1\nimage keep") << "from=" << from;
  }
  EXPECT_FALSE(path_exists(breakout)) << "wrote the host's /";
  EXPECT_EQ(tree_fingerprint(canary), canary_before) << "the run changed the host tree";
}

}  // namespace
}  // namespace kiln::test
