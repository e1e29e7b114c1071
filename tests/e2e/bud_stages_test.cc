// kiln bud, multi-stage builds (issue 6): parallel stages, --target
// pruning, COPY --from a stage name, index or image, ONBUILD, and the
// errors for unknown stages and cycles.
#include <unistd.h>

#include "tests/e2e/bud_fixture.h"
#include "tests/support/loopback_server.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using BudStagesTest = BudTest;

// Stages `a` and `b` meet through a shared cache mount: each leaves a mark
// and waits (up to 120 s) for the other's. Run one after the other, the
// first would wait until its timeout and fail the build; so a successful
// build proves both ran at once, whatever the machine's speed.
std::string meeting_stage(const std::string& me, const std::string& other, const std::string& id) {
  return cat("FROM busybox AS ", me, "\n", "RUN --mount=type=cache,id=", id, ",target=/meet,sharing=shared sh -c 'touch /meet/",
             me, "; i=0; until [ -e /meet/", other, " ]; do i=$((i+1)); [ $i -lt 12000 ] || exit 3; usleep 10000; done; echo ",
             me, "-met-", other, " > /", me, "'\n");
}

TEST_F(BudStagesTest, IndependentStagesRunAtTheSameTime) {
  std::string id = cat("meet-", ::getpid(), "-", free_port());
  std::string df = meeting_stage("a", "b", id) + meeting_stage("b", "a", id) +
                   "FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n";
  std::string ctx = context({{"Dockerfile", df}});
  std::string fs = build_fs(ctx, {"--jobs", "4"});
  EXPECT_EQ(trim(file_text(path_join(fs, "a"))), "a-met-b");
  EXPECT_EQ(trim(file_text(path_join(fs, "b"))), "b-met-a");
}

TEST_F(BudStagesTest, TargetBuildsOnlyTheStagesItNeeds) {
  std::string df =
      "FROM busybox AS base\n"
      "RUN echo base > /base.txt\n"
      "FROM busybox AS broken\n"
      "RUN echo must not run && exit 3\n"
      "FROM base AS app\n"
      "RUN echo app > /app.txt\n"
      "FROM app AS after\n"
      "RUN exit 4\n";
  std::string ctx = context({{"Dockerfile", df}});
  auto r = bud(ctx, {"--target", "app", "--progress=json", "-t", "app:1"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(ran(r.err), (std::vector<std::string>{"RUN echo base > /base.txt", "RUN echo app > /app.txt"}));
  EXPECT_EQ(r.err.find("must not run"), std::string::npos);
  std::string fs = build_fs(ctx, {"--target", "app"});
  EXPECT_EQ(file_text(path_join(fs, "base.txt")), "base\n");
  EXPECT_EQ(file_text(path_join(fs, "app.txt")), "app\n");
}

TEST_F(BudStagesTest, CopyFromStageNameIndexAndImage) {
  std::string df =
      "FROM busybox AS first\n"
      "RUN echo one > /one.txt\n"
      "FROM scratch AS second\n"
      "COPY --from=first /one.txt /two.txt\n"
      "FROM busybox\n"
      "COPY --from=first /one.txt /by-name.txt\n"
      "COPY --from=1 /two.txt /by-index.txt\n"
      "COPY --from=busybox /etc/group /by-image-group\n"
      "COPY --from=docker.io/library/busybox:latest /etc/passwd /by-full-name\n";
  std::string ctx = context({{"Dockerfile", df}});
  std::string fs = build_fs(ctx);
  EXPECT_EQ(file_text(path_join(fs, "by-name.txt")), "one\n");
  EXPECT_EQ(file_text(path_join(fs, "by-index.txt")), "one\n");
  EXPECT_NE(file_text(path_join(fs, "by-image-group")).find("root:x:0:"), std::string::npos);
  EXPECT_NE(file_text(path_join(fs, "by-full-name")).find("root:x:0:0"), std::string::npos);
}

TEST_F(BudStagesTest, OnbuildTriggersRunInAStageFromTheImage) {
  std::string parent = context({{"Dockerfile",
                                 "FROM busybox\n"
                                 "ONBUILD COPY marker.txt /from-trigger.txt\n"
                                 "ONBUILD RUN echo triggered > /ran.txt\n"}},
                               "parent");
  auto p = bud(parent, {"-t", "parent:1"});
  ASSERT_EQ(p.status, 0) << p.describe();
  auto cfg = image_config("parent:1");
  EXPECT_EQ(cfg["OnBuild"], oci::Json::array({"COPY marker.txt /from-trigger.txt", "RUN echo triggered > /ran.txt"}));
  std::string child = context({{"Dockerfile", "FROM parent:1\nRUN cat /ran.txt > /seen.txt\n"}, {"marker.txt", "m\n"}},
                              "child");
  std::string fs = build_fs(child, {"-t", "child:1"});
  EXPECT_EQ(file_text(path_join(fs, "from-trigger.txt")), "m\n");
  EXPECT_EQ(file_text(path_join(fs, "seen.txt")), "triggered\n");
  // Triggers run once: the child image does not carry them on.
  EXPECT_FALSE(image_config("child:1").contains("OnBuild")) << image_config("child:1").dump();
}

TEST_F(BudStagesTest, UnknownFromStageIsOneClearErrorAndChangesNothing) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nCOPY --from=nosuchstage /x /x\n"}});
  std::string before = store_state();
  // Not a stage, so an image (as in BuildKit); --pull=never keeps the test off the network.
  auto r = bud(ctx, {"-t", "bad:1", "--pull=never"});
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.err.find("--from=nosuchstage"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Dockerfile:2"), std::string::npos) << r.err;
  EXPECT_EQ(split(trim(r.err), '\n').front().rfind("Error: ", 0), 0u) << r.err;
  EXPECT_EQ(store_state(), before);
  EXPECT_EQ(r.out, "");
}

TEST_F(BudStagesTest, UnknownStageIndexAndTargetAreErrors) {
  std::string ctx = context({{"Dockerfile", "FROM busybox AS a\nFROM busybox\nCOPY --from=7 /x /x\n"}});
  std::string before = store_state();
  auto r = bud(ctx);
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.err.find("no stage with index 7"), std::string::npos) << r.err;
  auto t = bud(ctx, {"--target", "nope"});
  EXPECT_EQ(t.status, 1) << t.describe();
  EXPECT_NE(t.err.find("target stage `nope` could not be found"), std::string::npos) << t.err;
  EXPECT_EQ(store_state(), before);
}

TEST_F(BudStagesTest, CycleBetweenStagesIsAnError) {
  std::string ctx = context({{"Dockerfile",
                              "FROM busybox AS a\n"
                              "COPY --from=b /b /b\n"
                              "FROM busybox AS b\n"
                              "COPY --from=a /a /a\n"}});
  std::string before = store_state();
  auto r = bud(ctx, {"--target", "b"});
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.err.find("circular dependency"), std::string::npos) << r.err;
  auto self = bud(context({{"Dockerfile", "FROM busybox AS a\nCOPY --from=a /x /x\n"}}, "self"));
  EXPECT_EQ(self.status, 1) << self.describe();
  EXPECT_NE(self.err.find("cycle"), std::string::npos) << self.err;
  EXPECT_EQ(store_state(), before);
}

}  // namespace
}  // namespace kiln::test
