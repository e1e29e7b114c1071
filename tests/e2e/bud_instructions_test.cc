// kiln bud, instruction by instruction (issue 6): heredocs, SHELL, ENTRYPOINT
// and CMD, WORKDIR, USER, ARG scoping, ENV, and the image config and history
// each instruction leaves, in OCI and Docker format.
#include "tests/e2e/bud_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using BudInstructionsTest = BudTest;

TEST_F(BudInstructionsTest, HeredocsInRunAndCopy) {
  std::string df =
      "FROM busybox\n"
      "RUN <<EOF\n"
      "echo first > /one.txt\n"
      "echo second >> /one.txt\n"
      "EOF\n"
      "RUN cat <<A > /a.txt && cat <<B > /b.txt\n"
      "from a\n"
      "A\n"
      "from b\n"
      "B\n"
      "COPY <<EOF /etc/conf.txt\n"
      "key=value\n"
      "EOF\n"
      "COPY <<X <<Y /multi/\n"
      "x body\n"
      "X\n"
      "y body\n"
      "Y\n";
  std::string fs = build_fs(context({{"Dockerfile", df}}));
  EXPECT_EQ(file_text(path_join(fs, "one.txt")), "first\nsecond\n");
  EXPECT_EQ(file_text(path_join(fs, "a.txt")), "from a\n");
  EXPECT_EQ(file_text(path_join(fs, "b.txt")), "from b\n");
  EXPECT_EQ(file_text(path_join(fs, "etc/conf.txt")), "key=value\n");
  EXPECT_EQ(file_text(path_join(fs, "multi/X")), "x body\n");
  EXPECT_EQ(file_text(path_join(fs, "multi/Y")), "y body\n");
}

