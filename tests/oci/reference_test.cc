#include "oci/reference.h"

#include <gtest/gtest.h>

namespace kiln::oci {
namespace {

std::string norm(const char* s) {
  auto r = parse_reference(s);
  return r ? r->str() : "ERR: " + r.error().render();
}

// Normalization rules as docker/distribution apply them.
TEST(ReferenceTest, NormalizesLikeDocker) {
  EXPECT_EQ(norm("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(norm("team/app:1"), "docker.io/team/app:1");
  EXPECT_EQ(norm("localhost/app:1"), "localhost/app:1");
  EXPECT_EQ(norm("localhost:5000/a/b"), "localhost:5000/a/b:latest");
  EXPECT_EQ(norm("index.docker.io/library/x"), "docker.io/library/x:latest");
  EXPECT_EQ(norm("quay.io/x/y:v1.2"), "quay.io/x/y:v1.2");
  EXPECT_EQ(norm("127.0.0.1:5000/x"), "127.0.0.1:5000/x:latest");
}

TEST(ReferenceTest, DigestOnlyHasNoTag) {
  auto r = parse_reference("busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tag, "");
  EXPECT_TRUE(r->digest);
  EXPECT_EQ(r->familiar(), "busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ReferenceTest, FamiliarForm) {
  EXPECT_EQ(parse_reference("busybox")->familiar(), "busybox:latest");
  EXPECT_EQ(parse_reference("localhost/app:1")->familiar(), "localhost/app:1");
  EXPECT_FALSE(parse_reference("busybox")->domain_given);
  EXPECT_TRUE(parse_reference("localhost/app")->domain_given);
}

TEST(ReferenceTest, ShortNameInLocalDomain) {
  auto r = parse_reference_in("app:1", "localhost");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "localhost/app:1");
}

TEST(ReferenceTest, RejectsMalformed) {
  EXPECT_NE(norm("Busybox").find("must be lowercase"), std::string::npos);
  EXPECT_NE(norm("busybox:bad tag").find("invalid"), std::string::npos);
  EXPECT_NE(norm("a//b").find("invalid"), std::string::npos);
  EXPECT_NE(norm("").find("empty"), std::string::npos);
  EXPECT_NE(norm("x@sha256:zz").find("invalid reference"), std::string::npos);
  EXPECT_NE(norm("-x").find("invalid"), std::string::npos);
}

}  // namespace
}  // namespace kiln::oci
