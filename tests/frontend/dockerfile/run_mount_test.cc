// --mount values as RunMount (frontend/dockerfile/run_mount.h): BuildKit's
// defaults, the same for a Dockerfile RUN and `kiln run --mount`.
#include "frontend/dockerfile/run_mount.h"

#include <gtest/gtest.h>

namespace kiln::dockerfile {
namespace {

RunMountContext context_at(const std::string& workdir) {
  RunMountContext c;
  c.workdir = workdir;
  c.default_source = []() -> Result<BuildState> { return BuildState::context("context"); };
  c.resolve_from = [](const std::string& from) -> Result<BuildState> {
    if (from == "known") {
      return BuildState::context("known");
    }
    return Error(ErrorCode::invalid_input, "no stage `" + from + "`");
  };
  return c;
}

RunMount parse_ok(const std::string& text, const std::string& workdir = "/") {
  auto r = parse_run_mount(text, context_at(workdir));
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().render());
  return r ? *r : RunMount{};
}

TEST(RunMountTest, BindDefaultsToTheContextReadOnlyWithRelativeTargets) {
  RunMount m = parse_ok("target=src,source=app", "/work");
  EXPECT_EQ(m.spec.type, "bind");
  EXPECT_EQ(m.spec.target, "/work/src");
  EXPECT_EQ(m.spec.source, "app");
  EXPECT_TRUE(m.spec.readonly);
  ASSERT_TRUE(m.from);
  EXPECT_TRUE(m.from->is_context());
  EXPECT_FALSE(parse_ok("type=bind,target=/x,rw").spec.readonly);
}

TEST(RunMountTest, CacheIdDefaultsToTheTargetAndHasNoSourceState) {
  RunMount m = parse_ok("type=cache,target=/root/.cache/pip/,sharing=locked,uid=1000,mode=0700");
  EXPECT_EQ(m.spec.id, "/root/.cache/pip");
  EXPECT_EQ(m.spec.sharing, "locked");
  EXPECT_FALSE(m.spec.readonly);
  EXPECT_EQ(m.spec.uid, 1000u);
  EXPECT_EQ(m.spec.mode, 0700u);
  EXPECT_FALSE(m.from);
  RunMount seeded = parse_ok("type=cache,target=/c,from=known,source=/seed,id=x");
  ASSERT_TRUE(seeded.from);
  EXPECT_EQ(seeded.spec.id, "x");
  EXPECT_EQ(seeded.spec.source, "/seed");
}

TEST(RunMountTest, SecretIdAndTargetDefaults) {
  RunMount a = parse_ok("type=secret,id=aws");
  EXPECT_EQ(a.spec.target, "/run/secrets/aws");
  EXPECT_FALSE(a.spec.required);
  RunMount b = parse_ok("type=secret,target=/etc/key.pem,required");
  EXPECT_EQ(b.spec.id, "key.pem");
  EXPECT_TRUE(b.spec.required);
  RunMount c = parse_ok("type=secret,id=tok,env=TOKEN");
  EXPECT_EQ(c.spec.target, "") << "env only: no file";
  EXPECT_EQ(c.spec.env, "TOKEN");
  RunMount d = parse_ok("type=secret,source=src-id,mode=0440,uid=1,gid=2");
  EXPECT_EQ(d.spec.id, "src-id");
  EXPECT_EQ(d.spec.mode, 0440u);
}

TEST(RunMountTest, SshAndTmpfs) {
  RunMount s = parse_ok("type=ssh");
  EXPECT_EQ(s.spec.id, "default");
  EXPECT_EQ(s.spec.target, "");  // /run/buildkit/ssh_agent.N when the step runs
  RunMount t = parse_ok("type=tmpfs,target=/t,size=64m");
  EXPECT_EQ(t.spec.size, 64u << 20);
  EXPECT_FALSE(t.from);
}

TEST(RunMountTest, ErrorsNameTheProblem) {
  auto ctx = context_at("/");
  for (const char* bad : {"type=volume,target=/x", "type=bind,target=/x,bind-propagation=shared", "type=cache",
                          "type=bind,target=/", "type=ssh,source=x", "type=bind,target=/x,from=unknown",
                          "type=tmpfs,target=/t,sharing=locked"}) {
    auto r = parse_run_mount(bad, ctx);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().render().find(bad), std::string::npos) << r.error().render();
    }
  }
}

TEST(RunMountTest, ValuesAreLiteral) {
  RunMount m = parse_ok("type=cache,target=/c/$HOME,id=$ID");
  EXPECT_EQ(m.spec.target, "/c/$HOME");
  EXPECT_EQ(m.spec.id, "$ID");
}

}  // namespace
}  // namespace kiln::dockerfile