TEST_F(BudInstructionsTest, ShellChangesHowShellFormRuns) {
  std::string df =
      "FROM busybox\n"
      "SHELL [\"/bin/sh\", \"-xc\"]\n"
      "RUN echo traced-by-xtrace > /shell.txt\n"
      "CMD echo hi\n";
  std::string ctx = context({{"Dockerfile", df}});
  auto r = bud(ctx, {"-t", "shell:1"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.err.find("+ echo traced-by-xtrace"), std::string::npos) << r.err;  // sh -x echoes the command
  auto cfg = image_config("shell:1");
  EXPECT_EQ(cfg["Shell"], oci::Json::array({"/bin/sh", "-xc"}));
  EXPECT_EQ(cfg["Cmd"], oci::Json::array({"/bin/sh", "-xc", "echo hi"}));
}

TEST_F(BudInstructionsTest, EntrypointResetsAnInheritedCmdOnly) {
  std::string base = context({{"Dockerfile", "FROM busybox\nCMD [\"inherited\"]\n"}}, "base");
  ASSERT_EQ(bud(base, {"-t", "base:1"}).status, 0);
  std::string reset = context({{"Dockerfile", "FROM base:1\nENTRYPOINT [\"/bin/echo\"]\n"}}, "reset");
  ASSERT_EQ(bud(reset, {"-t", "reset:1"}).status, 0);
  auto c1 = image_config("reset:1");
  EXPECT_EQ(c1["Entrypoint"], oci::Json::array({"/bin/echo"}));
  EXPECT_FALSE(c1.contains("Cmd") && !c1["Cmd"].is_null()) << c1.dump();
  std::string keep =
      context({{"Dockerfile", "FROM base:1\nCMD [\"mine\"]\nENTRYPOINT [\"/bin/echo\"]\n"}}, "keep");
  ASSERT_EQ(bud(keep, {"-t", "keep:1"}).status, 0);
  EXPECT_EQ(image_config("keep:1")["Cmd"], oci::Json::array({"mine"}));
  EXPECT_EQ(image_config("base:1")["Cmd"], oci::Json::array({"inherited"}));
}

TEST_F(BudInstructionsTest, WorkdirIsCreatedRelativeAndOwnedByUser) {
  std::string df =
      "FROM busybox\n"
      "WORKDIR /a\n"
      "WORKDIR b\n"
      "WORKDIR c\n"
      "RUN pwd > /pwd.txt\n"
      "USER nobody\n"
      "WORKDIR /owned\n"
      "RUN stat -c '%u:%g' . > /tmp/owner.txt && id -u > /tmp/uid.txt\n"
      "USER 0\n"
      "WORKDIR /a\n";
  std::string ctx = context({{"Dockerfile", df}});
  std::string fs = build_fs(ctx, {"-t", "wd:1"});
  EXPECT_EQ(file_text(path_join(fs, "pwd.txt")), "/a/b/c\n");
  EXPECT_TRUE(is_directory(path_join(fs, "a/b/c")));
  EXPECT_EQ(file_text(path_join(fs, "tmp/owner.txt")), "65534:65534\n");
  EXPECT_EQ(file_text(path_join(fs, "tmp/uid.txt")), "65534\n");
  auto cfg = image_config("wd:1");
  EXPECT_EQ(cfg.value("WorkingDir", ""), "/a");
  EXPECT_EQ(cfg.value("User", ""), "0");
}

TEST_F(BudInstructionsTest, UserByNameAndNumber) {
  std::string df =
      "FROM busybox\n"
      "USER nobody\n"
      "RUN id -u > /tmp/by-name && id -g >> /tmp/by-name\n"
      "USER 1234:2345\n"
      "RUN id -u > /tmp/by-number && id -g >> /tmp/by-number\n";
  std::string fs = build_fs(context({{"Dockerfile", df}}), {"-t", "user:1"});
  EXPECT_EQ(file_text(path_join(fs, "tmp/by-name")), "65534\n65534\n");
  EXPECT_EQ(file_text(path_join(fs, "tmp/by-number")), "1234\n2345\n");
  EXPECT_EQ(image_config("user:1").value("User", ""), "1234:2345");
}

TEST_F(BudInstructionsTest, ArgScopingBuildArgsAndEnvironment) {
  std::string df =
      "ARG IMG=busybox\n"
      "ARG G=global-default\n"
      "FROM $IMG\n"
      "RUN echo \"[$G]\" > /before-redeclare\n"
      "ARG G\n"
      "RUN echo \"[$G]\" > /after-redeclare\n"
      "ARG L=local-default\n"
      "ENV E=$L-env\n"
      "RUN echo \"[$L] [$E]\" > /local\n";
  std::string ctx = context({{"Dockerfile", df}});
  std::string fs = build_fs(ctx);
  EXPECT_EQ(file_text(path_join(fs, "before-redeclare")), "[]\n");
  EXPECT_EQ(file_text(path_join(fs, "after-redeclare")), "[global-default]\n");
  EXPECT_EQ(file_text(path_join(fs, "local")), "[local-default] [local-default-env]\n");

  fs = build_fs(ctx, {"--build-arg", "G=from-cli", "--build-arg", "L=l2"});
  EXPECT_EQ(file_text(path_join(fs, "after-redeclare")), "[from-cli]\n");
  EXPECT_EQ(file_text(path_join(fs, "local")), "[l2] [l2-env]\n");

  // `--build-arg K` alone takes K from kiln's environment.
  std::string dest = path("from-env");
  auto r = bud(ctx, {"--build-arg", "G", "-o", "type=local,dest=" + dest}, {{"G", "from-environment"}});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(file_text(path_join(dest, "after-redeclare")), "[from-environment]\n");
}

TEST_F(BudInstructionsTest, EnvIsInTheConfigAndVisibleToRun) {
  std::string df =
      "FROM busybox\n"
      "ENV A=1 B=\"two words\"\n"
      "ENV C=${A}-c\n"
      "RUN echo \"$A|$B|$C\" > /env.txt\n";
  std::string fs = build_fs(context({{"Dockerfile", df}}), {"-t", "env:1"});
  EXPECT_EQ(file_text(path_join(fs, "env.txt")), "1|two words|1-c\n");
  auto env = image_config("env:1")["Env"];
  std::vector<std::string> got;
  for (const auto& e : env) {
    got.push_back(e.get<std::string>());
  }
  for (const char* want : {"A=1", "B=two words", "C=1-c"}) {
    EXPECT_NE(std::find(got.begin(), got.end(), want), got.end()) << want << " in " << env.dump();
  }
}

// The metadata instructions land in the config in both formats (buildah
// drops Healthcheck, OnBuild and Shell in OCI format; kiln keeps them), with
// BuildKit's history text and empty_layer on metadata-only steps.
class BudConfigFormatTest : public BudTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(BudConfigFormatTest, MetadataInstructionsAreKept) {
  std::string df =
      "FROM busybox\n"
      "EXPOSE 80 53/udp\n"
      "VOLUME [\"/data\", \"/logs\"]\n"
      "LABEL org.example.a=\"1\" b=two\n"
      "STOPSIGNAL SIGQUIT\n"
      "HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD [\"/bin/true\"]\n"
      "ONBUILD RUN echo child\n"
      "SHELL [\"/bin/sh\", \"-ec\"]\n"
      "RUN echo layer > /layer.txt\n"
      "ENTRYPOINT [\"/bin/sh\"]\n"
      "CMD [\"-c\", \"echo hi\"]\n";
  std::string ctx = context({{"Dockerfile", df}});
  auto r = bud(ctx, {"--format", GetParam(), "-t", "meta:1"});
  ASSERT_EQ(r.status, 0) << r.describe();
  auto img = inspect("meta:1");
  bool docker = GetParam() == "docker";
  EXPECT_EQ(img["manifest"].value("mediaType", ""),
            docker ? "application/vnd.docker.distribution.manifest.v2+json"
                   : "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(img["manifest"]["config"].value("mediaType", ""),
            docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json");
  auto c = img["config"]["config"];
  EXPECT_TRUE(c["ExposedPorts"].contains("80/tcp")) << c.dump();
  EXPECT_TRUE(c["ExposedPorts"].contains("53/udp"));
  EXPECT_TRUE(c["Volumes"].contains("/data"));
  EXPECT_TRUE(c["Volumes"].contains("/logs"));
  EXPECT_EQ(c["Labels"].value("org.example.a", ""), "1");
  EXPECT_EQ(c["Labels"].value("b", ""), "two");
  EXPECT_EQ(c.value("StopSignal", ""), "SIGQUIT");
  EXPECT_EQ(c["Healthcheck"]["Test"], oci::Json::array({"CMD", "/bin/true"}));
  EXPECT_EQ(c["Healthcheck"].value("Interval", 0LL), 5000000000LL);
  EXPECT_EQ(c["Healthcheck"].value("Timeout", 0LL), 2000000000LL);
  EXPECT_EQ(c["Healthcheck"].value("Retries", 0), 4);
  EXPECT_EQ(c["OnBuild"], oci::Json::array({"RUN echo child"}));
  EXPECT_EQ(c["Shell"], oci::Json::array({"/bin/sh", "-ec"}));
  EXPECT_EQ(c["Entrypoint"], oci::Json::array({"/bin/sh"}));
  EXPECT_EQ(c["Cmd"], oci::Json::array({"-c", "echo hi"}));

  // History: BuildKit's created_by; only the RUN made a layer.
  std::vector<std::pair<std::string, bool>> got;
  for (const auto& h : img["config"]["history"]) {
    if (h.value("comment", "") == "buildkit.dockerfile.v0") {
      got.emplace_back(h.value("created_by", ""), h.value("empty_layer", false));
    }
  }
  std::vector<std::pair<std::string, bool>> want = {
      {"EXPOSE map[53/udp:{} 80/tcp:{}]", true},
      {"VOLUME [/data /logs]", true},
      {"LABEL org.example.a=1 b=two", true},
      {"STOPSIGNAL SIGQUIT", true},
      {"HEALTHCHECK [\"CMD\" \"/bin/true\"]", true},
      {"ONBUILD RUN echo child", true},
      {"SHELL [\"/bin/sh\" \"-ec\"]", true},
      {"RUN /bin/sh -ec echo layer > /layer.txt # buildkit", false},
      {"ENTRYPOINT [\"/bin/sh\"]", true},
      {"CMD [\"-c\" \"echo hi\"]", true},
  };
  EXPECT_EQ(got, want);
  size_t layers = img["config"]["rootfs"]["diff_ids"].size();
  size_t non_empty = 0;
  for (const auto& h : img["config"]["history"]) {
    non_empty += h.value("empty_layer", false) ? 0 : 1;
  }
  EXPECT_EQ(layers, non_empty);
  EXPECT_EQ(img["manifest"]["layers"].size(), layers);
}

INSTANTIATE_TEST_SUITE_P(Formats, BudConfigFormatTest, ::testing::Values("oci", "docker"));

}  // namespace
}  // namespace kiln::test
