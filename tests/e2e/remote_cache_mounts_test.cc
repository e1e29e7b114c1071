// RUN --mount=type=cache contents through the shared build cache (issue 12,
// `--cache-to ...,cache-mounts=true`): two fresh stores A and B, the real
// docker-registry on loopback behind a fault-injecting proxy, and OCI layout
// directories for type=local.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "cache/cache_artifact.h"
#include "cache/store.h"
#include "oci/json.h"
#include "tests/registry/registry_fixture.h"
#include "tests/support/fault_proxy.h"

namespace kiln::test {
namespace {

// A fills the cache; B's step is another (so never a cache hit) and prints
// what it finds in the cache.
constexpr const char* k_fill = R"(FROM busybox
RUN --mount=type=cache,target=/var/cache/x,id=dl sh -c 'echo hi > /var/cache/x/f'
)";
constexpr const char* k_fill_big = R"(FROM busybox
RUN --mount=type=cache,target=/var/cache/x,id=dl sh -c 'echo hi > /var/cache/x/f && head -c 3000000 /dev/urandom > /var/cache/x/g'
)";
constexpr const char* k_read = R"(FROM busybox
RUN --mount=type=cache,target=/var/cache/x,id=dl sh -c 'echo "entries=$(ls -A /var/cache/x | wc -l) seen=$(cat /var/cache/x/f 2>/dev/null)."'
)";
constexpr const char* k_local_fill = R"(FROM busybox
RUN --mount=type=cache,target=/var/cache/x,id=dl sh -c 'echo local > /var/cache/x/f'
)";

class RemoteCacheMountsTest : public PlainRegistryTest {
 protected:
  void SetUp() override {
    PlainRegistryTest::SetUp();
    if (stopped()) {
      return;
    }
    proxy = std::make_unique<FaultProxy>(server->port());
    // kiln works inside its user namespace as an unprivileged host id: let
    // it through the test's private temp dir.
    ASSERT_EQ(::chmod(tmp().c_str(), 0755), 0);
    volume = path_join(tmp(), "shared-volume");
    ASSERT_TRUE(make_dirs(volume));
    ASSERT_EQ(::chmod(volume.c_str(), 0777), 0);  // writable from inside kiln's namespace
  }

  std::string context(const std::string& name, const char* dockerfile) {
    std::string dir = path_join(tmp(), name);
    EXPECT_TRUE(make_dirs(dir));
    EXPECT_TRUE(write_file(path_join(dir, "Dockerfile"), dockerfile));
    return dir;
  }

  std::string cache_ref(const std::string& tag = "mounts") const { return proxy->host() + "/team/cache:" + tag; }

  ProgramResult bud(const std::string& store, const std::vector<std::string>& extra, const std::string& ctx) {
    std::vector<std::string> args{"--root",   store,  "bud", "--tls-verify=false", "--retry-delay", "10ms",
                                  "--log-level", "info", "-t",  "app:1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ctx);
    return kiln(args);
  }

  /// Store A builds `dockerfile` and exports to each of `to`.
  void fill_on_a(const std::vector<std::string>& to, const char* dockerfile = k_fill) {
    std::string a = store_with_busybox("a");
    std::vector<std::string> extra;
    for (const auto& t : to) {
      extra.push_back("--cache-to");
      extra.push_back(t);
    }
    auto r = bud(a, extra, context("ctx-a", dockerfile));
    ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
    EXPECT_EQ(r.stderr_data.find("could not export"), std::string::npos) << r.stderr_data;
    EXPECT_NE(r.stderr_data.find("1 cache mount(s)"), std::string::npos) << r.stderr_data;
  }

  /// The cache-mount entries of the local cache in `dir`.
  std::vector<cache::CacheMountEntry> layout_mounts(const std::string& dir) {
    auto c = cache::read_cache_layout(dir, "latest");
    EXPECT_TRUE(c && *c);
    if (!c || !*c) {
      return {};
    }
    auto m = cache::parse_cache_mapping((*c)->mapping_bytes, "", "mapping");
    EXPECT_TRUE(m);
    return m ? m->mounts : std::vector<cache::CacheMountEntry>();
  }

  std::string blob_path(const std::string& dir, const oci::Digest& d) const {
    return path_join(dir, cat("blobs/", d.algorithm(), "/", d.hex()));
  }

  std::unique_ptr<FaultProxy> proxy;
  std::string volume;
};

TEST_F(RemoteCacheMountsTest, RegistryCarriesACacheMountToAFreshStore) {
  if (stopped()) {
    return;
  }
  fill_on_a({"type=registry,ref=" + cache_ref() + ",cache-mounts=true"});
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref()}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=1 seen=hi."), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("restored cache mount `dl`"), std::string::npos) << r.stderr_data;
  // Restored once: now B's own cache, seen again without --cache-from.
  auto again = bud(b, {"--no-cache"}, path_join(tmp(), "ctx-b"));
  ASSERT_EQ(again.exit_status, 0) << again.stderr_data;
  EXPECT_NE(again.stderr_data.find("entries=1 seen=hi."), std::string::npos) << again.stderr_data;
}

