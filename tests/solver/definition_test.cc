#include "solver/definition.h"

#include <gtest/gtest.h>

namespace kiln::solver {
namespace {

Definition sample() {
  Definition d;
  ImageSource img;
  img.ref = "docker.io/library/busybox:latest";
  img.manifest = oci::Digest::sha256_of("m");
  img.config = oci::Digest::sha256_of("c");
  d.ops.push_back({img, {}, {}});
  d.ops.push_back({ContextSource{"context", {"*.log"}}, {}, {}});
  Exec e;
  e.args = {"/bin/sh", "-c", "make"};
  e.env = {"PATH=/bin"};
  e.cwd = "/src";
  d.ops.push_back({e, {0}, {"RUN make", "build", 2, 3, "Dockerfile", 4, 4}});
  Copy c;
  c.sources = {"src"};
  c.dest = "/src/";
  c.chown = "1000:1000";
  d.ops.push_back({c, {2, 1}, {}});
  return d;
}

TEST(DefinitionTest, JsonRoundTripIsByteIdentical) {
  Definition d = sample();
  std::string text = serialize_definition(d);
  auto back = parse_definition(text);
  ASSERT_TRUE(back) << back.error().render();
  EXPECT_EQ(serialize_definition(*back), text);
  EXPECT_EQ(back->ops[2].origin.stage, "build");
}

TEST(DefinitionTest, RejectsForwardReferencesAndBadInputs) {
  Definition d = sample();
  d.ops[2].inputs = {3};
  auto v = validate_definition(d);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().render().find("not an earlier op"), std::string::npos);
  d = sample();
  d.ops[3].inputs = {2};
  EXPECT_FALSE(validate_definition(d));
  EXPECT_FALSE(parse_definition(R"({"version":1,"ops":[{"kind":"teleport"}]})"));
  EXPECT_FALSE(parse_definition(R"({"version":2,"ops":[]})"));
  EXPECT_FALSE(parse_definition(R"({"version":1,"ops":[{"kind":"exec","attrs":{"args":[]},"inputs":[]}]})"));
  EXPECT_FALSE(parse_definition(R"({"version":1,"ops":[{"kind":"scratch","inputs":[-1]}]})"));
}

}  // namespace
}  // namespace kiln::solver
