// Stepwise builds end to end (issue 8): the example script, run/copy/config/
// commit semantics, concurrency, mount inside `kiln unshare`, GC roots.
#include <thread>

#include "oci/json.h"
#include "tests/e2e/stepwise_fixture.h"
#include "tests/support/test_env.h"

namespace kiln::test {
namespace {

oci::Json json_of(const std::string& text) {
  auto j = oci::parse_json(text, "kiln output");
  EXPECT_TRUE(j) << text;
  return j ? *j : oci::Json::object();
}

class StepwiseCliTest : public StepwiseTest {
 protected:
  oci::Json inspect(const std::string& image) { return json_of(ok({"inspect", image})); }
  // Runs CMD in a fresh container from `image` and returns its output.
  std::string run_in(const std::string& image, const std::vector<std::string>& cmd) {
    std::string c = ok({"from", image});
    std::vector<std::string> args = {"run", c, "--"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    std::string out = ok(args);
    ok({"rm", c});
    return out;
  }
};

TEST_F(StepwiseCliTest, ExampleScriptBuildsAnImageThatRuns) {
  auto r = run_cmd({path_join(source_dir(), "examples/stepwise/build.sh"), "hello-stepwise:1"},
                   {{"KILN", kiln_binary()}, {"KILN_ROOT", m_root}, {"BASE", "busybox"}});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(last_line(r.out).starts_with("sha256:")) << r.out;
  EXPECT_EQ(run_in("hello-stepwise:1", {"/hello.sh"}), "hello from a kiln-built image (built by kiln, running as root)");
  oci::Json img = inspect("hello-stepwise:1");
  EXPECT_EQ(img["config"]["config"]["Cmd"], oci::Json::array({"/hello.sh"}));
  EXPECT_EQ(img["config"]["config"]["WorkingDir"], "/srv");
  EXPECT_EQ(img["config"]["config"]["Labels"]["org.opencontainers.image.title"], "kiln stepwise example");
  EXPECT_EQ(img["manifest"]["layers"].size(), 2u) << "busybox's layer plus ONE for the whole script";
  EXPECT_EQ(ok({"containers", "-q"}), "") << "commit --rm removed the working container";
}

TEST_F(StepwiseCliTest, RunPassesOutputAndExitStatusThroughAndKeepsNothingOnFailure) {
  std::string c = ok({"from", "busybox"});
  EXPECT_EQ(c, "busybox-working-container");
  auto r = kiln({"run", c, "--", "sh", "-c", "echo out; echo err >&2; echo partial > /x; exit 3"});
  EXPECT_EQ(r.status, 3) << r.describe();
  EXPECT_EQ(r.out, "out\n");
  EXPECT_NE(r.err.find("err\n"), std::string::npos) << r.err;
  auto cat = kiln({"run", c, "--", "cat", "/x"});
  EXPECT_NE(cat.status, 0) << "the failed run's changes were kept: " << cat.describe();
  EXPECT_EQ(ok({"run", c, "--", "echo", "hi"}), "hi");
}

TEST_F(StepwiseCliTest, RunUsesTheImageConfigAndFlagsOverrideIt) {
  std::string c = ok({"from", "--name", "cfg", "busybox"});
  EXPECT_EQ(c, "cfg");
  ok({"config", "--env", "X=1", "--workingdir", "/etc", c});
  EXPECT_EQ(ok({"run", c, "--", "sh", "-c", "echo $X $(pwd) $(id -u)"}), "1 /etc 0");
  EXPECT_EQ(ok({"run", "--env", "X=2", "--workingdir", "/tmp", "--user", "1", c, "--", "sh", "-c",
                "echo $X $(pwd) $(id -u)"}),
            "2 /tmp 1");
  auto taken = kiln({"from", "--name", "cfg", "busybox"});
  EXPECT_EQ(taken.status, 1);
  EXPECT_NE(taken.err.find("already in use"), std::string::npos) << taken.err;
  EXPECT_EQ(ok({"from", "busybox"}), "busybox-working-container");
  EXPECT_EQ(ok({"from", "busybox"}), "busybox-working-container-1");
}

TEST_F(StepwiseCliTest, CommitMakesOneLayerForEverythingSinceTheLastCommit) {
  std::string ctx = make_dir("ctx", {{"f.txt", "file\n"}});
  std::string c = ok({"from", "busybox"});
  ok({"run", c, "--", "sh", "-c", "echo a > /a"});
  ok({"run", c, "--", "sh", "-c", "echo b > /b && rm /bin/vi"});
  ok({"copy", "--contextdir", ctx, c, "f.txt", "/f.txt"});
  ok({"config", "--cmd", "cat /a", c});
  std::string id1 = ok({"commit", c, "one:1"});
  EXPECT_TRUE(id1.starts_with("sha256:")) << id1;
  oci::Json one = inspect("one:1");
  ASSERT_EQ(one["manifest"]["layers"].size(), 2u);
  const oci::Json& history = one["config"]["history"];
  int with_layer = 0;
  for (const auto& h : history) {
    with_layer += h.value("empty_layer", false) ? 0 : 1;
  }
  EXPECT_EQ(with_layer, 2) << history.dump(2);
  EXPECT_EQ(history.back()["created_by"], "CMD [\"/bin/sh\",\"-c\",\"cat /a\"]") << history.dump(2);
  EXPECT_EQ(history[history.size() - 2]["created_by"], "COPY f.txt /f.txt") << "the last layer step owns the layer";

  ok({"run", c, "--", "sh", "-c", "echo c > /c"});
  ok({"commit", c, "two:1"});
  oci::Json two = inspect("two:1");
  ASSERT_EQ(two["manifest"]["layers"].size(), 3u);
  EXPECT_EQ(two["manifest"]["layers"][1], one["manifest"]["layers"][1]) << "the first commit's layer is kept";
  EXPECT_EQ(run_in("two:1", {"sh", "-c", "cat /a /b /c /f.txt; test -e /bin/vi || echo no-vi"}), "a\nb\nc\nfile\nno-vi");
  EXPECT_EQ(run_in("one:1", {"sh", "-c", "test -e /c || echo no-c"}), "no-c");

  ok({"commit", "--squash", c, "flat:1"});
  EXPECT_EQ(inspect("flat:1")["manifest"]["layers"].size(), 1u);
  EXPECT_EQ(run_in("flat:1", {"cat", "/c"}), "c");
}

TEST_F(StepwiseCliTest, TwoRunsOnOneContainerBothApplyInTurn) {
  std::string c = ok({"from", "busybox"});
  CmdResult a;
  CmdResult b;
  std::thread t1([&] { a = kiln({"run", c, "--", "sh", "-c", "sleep 0.2; echo one >> /log"}); });
  std::thread t2([&] { b = kiln({"run", c, "--", "sh", "-c", "sleep 0.2; echo two >> /log"}); });
  t1.join();
  t2.join();
  ASSERT_EQ(a.status, 0) << a.describe();
  ASSERT_EQ(b.status, 0) << b.describe();
  std::string log = ok({"run", c, "--", "sort", "/log"});
  EXPECT_EQ(log, "one\ntwo") << "the second run must start from the first one's result";
}

TEST_F(StepwiseCliTest, MountInsideUnshareShowsTheFilesystem) {
  std::string c = ok({"from", "busybox"});
  ok({"run", c, "--", "sh", "-c", "echo mounted > /hi"});
  auto outside = kiln({"mount", c});
  EXPECT_EQ(outside.status, 1);
  EXPECT_NE(outside.err.find("kiln unshare"), std::string::npos) << outside.err;
  std::string script = "set -e; d=$(\"$K\" mount " + c + "); cat \"$d/hi\"; \"$K\" mount; " +
                       "touch \"$d/new\" 2>/dev/null && echo writable || echo read-only; \"$K\" umount " + c;
  auto r = kiln({"unshare", "--", "sh", "-c", script}, {{"K", kiln_binary()}});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("mounted\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(c + " "), std::string::npos) << "`kiln mount` lists it: " << r.out;
  EXPECT_NE(r.out.find("read-only"), std::string::npos) << r.out;
  auto m = kiln({"unshare", "--mount", "ROOTFS=" + c, "--", "sh", "-c", "cat \"$ROOTFS/hi\""});
  EXPECT_EQ(m.status, 0) << m.describe();
  EXPECT_EQ(m.out, "mounted\n");
}

TEST_F(StepwiseCliTest, ContainersPinTheirBaseImageAndLayers) {
  std::string c = ok({"from", "busybox"});
  ok({"run", c, "--", "sh", "-c", "echo kept > /kept"});
  oci::Json list = json_of(ok({"containers", "--json"}));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["containername"], c);
  EXPECT_EQ(list[0]["imagename"], "docker.io/library/busybox:latest");
  EXPECT_NE(ok({"containers"}).find(c), std::string::npos);
  auto rmi = kiln({"rmi", "busybox"});
  EXPECT_EQ(rmi.status, 1);
  EXPECT_NE(rmi.err.find("used by a working container"), std::string::npos) << rmi.err;
  ok({"prune", "--build-cache"});
  auto r = kiln({"run", c, "--", "cat", "/kept"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "kept\n");
  oci::Json info = json_of(ok({"inspect", "--type", "container", c}));
  EXPECT_EQ(info["name"], c);
  EXPECT_EQ(info["config"]["history"].back()["created_by"], "RUN cat /kept");
  ok({"rm", c});
  EXPECT_EQ(ok({"containers", "-q"}), "");
}

TEST_F(StepwiseCliTest, CopyFromAnotherContainerAndAddExtractsArchives) {
  std::string ctx = make_dir("ctx", {{"t/inner.txt", "from tar\n"}});
  auto tar = run_cmd({"tar", "-C", path_join(ctx, "t"), "-cf", path_join(ctx, "files.tar"), "inner.txt"});
  ASSERT_EQ(tar.status, 0) << tar.describe();
  std::string builder = ok({"from", "--name", "builder", "busybox"});
  ok({"run", builder, "--", "sh", "-c", "mkdir /out && echo built > /out/app"});
  std::string c = ok({"from", "busybox"});
  ok({"copy", "--from", builder, c, "/out/app", "/usr/local/bin/app"});
  ok({"add", "--contextdir", ctx, c, "files.tar", "/opt/"});
  EXPECT_EQ(ok({"run", c, "--", "cat", "/usr/local/bin/app", "/opt/inner.txt"}), "built\nfrom tar");
}

}  // namespace
}  // namespace kiln::test
