#include "util/hasher.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

// Known answers: FIPS 180-2 test vectors.
TEST(HasherTest, Sha256KnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HasherTest, StreamingEqualsOneShot) {
  Sha256 s;
  s.update("a");
  s.update("bc");
  EXPECT_EQ(s.finish_hex(), sha256_hex("abc"));
}

TEST(HasherTest, FieldsAreDelimited) {
  std::string a = Hasher("t").field("x", "ab").field("y", "c").finish_hex();
  std::string b = Hasher("t").field("x", "a").field("y", "bc").finish_hex();
  EXPECT_NE(a, b);
  EXPECT_NE(Hasher("t1").finish_hex(), Hasher("t2").finish_hex());
}

// Pins the tagged encoding (K4): changing it changes every cache key.
TEST(HasherTest, TaggedEncodingKnownAnswer) {
  std::string manual;
  auto put = [&](std::string_view s) {
    uint64_t n = s.size();
    for (int i = 0; i < 8; ++i) {
      manual.push_back(static_cast<char>(n >> (8 * i)));
    }
    manual.append(s);
  };
  put("kiln.scheme");
  put("v1");
  put("k");
  put("v");
  EXPECT_EQ(Hasher("v1").field("k", "v").finish_hex(), sha256_hex(manual));
}

}  // namespace
}  // namespace kiln
