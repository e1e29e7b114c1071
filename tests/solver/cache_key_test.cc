#include "solver/cache_key.h"

#include <gtest/gtest.h>

namespace kiln::solver {
namespace {

Op exec_op() {
  Exec e;
  e.args = {"/bin/sh", "-c", "echo hi"};
  e.env = {"PATH=/usr/bin:/bin", "HTTP_PROXY=http://proxy:3128"};
  e.cwd = "/";
  return {e, {0}, {}};
}

// Known answers (K4): these fail only when a key-affecting change is made on
// purpose, which must also bump the op's tag or k_key_scheme.
TEST(CacheKeyTest, ExecKnownAnswer) {
  KeyParts p = op_key_parts(exec_op());
  p.inputs.push_back({std::string(64, 'a'), "", ""});
  EXPECT_EQ(p.key(), "b127f3fbf7fec11b508d84ac6cf473286465c1c649970ff8f5fba89630152171");
}

TEST(CacheKeyTest, CopyKnownAnswer) {
  Copy c;
  c.sources = {"src/main.c"};
  c.dest = "/src/";
  KeyParts p = op_key_parts({c, {0, 1}, {}});
  p.inputs.push_back({std::string(64, 'a'), "", ""});
  p.inputs.push_back({std::string(64, 'b'), "src/main.c", "sha256:" + std::string(64, 'c')});
  EXPECT_EQ(p.key(), "d1b8950652591e7d373ef7cfdad7ab837c3f91ef0c3bbd5dae70bc3cbc14ee01");
}

TEST(CacheKeyTest, ImageSourceKnownAnswer) {
  ImageSource s;
  s.ref = "docker.io/library/busybox:latest";
  s.manifest = oci::Digest::sha256_of("manifest");
  s.config = oci::Digest::sha256_of("config");
  EXPECT_EQ(op_key_parts({s, {}, {}}).key(), "aec07539629236248c5d2e0e59a41d6ce111eb26eeb911ce885d604e54c50a33");
}

TEST(CacheKeyTest, ProxyEnvAndHostDetailsDoNotEnterTheKey) {
  Op a = exec_op();
  Op b = exec_op();
  auto& e = std::get<Exec>(b.attrs);
  e.env = {"PATH=/usr/bin:/bin", "HTTP_PROXY=http://other:1", "no_proxy=x"};
  e.extra_hosts = {"db:10.0.0.1"};
  e.ulimits = {"nofile=10:10"};
  e.hostname = "box";
  EXPECT_EQ(op_key_parts(a).key(), op_key_parts(b).key());
  e.env.push_back("FOO=1");
  EXPECT_NE(op_key_parts(a).key(), op_key_parts(b).key());
}

TEST(CacheKeyTest, ImageNameDoesNotMatterOnlyDigest) {
  ImageSource s;
  s.ref = "busybox";
  s.manifest = oci::Digest::sha256_of("manifest");
  ImageSource t = s;
  t.ref = "localhost/other:1";
  EXPECT_EQ(op_key_parts({s, {}, {}}).key(), op_key_parts({t, {}, {}}).key());
}

TEST(CacheKeyTest, ExplainsEnvAndContentChanges) {
  KeyParts a = op_key_parts(exec_op());
  Op changed = exec_op();
  std::get<Exec>(changed.attrs).env.push_back("FOO=1");
  KeyParts b = op_key_parts(changed);
  auto why = explain_key_change(a, b);
  ASSERT_FALSE(why.empty());
  EXPECT_EQ(why[0], "env FOO was added");
  Copy c;
  c.sources = {"x"};
  KeyParts c1 = op_key_parts({c, {0, 1}, {}});
  c1.inputs = {{"k", "", ""}, {"k2", "x", "sha256:1"}};
  KeyParts c2 = c1;
  c2.inputs[1].content_digest = "sha256:2";
  EXPECT_EQ(explain_key_change(c1, c2)[0], "source content changed (x)");
}

}  // namespace
}  // namespace kiln::solver
