#include "registry/session.h"

#include <gtest/gtest.h>

namespace kiln::registry {
namespace {

TEST(SessionTest, ParsesBearerChallenge) {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull");
}

TEST(SessionTest, ParsesSeveralChallengesAndEscapes) {
  auto c = parse_challenges(R"(Basic realm="a \"quoted\" realm", Bearer realm="r",error="insufficient_scope")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "a \"quoted\" realm");
  EXPECT_EQ(c[1].params["error"], "insufficient_scope");
}

TEST(SessionTest, DescribesRegistryErrors) {
  HttpResponse r;
  r.status = 404;
  r.body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})";
  EXPECT_EQ(describe_response(r), "HTTP 404: MANIFEST_UNKNOWN: manifest unknown");
  r.status = 502;
  r.body = "<html>bad gateway</html>";
  EXPECT_EQ(describe_response(r), "HTTP 502: <html>bad gateway</html>");
}

TEST(SessionTest, Base64RoundTrip) {
  for (std::string s : {"", "a", "ab", "abc", "user:p@ss:word"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)).value(), s);
  }
  EXPECT_EQ(base64_encode("bob:pw"), "Ym9iOnB3");
}

}  // namespace
}  // namespace kiln::registry
