// RUN --mount host-escape regressions (issue 11), one test per advisory,
// each built the way the advisory's reproducer works:
//  - CVE-2024-1753 (buildah GHSA-pmf3-c36m-g5cf): a bind source that is, or
//    passes through, a symlink in the `from` stage (`/rootdir -> /`) was
//    resolved on the host; `rw` then wrote the host's `/`.
//  - CVE-2024-9675 (buildah GHSA-586p-749j-fhwp): a cache id or source with
//    `../` was joined onto the cache directory and mounted a host directory.
//  - CVE-2024-9407 (buildah GHSA-fhqq-8f65-5xfc): `bind-propagation=` was
//    passed to the mount unchecked; any option outside the allowlist must be
//    refused.
//  - CVE-2024-23652 (BuildKit GHSA-4v98-7qmw-rqr8): the mount stub cleaner
//    followed a symlink the step had put in place of a stub's parent and
//    removed host files.
// After every build the host tree the attack aims at and the build context
// are byte-for-byte unchanged (tree_fingerprint).
#include <gtest/gtest.h>

#include "tests/e2e/run_mount_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

class RunMountSafetyTest : public RunMountTest {
 protected:
  void SetUp() override {
    RunMountTest::SetUp();
    m_canary = make_dir("host-canary");
    ASSERT_TRUE(make_dirs(path_join(m_canary, "sub")));
    ASSERT_TRUE(write_file(path_join(m_canary, "keep"), "host file\n"));
    ASSERT_TRUE(write_file(path_join(m_canary, "sub/inner"), "host inner\n"));
    m_canary_before = tree_fingerprint(m_canary);
  }
  void expect_untouched(const std::string& context_before) {
    EXPECT_EQ(tree_fingerprint(m_canary), m_canary_before) << "the build changed the host tree";
    EXPECT_EQ(tree_fingerprint(m_context), context_before) << "the build changed the context";
  }
  std::string m_canary;
  std::string m_canary_before;
};

TEST_F(RunMountSafetyTest, Cve_2024_1753_BindSourceSymlinksResolveInsideTheStage) {
  std::string breakout = "/KILN_BIND_BREAKOUT_" + path_basename(m_tmp->path());
  write_context("Dockerfile",
      "FROM busybox AS base\n"
      "RUN ln -s / /rootdir && ln -s " + m_canary + " /canarylink && mkdir -p " + m_canary +
          "/sub && echo stage inner > " + m_canary + "/sub/inner\n"
      "FROM busybox\n"
      "RUN --mount=type=bind,from=base,source=/rootdir,destination=/exploit,rw sh -c "
      "'ls /exploit > /listing; touch /exploit" + breakout + " /exploit" + m_canary + "/pwned'\n"
      "RUN --mount=type=bind,from=base,source=/canarylink/sub,target=/through sh -c 'cat /through/inner > /through-read'\n");
  std::string before = tree_fingerprint(m_context);
  auto r = kiln({"bud", m_context});
  ASSERT_EQ(r.status, 0) << r.describe();
  std::string id = last_line(r.out);
  EXPECT_FALSE(path_exists(breakout)) << "wrote the host's /";
  EXPECT_TRUE(has(file_in_image(id, "/listing"), "rootdir")) << "the mount did not show the stage's root";
  EXPECT_EQ(file_in_image(id, "/through-read"), "stage inner\n");
  expect_untouched(before);
}

