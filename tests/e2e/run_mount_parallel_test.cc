// Concurrent RUN --mount=type=cache users (issue 11): sharing=locked
// serializes two parallel stages, sharing=private gives each its own
// directory, and a step racing symlink swaps against another step's mount
// source never gets it outside the cache (BuildKit CVE-2024-23651,
// GHSA-m3r6-h7wv-7xxv: two parallel steps sharing a cache mount with
// subpaths; buildah CVE-2024-11218, GHSA-5vpc-35f4-r8w6: concurrently
// executing stages and --mount). The stages meet through a shared cache
// (one waits for the other's file) instead of relying on timing; a wait
// that cannot succeed is bounded.
#include <gtest/gtest.h>

#include "tests/e2e/run_mount_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using RunMountParallelTest = RunMountTest;

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// A shell loop waiting up to `tenths`/10 s for `path`; runs `then` when it appears.
std::string wait_for(const std::string& path, int tenths, const std::string& then) {
  return cat("i=0; while [ $i -lt ", tenths, " ]; do if [ -e ", path, " ]; then ", then,
             "; break; fi; sleep 0.1; i=$((i+1)); done");
}

std::string locked_stage(const std::string& me, const std::string& other, const std::string& sharing) {
  return cat("FROM busybox AS ", me, "\n",
             "RUN --mount=type=cache,id=sync,target=/sync --mount=type=cache,id=L,target=/c,sharing=", sharing,
             " sh -c 'touch /sync/", me, "; ", wait_for("/sync/" + other, sharing == "locked" ? 30 : 600,
                                                       "echo overlap >> /c/log"),
             "; echo ", me, "-done >> /c/log; rm /sync/", me, "' && echo ", me, " > /", me, "\n");
}

std::string join_stages() {
  return "FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"
         "RUN --mount=type=cache,id=L,target=/c cat /c/log > /log\n";
}

TEST_F(RunMountParallelTest, LockedSharingSerializesParallelStages) {
  std::string id = bud_ok(locked_stage("a", "b", "locked") + locked_stage("b", "a", "locked") + join_stages(),
                          {"--jobs", "2"});
  std::string log = file_in_image(id, "/log");
  EXPECT_TRUE(has(log, "a-done") && has(log, "b-done")) << log;
  EXPECT_FALSE(has(log, "overlap")) << "the two holders of a locked cache ran at once:\n" << log;
}

TEST_F(RunMountParallelTest, SharedSharingLetsParallelStagesMeet) {
  // The control for the test above: the same stages, shared, do overlap.
  std::string id = bud_ok(locked_stage("a", "b", "shared") + locked_stage("b", "a", "shared") + join_stages(),
                          {"--jobs", "2"});
  EXPECT_TRUE(has(file_in_image(id, "/log"), "overlap")) << file_in_image(id, "/log");
}

std::string private_stage(const std::string& me, const std::string& other) {
  return cat("FROM busybox AS ", me, "\n",
             "RUN --mount=type=cache,id=sync,target=/sync --mount=type=cache,id=P,target=/c,sharing=private",
             " sh -c 'touch /sync/", me, "; ", wait_for("/sync/" + other, 600, "true"), "; test -e /sync/", other,
             " || exit 3; touch /c/from-", me, "; touch /sync/", me, "-wrote; ",
             wait_for("/sync/" + other + "-wrote", 600, "true"), "; ls /c > /", me, "'\n");
}

TEST_F(RunMountParallelTest, PrivateSharingGivesEachConcurrentStepItsOwnDirectory) {
  std::string id = bud_ok(private_stage("a", "b") + private_stage("b", "a") +
                              "FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n",
                          {"--jobs", "2"});
  EXPECT_EQ(file_in_image(id, "/a"), "from-a\n");
  EXPECT_EQ(file_in_image(id, "/b"), "from-b\n");
  // Both directories persist: a later private user gets one of them.
  std::string again = bud_ok("FROM busybox\nRUN --mount=type=cache,id=P,target=/c,sharing=private ls /c > /later\n");
  std::string later = file_in_image(again, "/later");
  EXPECT_TRUE(later == "from-a\n" || later == "from-b\n") << later;
}

TEST_F(RunMountParallelTest, SymlinkSwapsRacingAMountSourceNeverEscapeTheCache) {
  std::string canary = make_dir("host-canary");
  ASSERT_TRUE(make_dirs(path_join(canary, "d")));
  ASSERT_TRUE(write_file(path_join(canary, "keep"), "host\n"));
  std::string canary_before = tree_fingerprint(canary);
  std::string victim_steps;
  for (int i = 0; i < 6; ++i) {
    victim_steps += cat("RUN --mount=type=cache,id=race,target=/m,source=sub sh -c 'ls /m > /dev/null; touch /m/pwned-", i,
                        " /m/d/pwned-", i, " 2>/dev/null; true'\n");
  }
  std::string df = cat(
      "FROM busybox AS swapper\n"
      "RUN --mount=type=cache,id=race,target=/c --mount=type=cache,id=sync,target=/sync sh -c "
      "'touch /sync/swapper; i=0; while [ ! -e /sync/done ] && [ $i -lt 3000 ]; do "
      "rm -rf /c/sub; ln -s ", canary, " /c/sub; rm -f /c/sub; ln -s / /c/sub; rm -f /c/sub; mkdir -p /c/sub; "
      "i=$((i+1)); done; echo swapped > /s'\n"
      "FROM busybox AS victim\n"
      "RUN --mount=type=cache,id=sync,target=/sync sh -c '", wait_for("/sync/swapper", 600, "true"), "'\n",
      victim_steps,
      "RUN --mount=type=cache,id=sync,target=/sync touch /sync/done /v\n"
      "FROM busybox\nCOPY --from=swapper /s /s\nCOPY --from=victim /v /v\n");
  write_context("Dockerfile", df);
  std::string context_before = tree_fingerprint(m_context);
  auto r = kiln({"bud", "--jobs", "2", m_context});
  // A victim step may meet `sub` while it is a symlink to a path that does
  // not exist inside the cache: resolving it in the cache's root then fails
  // the step (a refusal, never an escape): while resolving the source, or
  // opening it beneath the cache's root, or finding it is no longer a
  // directory, depending on when the swap lands. Otherwise the build
  // succeeds. The assertions below are the point: nothing escaped.
  if (r.status != 0) {
    EXPECT_TRUE(has(r.err, "building stage `victim`") &&
                (has(r.err, "resolve bind source `sub`") || has(r.err, "`/sub`")))
        << r.describe();
  }
  EXPECT_EQ(tree_fingerprint(canary), canary_before) << "a racing symlink let a mount reach the host";
  EXPECT_EQ(tree_fingerprint(m_context), context_before);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(path_exists(cat("/pwned-", i))) << "wrote the host's /";
  }
}

}  // namespace
}  // namespace kiln::test
