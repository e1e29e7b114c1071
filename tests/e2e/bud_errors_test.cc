// kiln bud on bad input and failing steps (issue 6): one clear error, a
// non-zero exit, nothing printed on stdout, the store unchanged and no
// working state left behind.
#include "tests/e2e/bud_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

class BudErrorsTest : public BudTest {
 protected:
  // Runs a build that must fail; checks what every failure must satisfy.
  CmdResult must_fail(const std::string& ctx, const std::vector<std::string>& args = {}) {
    std::string before = store_state();
    auto r = bud(ctx, args);
    EXPECT_NE(r.status, 0) << r.describe();  // 1, or 2 for a usage error
    EXPECT_EQ(r.out, "") << r.describe();
    EXPECT_NE(r.err.find("Error: "), std::string::npos) << r.err;
    EXPECT_TRUE(store_state() == before) << "the store changed: " << r.err;
    EXPECT_TRUE(store_tmp_entries().empty()) << join(store_tmp_entries(), " ");
    return r;
  }
};

TEST_F(BudErrorsTest, MissingDockerfile) {
  std::string ctx = context({{"a.txt", "a\n"}});
  auto r = must_fail(ctx);
  EXPECT_NE(r.err.find(cat("`", path_join(ctx, "Dockerfile"), "`")), std::string::npos) << r.err;
  auto named = must_fail(ctx, {"-f", path_join(ctx, "Nope.Dockerfile")});
  EXPECT_NE(named.err.find("Nope.Dockerfile"), std::string::npos) << named.err;
}

TEST_F(BudErrorsTest, MissingCopySourceNamesItAndTheLine) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nRUN echo fine\nCOPY no-such-file.txt /x\n"}});
  auto r = must_fail(ctx);
  EXPECT_NE(r.err.find("no-such-file.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Dockerfile:3"), std::string::npos) << r.err;
}

TEST_F(BudErrorsTest, BadBuildArg) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nARG A\nRUN echo $A\n"}});
  auto r = must_fail(ctx, {"--build-arg", "=value"});
  EXPECT_NE(r.err.find("invalid --build-arg `=value`"), std::string::npos) << r.err;
  auto e = must_fail(ctx, {"--build-arg", ""});
  EXPECT_NE(e.err.find("invalid --build-arg"), std::string::npos) << e.err;
}

TEST_F(BudErrorsTest, UnknownInstructionAndBadSyntax) {
  auto r = must_fail(context({{"Dockerfile", "FROM busybox\nFROBNICATE now\n"}}));
  EXPECT_NE(r.err.find("Dockerfile:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("FROBNICATE"), std::string::npos) << r.err;
}

// The step, its exit code, and nothing left in the store's tmp dir; the
// steps before it stay cached, and the image is not tagged.
TEST_F(BudErrorsTest, FailingRunReportsStepAndExitCode) {
  std::string ctx =
      context({{"Dockerfile", "FROM busybox\nRUN echo ok > /ok\nRUN echo doomed; exit 7\nRUN echo never\n"}});
  auto r = bud(ctx, {"-t", "failed:1"});
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("STEP 3/4: RUN echo doomed; exit 7"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("doomed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit code: 7"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("never"), std::string::npos) << r.err;
  EXPECT_TRUE(store_tmp_entries().empty()) << join(store_tmp_entries(), " ");
  EXPECT_NE(kiln({"inspect", "failed:1"}).status, 0);

  auto json = bud(ctx, {"--progress=json"});
  EXPECT_EQ(json.status, 1);
  bool failed_event = false;
  for (const auto& e : events(json.err)) {
    failed_event = failed_event || e.value("event", "") == "step_failed";
  }
  EXPECT_TRUE(failed_event) << json.err;
  EXPECT_EQ(cached(json.err), (std::vector<std::string>{"RUN echo ok > /ok"})) << json.err;
  EXPECT_TRUE(store_tmp_entries().empty()) << join(store_tmp_entries(), " ");
}

TEST_F(BudErrorsTest, UnknownRunMountTypeNamesItAndTheLine) {
  auto r = must_fail(context({{"Dockerfile", "FROM busybox\nRUN --mount=type=bogus,target=/c true\n"}}));
  EXPECT_NE(r.err.find("unsupported mount type `bogus`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Dockerfile:2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln::test
