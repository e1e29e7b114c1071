// RUN --mount in the solver core (issue 11): what enters an exec's cache key
// (a bind mount's context files, through mount_content_digest) and what does
// not (cache ids, secret ids' values, tmpfs sizes), and the definition checks
// that refuse `..` in cache ids and sources before anything runs.
#include <gtest/gtest.h>

#include "solver/cache_key.h"
#include "solver/solve.h"

namespace kiln::solver {
namespace {

class MountRunner : public OpRunner {
 public:
  Result<std::string> content_digest(const Definition&, int, std::vector<std::string>*) override { return std::string(); }
  Result<std::string> mount_content_digest(const Definition&, int op, int input) override {
    asked.emplace_back(op, input);
    return context;
  }
  Result<OpResult> run(const Definition&, int, const std::vector<const OpResult*>&, const CancelToken&) override {
    return OpResult{};
  }
  bool result_available(const OpResult&) override { return true; }
  std::string context = "sha256:aaaa";
  std::vector<std::pair<int, int>> asked;
};

// 0 scratch; 1 context; 2 RUN with the given mounts (mounts with from_input 1 read the context).
Definition run_with(std::vector<MountSpec> mounts) {
  Definition d;
  d.ops.push_back({ScratchSource{}, {}, {}});
  d.ops.push_back({ContextSource{"context", {}}, {}, {}});
  Exec e;
  e.args = {"/bin/sh", "-c", "make"};
  e.cwd = "/";
  std::vector<int> inputs = {0};
  for (auto& m : mounts) {
    if (m.from_input == 1) {
      m.from_input = static_cast<int>(inputs.size());
      inputs.push_back(1);
    }
    e.mounts.push_back(m);
  }
  d.ops.push_back({e, inputs, {}});
  return d;
}

MountSpec bind(const std::string& source) {
  MountSpec m;
  m.type = "bind";
  m.target = "/src";
  m.source = source;
  m.from_input = 1;
  m.readonly = true;
  return m;
}

MountSpec cache(const std::string& id, const std::string& source = "") {
  MountSpec m;
  m.type = "cache";
  m.target = "/c";
  m.id = id;
  m.source = source;
  m.sharing = "shared";
  return m;
}

std::string key_of(const Definition& d, MountRunner& runner) {
  auto keys = compute_keys(d, {2}, runner);
  EXPECT_TRUE(keys) << keys.error().render();
  return keys ? (*keys)[2].key() : "";
}

TEST(RunMountKeysTest, BindMountContextFilesEnterTheKey) {
  Definition d = run_with({bind("src")});
  MountRunner a;
  std::string k1 = key_of(d, a);
  ASSERT_EQ(a.asked.size(), 1u);
  EXPECT_EQ(a.asked[0], std::make_pair(2, 1));
  MountRunner b;
  b.context = "sha256:bbbb";
  EXPECT_NE(key_of(d, b), k1) << "a changed context file must miss the cache";
}

TEST(RunMountKeysTest, CacheIdsTmpfsSizesAndSecretSourcesStayOut) {
  MountRunner r;
  MountSpec tmpfs;
  tmpfs.type = "tmpfs";
  tmpfs.target = "/t";
  MountSpec secret;
  secret.type = "secret";
  secret.target = "/run/secrets/x";
  secret.id = "x";
  std::string base = key_of(run_with({cache("one"), tmpfs, secret}), r);
  tmpfs.size = 1 << 20;
  EXPECT_EQ(key_of(run_with({cache("two"), tmpfs, secret}), r), base);
  EXPECT_EQ(key_of(run_with({cache("two", "sub"), tmpfs, secret}), r), base) << "a cache's layout is not content";
  EXPECT_TRUE(r.asked.empty()) << "only bind mounts of a context are hashed";
}

TEST(RunMountKeysTest, DotDotInCacheIdsAndSourcesIsRefused) {
  for (const auto& m : {cache("../../../../root"), cache("a/../../b"), cache("ok", "../x"), bind("../.."),
                        bind("a/../../etc")}) {
    auto v = validate_definition(run_with({m}));
    ASSERT_FALSE(v) << m.id << " " << m.source;
    EXPECT_NE(v.error().message().find("must not contain `..`"), std::string::npos) << v.error().render();
  }
  EXPECT_TRUE(validate_definition(run_with({cache("..dots-are-fine..", "a..b"), bind("x/..y")})));
}

TEST(RunMountKeysTest, UnknownTypesAndSharingAreRefused) {
  MountSpec odd;
  odd.type = "volume";
  odd.target = "/v";
  EXPECT_FALSE(validate_definition(run_with({odd})));
  MountSpec c = cache("id");
  c.sharing = "rshared";
  EXPECT_FALSE(validate_definition(run_with({c})));
}

TEST(RunMountKeysTest, InPlaceBindsKeyApartAndWrittenThroughOnesByTheirToken) {
  MountRunner r;
  std::string plain = key_of(run_with({bind("")}), r);
  MountSpec ro = bind("");
  ro.in_place = true;
  std::string in_place_ro = key_of(run_with({ro}), r);
  EXPECT_NE(in_place_ro, plain) << "bound as it is (host owners) is not what a bud bind shows";
  MountSpec rw = ro;
  rw.readonly = false;
  rw.id = "token-1";
  std::string k1 = key_of(run_with({rw}), r);
  rw.id = "token-2";
  EXPECT_NE(key_of(run_with({rw}), r), k1) << "a written-through step is never a hit for another";
}

TEST(RunMountKeysTest, InPlaceRoundTripsAndNeedsABindAndATokenWhenWritable) {
  MountSpec rw = bind("");
  rw.in_place = true;
  rw.readonly = false;
  rw.id = "token";
  Definition d = run_with({rw});
  auto back = parse_definition(serialize_definition(d));
  ASSERT_TRUE(back) << back.error().render();
  EXPECT_TRUE(std::get<Exec>(back->ops[2].attrs).mounts[0].in_place);
  EXPECT_TRUE(validate_definition(d));
  rw.id.clear();
  EXPECT_FALSE(validate_definition(run_with({rw})));
  MountSpec c = cache("id");
  c.in_place = true;
  EXPECT_FALSE(validate_definition(run_with({c})));
}

}  // namespace
}  // namespace kiln::solver
