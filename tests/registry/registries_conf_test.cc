#include "registry/registries_conf.h"

#include <gtest/gtest.h>

namespace kiln::registry {
namespace {

RegistriesConfig parse_ok(std::string_view text) {
  auto c = RegistriesConfig::parse(text, "test.conf");
  EXPECT_TRUE(c) << (c ? "" : c.error().render());
  return c ? std::move(*c) : RegistriesConfig{};
}

std::vector<std::string> names(const Result<std::vector<oci::Reference>>& refs) {
  std::vector<std::string> out;
  for (const auto& r : *refs) {
    out.push_back(r.str());
  }
  return out;
}

TEST(RegistriesConfTest, ShortNameDefaultsToDockerHub) {
  RegistriesConfig c;
  auto q = c.qualify("busybox");
  ASSERT_TRUE(q);
  EXPECT_EQ(names(q), std::vector<std::string>{"docker.io/library/busybox:latest"});
}

TEST(RegistriesConfTest, SearchRegistriesInOrder) {
  auto c = parse_ok(R"(unqualified-search-registries = ["quay.io", "docker.io"])");
  auto q = c.qualify("busybox:1.36");
  ASSERT_TRUE(q);
  EXPECT_EQ(names(q), (std::vector<std::string>{"quay.io/busybox:1.36", "docker.io/library/busybox:1.36"}));
  // A name with a registry is left alone.
  EXPECT_EQ(names(c.qualify("reg:5000/a/b")), std::vector<std::string>{"reg:5000/a/b:latest"});
}

TEST(RegistriesConfTest, AliasesWin) {
  auto c = parse_ok("unqualified-search-registries = [\"docker.io\"]\n[aliases]\n\"fedora\" = \"registry.fedoraproject.org/fedora\"\n");
  EXPECT_EQ(names(c.qualify("fedora:39")), std::vector<std::string>{"registry.fedoraproject.org/fedora:39"});
}

TEST(RegistriesConfTest, PrefixRewriteAndMirrors) {
  auto c = parse_ok(R"(
[[registry]]
prefix = "example.com/foo"
location = "internal.example.com/bar"
[[registry.mirror]]
location = "mirror-a.example.com/m"
[[registry.mirror]]
location = "mirror-b.example.com"
pull-from-mirror = "digest-only"
insecure = true
)");
  auto ref = oci::parse_reference("example.com/foo/app:1");
  ASSERT_TRUE(ref);
  auto s = c.pull_sources(*ref);
  ASSERT_TRUE(s) << s.error().render();
  ASSERT_EQ(s->size(), 2u);  // the digest-only mirror is skipped for a tag
  EXPECT_EQ((*s)[0].reference.str(), "mirror-a.example.com/m/app:1");
  EXPECT_TRUE((*s)[0].mirror);
  EXPECT_EQ((*s)[1].reference.str(), "internal.example.com/bar/app:1");
  EXPECT_FALSE((*s)[1].mirror);

  auto by_digest = oci::parse_reference("example.com/foo/app@sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(by_digest);
  s = c.pull_sources(*by_digest);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[1].reference.str(), "mirror-b.example.com/app@sha256:" + std::string(64, 'a'));
  EXPECT_TRUE((*s)[1].insecure);
  // The prefix matches whole path components only.
  auto other = oci::parse_reference("example.com/foobar/app:1");
  EXPECT_EQ(c.pull_sources(*other)->front().reference.str(), "example.com/foobar/app:1");
}

TEST(RegistriesConfTest, BlockedAndInsecure) {
  auto c = parse_ok(R"(
[[registry]]
location = "bad.example.com"
blocked = true
[[registry]]
location = "127.0.0.1:5000"
insecure = true
[[registry]]
prefix = "*.corp.example"
insecure = true
)");
  auto s = c.pull_sources(*oci::parse_reference("bad.example.com/x:1"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().render().find("blocked"), std::string::npos);
  EXPECT_TRUE(c.insecure("127.0.0.1:5000"));
  EXPECT_TRUE(c.insecure("reg.corp.example"));
  EXPECT_FALSE(c.insecure("docker.io"));
}

TEST(RegistriesConfTest, DropInReplacesSamePrefixAndSearchList) {
  auto c = parse_ok("unqualified-search-registries = [\"a.io\"]\n[[registry]]\nlocation = \"r.io\"\ninsecure = true\n");
  c.merge(parse_ok("[[registry]]\nlocation = \"r.io\"\ninsecure = false\n"));
  EXPECT_FALSE(c.insecure("r.io"));
  EXPECT_EQ(c.unqualified_search(), std::vector<std::string>{"a.io"});
  c.merge(parse_ok("unqualified-search-registries = [\"b.io\"]\n"));
  EXPECT_EQ(c.unqualified_search(), std::vector<std::string>{"b.io"});
}

TEST(RegistriesConfTest, SyntaxErrorNamesTheFile) {
  auto c = RegistriesConfig::parse("[[registry]\nlocation=", "/etc/x.conf");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().render().find("`/etc/x.conf`"), std::string::npos) << c.error().render();
}

}  // namespace
}  // namespace kiln::registry
