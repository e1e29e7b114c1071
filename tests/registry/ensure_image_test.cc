// kiln::ensure_image (frontend/api/registry_api.h), what `FROM` uses: the
// pull policies, short names through unqualified-search-registries, and the
// store-first lookup.
#include <gtest/gtest.h>

#include <cstdlib>

#include "frontend/api/registry_api.h"
#include "frontend/api/store_api.h"
#include "tests/registry/registry_fixture.h"

namespace kiln::test {
namespace {

class EnsureImageTest : public PlainRegistryTest {
 protected:
  void SetUp() override {
    PlainRegistryTest::SetUp();
    if (stopped()) {
      return;
    }
    std::string src = store_with_busybox("src");
    auto push = kiln({"--root", src, "push", "--tls-verify=false", "busybox", server->host() + "/library/tiny:1"});
    ASSERT_EQ(push.exit_status, 0) << push.stderr_data;
    ASSERT_TRUE(write_file(registries_conf, cat("unqualified-search-registries = [\"", server->host(), "\"]\n",
                                                "[[registry]]\nlocation = \"", server->host(), "\"\ninsecure = true\n")));
    options.registries_conf = registries_conf;
    options.auth_file = auth_file;
    options.retry_delay_ms = 10;
    auto st = ImageStore::open(path_join(tmp(), "build-store"));
    ASSERT_TRUE(st) << st.error().render();
    store.emplace(std::move(*st));
  }

  RegistryOptions options;
  std::optional<ImageStore> store;
};

TEST_F(EnsureImageTest, PolicyNeverNeedsTheStore) {
  auto r = ensure_image(*store, server->host() + "/library/tiny:1", PullPolicy::never, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
  EXPECT_NE(r.error().render().find("pull policy is `never`"), std::string::npos) << r.error().render();
}

TEST_F(EnsureImageTest, MissingPullsOnceThenUsesTheStore) {
  std::string ref = server->host() + "/library/tiny:1";
  auto first = ensure_image(*store, ref, PullPolicy::missing, options);
  ASSERT_TRUE(first) << first.error().render();
  EXPECT_TRUE(first->pulled);
  EXPECT_EQ(first->name, ref);
  EXPECT_TRUE(first->id.starts_with("sha256:"));
  auto second = ensure_image(*store, "docker://" + ref, PullPolicy::missing, options);
  ASSERT_TRUE(second) << second.error().render();
  EXPECT_FALSE(second->pulled);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->digest, first->digest);
  auto always = ensure_image(*store, ref, PullPolicy::always, options);
  ASSERT_TRUE(always) << always.error().render();
  EXPECT_TRUE(always->pulled);
  EXPECT_EQ(always->digest, first->digest);
}

TEST_F(EnsureImageTest, ShortNameUsesTheSearchRegistries) {
  auto r = ensure_image(*store, "library/tiny:1", PullPolicy::missing, options);
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_TRUE(r->pulled);
  EXPECT_EQ(r->name, server->host() + "/library/tiny:1");
  // Found in the store by the same short name next time, offline.
  server.reset();
  auto again = ensure_image(*store, "library/tiny:1", PullPolicy::missing, options);
  ASSERT_TRUE(again) << again.error().render();
  EXPECT_FALSE(again->pulled);
}

TEST_F(EnsureImageTest, LocalNamesAndTransportsNeedNoRegistry) {
  auto imported = ensure_image(*store, "oci:" + busybox_layout(), PullPolicy::missing, options);
  ASSERT_TRUE(imported) << imported.error().render();
  auto by_name = ensure_image(*store, "busybox", PullPolicy::never, options);
  ASSERT_TRUE(by_name) << by_name.error().render();
  EXPECT_EQ(by_name->id, imported->id);
  auto by_id = ensure_image(*store, imported->id.substr(7, 12), PullPolicy::never, options);
  ASSERT_TRUE(by_id) << by_id.error().render();
  EXPECT_EQ(by_id->digest, imported->digest);
}

TEST_F(EnsureImageTest, UnknownImageOnEveryRegistryIsNotFound) {
  auto r = ensure_image(*store, "library/absent:1", PullPolicy::missing, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
}

TEST(PullPolicyTest, Parses) {
  EXPECT_EQ(parse_pull_policy("always"), PullPolicy::always);
  EXPECT_EQ(parse_pull_policy("true"), PullPolicy::always);
  EXPECT_EQ(parse_pull_policy("ifmissing"), PullPolicy::missing);
  EXPECT_EQ(parse_pull_policy("never"), PullPolicy::never);
  EXPECT_FALSE(parse_pull_policy("sometimes"));
}

}  // namespace
}  // namespace kiln::test
