// Bad input to the stepwise commands (issue 8): each a clear error, nothing
// half-written.
#include "oci/json.h"
#include "tests/e2e/stepwise_fixture.h"

namespace kiln::test {
namespace {

class StepwiseErrorsTest : public StepwiseTest {
 protected:
  // The container's record as `inspect --type container` shows it.
  std::string record_of(const std::string& c) { return ok({"inspect", "--type", "container", c}); }
  void expect_error(const CmdResult& r, const std::string& text, int status = 1) {
    EXPECT_EQ(r.status, status) << r.describe();
    EXPECT_NE(r.err.find(text), std::string::npos) << "want `" << text << "` in:\n" << r.err;
    EXPECT_EQ(r.out, "") << "stdout carries only results";
  }
};

TEST_F(StepwiseErrorsTest, UnknownContainerIsNamedByEveryCommand) {
  std::string ctx = make_dir("ctx", {{"f", "x"}});
  const std::string want = "no working container named `nope`";
  expect_error(kiln({"run", "nope", "--", "true"}), want);
  expect_error(kiln({"copy", "--contextdir", ctx, "nope", "f", "/f"}), want);
  expect_error(kiln({"config", "--env", "A=1", "nope"}), want);
  expect_error(kiln({"commit", "nope", "x:1"}), want);
  expect_error(kiln({"rm", "nope"}), want);
  expect_error(kiln({"inspect", "--type", "container", "nope"}), want);
  expect_error(kiln({"run", "../etc", "--", "true"}), "invalid container name `../etc`");
  EXPECT_EQ(ok({"images", "--json"}).find("x:1"), std::string::npos);
}

TEST_F(StepwiseErrorsTest, RunOnARemovedContainer) {
  std::string c = ok({"from", "busybox"});
  ok({"rm", c});
  expect_error(kiln({"run", c, "--", "true"}), "no working container named `" + c + "`");
  EXPECT_EQ(ok({"containers", "-q"}), "");
}

TEST_F(StepwiseErrorsTest, CopyOfAMissingSourceChangesNothing) {
  std::string ctx = make_dir("ctx", {{"present.txt", "here\n"}});
  std::string c = ok({"from", "busybox"});
  ok({"copy", "-q", "--contextdir", ctx, c, "present.txt", "/present.txt"});
  std::string before = record_of(c);
  expect_error(kiln({"copy", "--contextdir", ctx, c, "missing.txt", "/missing.txt"}), "missing.txt");
  EXPECT_EQ(record_of(c), before);
  EXPECT_EQ(ok({"run", c, "--", "cat", "/present.txt"}), "here");
}

TEST_F(StepwiseErrorsTest, CommitAfterTheBaseImageWasRemoved) {
  std::string c = ok({"from", "busybox"});
  ok({"run", c, "--", "sh", "-c", "echo x > /x"});
  expect_error(kiln({"rmi", "busybox"}), "used by a working container");
  ok({"rmi", "--force", "busybox"});
  std::string images = ok({"images", "--json"});
  std::string before = record_of(c);
  expect_error(kiln({"commit", c, "after:1"}), "base image `docker.io/library/busybox:latest`");
  expect_error(kiln({"run", c, "--", "true"}), "was removed from the store");
  EXPECT_EQ(ok({"images", "--json"}), images) << "no image was written";
  EXPECT_EQ(record_of(c), before);
  // Pulling it again (same manifest) lets the container go on.
  ok({"pull", "oci:" + busybox_layout()});
  EXPECT_TRUE(ok({"commit", c, "after:1"}).starts_with("sha256:"));
}

TEST_F(StepwiseErrorsTest, BadVolumeFlagsSaySo) {
  std::string c = ok({"from", "busybox"});
  std::string before = record_of(c);
  expect_error(kiln({"run", "--volume", "/tmp:mnt", c, "--", "true"}), "invalid --volume `/tmp:mnt`", 2);
  expect_error(kiln({"run", "--volume", "/tmp:/mnt:shared", c, "--", "true"}), "unsupported option `shared`", 2);
  EXPECT_EQ(record_of(c), before);
}

TEST_F(StepwiseErrorsTest, UsageErrorsExitWithTwo) {
  std::string c = ok({"from", "busybox"});
  expect_error(kiln({"run", "--network", "bogus", c, "--", "true"}), "invalid --network `bogus`", 2);
  expect_error(kiln({"run", c}), "name the command", 2);
  expect_error(kiln({"config", "--env", "=1", c}), "invalid --env `=1`", 2);
  expect_error(kiln({"from", "--pull", "sometimes", "busybox"}), "invalid --pull", 2);
  auto bad_cmd = kiln({"config", "--cmd", "[not json", c});
  EXPECT_EQ(bad_cmd.status, 1) << bad_cmd.describe();
  EXPECT_NE(bad_cmd.err.find("JSON array"), std::string::npos) << bad_cmd.err;
}

}  // namespace
}  // namespace kiln::test
