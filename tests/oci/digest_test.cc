#include "oci/digest.h"

#include <gtest/gtest.h>

namespace kiln::oci {
namespace {

TEST(DigestTest, ParsesSha256) {
  auto d = Digest::parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->short_hex(), "e3b0c44298fc");
  EXPECT_EQ(*d, Digest::sha256_of(""));
}

TEST(DigestTest, RejectsMalformed) {
  EXPECT_FALSE(Digest::parse("sha256:abc"));
  EXPECT_FALSE(Digest::parse("md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_FALSE(Digest::parse("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(Digest::parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  auto e = Digest::parse("sha256:xyz");
  EXPECT_NE(e.error().render().find("sha256:xyz"), std::string::npos);
}

}  // namespace
}  // namespace kiln::oci