TEST_F(RemoteCacheMountsTest, LocalLayoutCarriesACacheMountToAFreshStore) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=local,dest=" + dir + ",cache-mounts=true,compression=gzip"});
  auto mounts = layout_mounts(dir);
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].id, "dl");
  EXPECT_TRUE(path_exists(blob_path(dir, mounts[0].digest)));
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--no-cache", "--cache-from", "type=local,src=" + dir}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=1 seen=hi."), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheMountsTest, WithoutCacheMountsTrueNothingIsExported) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  std::string a = store_with_busybox("a");
  auto ra = bud(a, {"--cache-to", "type=local,dest=" + dir}, context("ctx-a", k_fill));
  ASSERT_EQ(ra.exit_status, 0) << ra.stderr_data;
  EXPECT_TRUE(layout_mounts(dir).empty());
}

TEST_F(RemoteCacheMountsTest, AnExistingLocalCacheWinsOverTheImport) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=local,dest=" + dir + ",cache-mounts=true"});
  std::string b = store_with_busybox("b");
  auto local = bud(b, {}, context("ctx-local", k_local_fill));
  ASSERT_EQ(local.exit_status, 0) << local.stderr_data;
  auto r = bud(b, {"--cache-from", "type=local,src=" + dir}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=1 seen=local."), std::string::npos) << r.stderr_data;
  EXPECT_EQ(r.stderr_data.find("restored cache mount"), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheMountsTest, ImportWithCacheMountsFalseLeavesThemAlone) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=local,dest=" + dir + ",cache-mounts=true"});
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=local,src=" + dir + ",cache-mounts=false"}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=0 seen=."), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheMountsTest, CorruptedBlobInARegistryIsAWarningAndTheCacheStartsEmpty) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=registry,ref=" + cache_ref() + ",cache-mounts=true", "type=local,dest=" + dir + ",cache-mounts=true"});
  auto mounts = layout_mounts(dir);  // the same archive went to both
  ASSERT_EQ(mounts.size(), 1u);
  proxy->add({Fault::Kind::corrupt_body, "GET", "/blobs/" + mounts[0].digest.str(), 5, -1});
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref()}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_GE(proxy->fired(), 1);
  EXPECT_NE(r.stderr_data.find("not restoring cache mount `dl`"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("does not match its digest"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("the cache starts empty"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=0 seen=."), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheMountsTest, CorruptedBlobInALayoutIsAWarningAndTheCacheStartsEmpty) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=local,dest=" + dir + ",cache-mounts=true"});
  auto mounts = layout_mounts(dir);
  ASSERT_EQ(mounts.size(), 1u);
  std::string blob = blob_path(dir, mounts[0].digest);
  auto bytes = read_file(blob);
  ASSERT_TRUE(bytes && bytes->size() > 10);
  (*bytes)[bytes->size() / 2] ^= 0x55;
  ASSERT_TRUE(write_file(blob, *bytes));
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=local,src=" + dir}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("not restoring cache mount `dl`"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("does not match its digest"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("entries=0 seen=."), std::string::npos) << r.stderr_data;
}

// An archive whose digest is right but whose stream breaks off in its second
// file: the first one was already extracted, and must not stay.
TEST_F(RemoteCacheMountsTest, TruncatedArchiveLeavesNothingHalfExtracted) {
  if (stopped()) {
    return;
  }
  std::string dir = path_join(volume, "cache");
  fill_on_a({"type=local,dest=" + dir + ",cache-mounts=true"}, k_fill_big);
  auto c = cache::read_cache_layout(dir, "latest");
  ASSERT_TRUE(c && *c);
  auto mapping = cache::parse_cache_mapping((*c)->mapping_bytes, "", "mapping");
  ASSERT_TRUE(mapping);
  ASSERT_EQ(mapping->mounts.size(), 1u);
  auto bytes = read_file(blob_path(dir, mapping->mounts[0].digest));
  ASSERT_TRUE(bytes && bytes->size() > 1000000);  // random data does not compress
  std::string cut = bytes->substr(0, bytes->size() * 2 / 3);
  // Write the altered artifact next to the good one (tag "cut").
  auto store = cache::Store::open({path_join(tmp(), "crafted"), std::nullopt});
  ASSERT_TRUE(store);
  auto digest = store->put_blob(cut);
  ASSERT_TRUE(digest);
  std::vector<oci::Descriptor> layers;
  for (auto l : (*c)->manifest.layers) {
    if (l.digest == mapping->mounts[0].digest) {
      l = oci::make_descriptor(l.media_type, *digest, static_cast<int64_t>(cut.size()));
    }
    layers.push_back(l);
  }
  mapping->mounts[0].digest = *digest;
  auto artifact = cache::make_cache_artifact(*store, *mapping, layers);
  ASSERT_TRUE(artifact) << artifact.error().render();
  ASSERT_TRUE(cache::write_cache_layout(*store, *artifact, dir, "cut"));

  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=local,src=" + dir + ",tag=cut"}, context("ctx-b", k_read));
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("not restoring cache mount `dl`"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("restore cache directory"), std::string::npos) << r.stderr_data;  // extraction failed
  EXPECT_NE(r.stderr_data.find("entries=0 seen=."), std::string::npos) << r.stderr_data;
}

}  // namespace
}  // namespace kiln::test