TEST_F(RunMountSafetyTest, Cve_2024_1753_ContextSymlinksResolveInsideTheContext) {
  ASSERT_EQ(::symlink(m_canary.c_str(), path_join(m_context, "abs").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../..", path_join(m_context, "up").c_str()), 0);
  write_context("marker", "context marker\n");
  write_context("Dockerfile",
                "FROM busybox\n"
                "RUN --mount=type=bind,source=up,target=/u,rw --mount=type=bind,source=abs,target=/a,rw sh -c "
                "'cat /u/marker > /up-read; ls /a > /abs-listing 2>&1; touch /u/PWNED /a/PWNED; true'\n");
  std::string before = tree_fingerprint(m_context);
  auto r = kiln({"bud", m_context});
  // `abs` names a path that does not exist inside the context: the mount
  // fails rather than reaching the host's directory.
  EXPECT_NE(r.status, 0) << r.describe();
  EXPECT_FALSE(has(r.err, "host inner")) << r.describe();
  expect_untouched(before);
  write_context("Dockerfile",
                "FROM busybox\n"
                "RUN --mount=type=bind,source=up,target=/u,rw sh -c 'cat /u/marker > /up-read; touch /u/PWNED'\n");
  before = tree_fingerprint(m_context);
  auto ok = kiln({"bud", m_context});
  ASSERT_EQ(ok.status, 0) << ok.describe();
  EXPECT_EQ(file_in_image(last_line(ok.out), "/up-read"), "context marker\n");
  expect_untouched(before);
}

TEST_F(RunMountSafetyTest, Cve_2024_9675_DotDotInCacheIdsAndSourcesIsRejected) {
  const std::string cases[] = {
      "type=cache,id=../../../../../../../../.." + m_canary + ",target=/var/tmp",
      "type=cache,id=a/../../b,target=/c",
      "type=cache,target=/c,source=../../../../../" + m_canary,
      "type=bind,target=/c,source=../..",
      "type=bind,target=/c,source=sub/../../x",
  };
  for (const auto& mount : cases) {
    write_context("Dockerfile", "FROM busybox\nRUN --mount=" + mount +
                                    " sh -c 'ls /var/tmp /c; touch /var/tmp/BREAKOUT /c/BREAKOUT'\n");
    std::string before = tree_fingerprint(m_context);
    auto r = kiln({"bud", m_context});
    EXPECT_NE(r.status, 0) << mount << "\n" << r.describe();
    EXPECT_TRUE(has(r.err, "must not contain `..`")) << mount << "\n" << r.describe();
    EXPECT_FALSE(has(r.err, "host file")) << r.describe();
    expect_untouched(before);
  }
}

TEST_F(RunMountSafetyTest, Cve_2024_9407_MountOptionsComeFromAnAllowlist) {
  const std::string foreign[] = {"bind-propagation=shared", "bind-propagation=rshared,relabel=shared",
                                 "bind-nonrecursive=true", "relabel=private", "z", "Z", "U=true", "chown=true",
                                 "tmpcopyup", "nosuid", "exec=true", "upperdir=/etc", "options=rw", "propagation=shared",
                                 "consistency=cached", "volume-opt=device=/"};
  for (const auto& opt : foreign) {
    auto r = bud("FROM busybox\nRUN --mount=type=bind,source=.,target=/x," + opt + " true\n");
    EXPECT_NE(r.status, 0) << opt << "\n" << r.describe();
    EXPECT_TRUE(has(r.err, "mount option")) << opt << "\n" << r.describe();
  }
}

TEST_F(RunMountSafetyTest, Cve_2024_9407_QuotedCommasStayInTheTarget) {
  // A value cannot smuggle options either: kiln passes each as one fsconfig
  // key/value (never an option string), so a quoted comma is part of the path.
  // The --mount value is a CSV record (BuildKit runmount.go); the Dockerfile's
  // flag reader drops one level of quotes first (BuildKit
  // extractBuilderFlags), so the CSV quotes are written inside '...'. Bare,
  // `--mount=type=tmpfs,"target=/t,..."` is the record `type=tmpfs,target=/t,...`.
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN --mount='type=tmpfs,\"target=/t,mode=0777,uid=1234\"' sh -c "
      "'stat -c \"%u %a\" \"/t,mode=0777,uid=1234\" > /st; test ! -e /t'\n");
  EXPECT_EQ(file_in_image(id, "/st"), "0 1777\n");
}

TEST_F(RunMountSafetyTest, Cve_2024_23652_SymlinkedTargetsNeverMakeKilnTouchHostFiles) {
  std::string bait = make_dir("bait");
  ASSERT_TRUE(make_dirs(path_join(bait, "b/c")));
  ASSERT_TRUE(write_file(path_join(bait, "file"), ""));
  ASSERT_TRUE(write_file(path_join(bait, "b/c.keep"), "keep\n"));
  std::string bait_before = tree_fingerprint(bait);
  write_context("f", "bind me\n");
  write_context("Dockerfile",
                "FROM busybox\n"
                // The image's own symlink to a host path: followed inside the rootfs only.
                // The step swaps a stub's parent for a symlink to the host path while mounted.
                "RUN --mount=type=tmpfs,target=/a/b/c --mount=type=bind,source=f,target=/q/file sh -c "
                "'mv /a /a.old && ln -s " + bait + " /a && mv /q /q.old && ln -s " + bait + " /q && readlink /a > /swapped'\n");
  std::string before = tree_fingerprint(m_context);
  auto r = kiln({"bud", m_context});
  ASSERT_EQ(r.status, 0) << r.describe();
  std::string id = last_line(r.out);
  EXPECT_EQ(file_in_image(id, "/swapped"), bait + "\n");
  EXPECT_EQ(tree_fingerprint(bait), bait_before) << "kiln removed or wrote a host file";
  expect_untouched(before);

  // The image's own symlink to a host path, as a target's parent: followed
  // inside the rootfs only. BuildKit creates the missing directories inside
  // the rootfs; kiln refuses the step for now (a dangling symlink in the
  // rootfs is "not found"), which is safe but stricter (branch report).
  write_context("Dockerfile",
                "FROM busybox\n"
                "RUN ln -s " + bait + " /lnk\n"
                "RUN --mount=type=tmpfs,target=/lnk/b/c --mount=type=bind,source=f,target=/lnk/file "
                "sh -c 'cat /lnk/file > /read'\n");
  before = tree_fingerprint(m_context);
  auto r2 = kiln({"bud", m_context});
  if (r2.status == 0) {
    EXPECT_EQ(file_in_image(last_line(r2.out), "/read"), "bind me\n");
  } else {
    EXPECT_TRUE(has(r2.err, "mount on `/lnk/")) << r2.describe();
  }
  EXPECT_EQ(tree_fingerprint(bait), bait_before) << "kiln removed or wrote a host file";
  expect_untouched(before);
}

}  // namespace
}  // namespace kiln::test
