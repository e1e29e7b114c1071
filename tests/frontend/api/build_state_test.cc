#include "frontend/api/build_state.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

ResolvedImage busybox() {
  ResolvedImage r;
  r.ref = "docker.io/library/busybox:latest";
  r.manifest = oci::Digest::sha256_of("m");
  r.id = oci::Digest::sha256_of("c");
  r.config.architecture = "amd64";
  r.config.os = "linux";
  r.config.config.env = {"PATH=/bin"};
  return r;
}

TEST(BuildStateTest, ValueSemanticsAndConfig) {
  BuildState a = BuildState::image(busybox());
  BuildState b = a.with_env("A", "1").with_workdir("/srv").with_workdir("app");
  EXPECT_FALSE(a.config().config.getenv("A"));
  EXPECT_EQ(*b.config().config.getenv("A"), "1");
  EXPECT_EQ(b.workdir(), "/srv/app");
  BuildState c = b.with_cmd(std::vector<std::string>{"sh"}).with_entrypoint(std::vector<std::string>{"/e"});
  EXPECT_FALSE(c.config().config.cmd);  // ENTRYPOINT resets an inherited CMD
}

TEST(BuildStateTest, RunUsesEnvUserWorkdirAndVisibleArgs) {
  BuildState s = BuildState::image(busybox()).with_env("A", "1").with_user("app").with_workdir("/w");
  RunOptions o;
  o.args = {"/bin/sh", "-c", "true"};
  o.extra_env = {"A=ignored", "ARG1=x"};
  o.created_by = "RUN true";
  BuildState r = s.run(o);
  auto g = r.graph();
  const auto& e = std::get<solver::Exec>(g.definition.ops[static_cast<size_t>(g.target)].attrs);
  EXPECT_EQ(e.env, (std::vector<std::string>{"PATH=/bin", "A=1", "ARG1=x"}));
  EXPECT_EQ(e.user, "app");
  EXPECT_EQ(e.cwd, "/w");
  auto hist = r.pending_history();
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(hist[0].op, g.target);
}

TEST(BuildStateTest, DefinitionRoundTripIsByteIdentical) {
  BuildState s = BuildState::image(busybox())
                     .with_workdir("/src")
                     .copy(BuildState::context("context", {"*.log"}), {.sources = {"."}, .dest = ".", .created_by = "COPY . ."})
                     .run({.args = {"/bin/sh", "-c", "make"}, .created_by = "RUN make"})
                     .with_label("a", "b")
                     .add_history("LABEL a=b");
  std::string text = s.to_definition();
  auto back = BuildState::from_definition(text);
  ASSERT_TRUE(back) << back.error().render();
  EXPECT_EQ(back->to_definition(), text);
  auto g = back->graph();
  const auto& c = std::get<solver::Copy>(g.definition.ops[2].attrs);
  EXPECT_EQ(c.dest, "/src/");
  EXPECT_EQ(back->pending_history().size(), 3u);
}

TEST(BuildStateTest, StructurallyEqualGraphsSerializeEqually) {
  BuildState base = BuildState::image(busybox());
  RunOptions o{.args = {"/bin/sh", "-c", "x"}};
  BuildState one = base.run(o);
  BuildState two = BuildState::image(busybox()).run(o);
  EXPECT_EQ(one.to_definition(), two.to_definition());
}

}  // namespace
}  // namespace kiln
