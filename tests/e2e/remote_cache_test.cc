// The shared build cache end to end (issue 12): two fresh stores ("runners")
// A and B and the real docker-registry on loopback, with a fault-injecting
// proxy in front of it that also records every request B makes.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include <fcntl.h>
#include <sys/stat.h>

#include "cache/cache_artifact.h"
#include "cache/store.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"
#include "tests/support/fault_proxy.h"

namespace kiln::test {
namespace {

constexpr const char* k_dockerfile = R"(FROM busybox AS builder
RUN echo built > /artifact && sleep 0
FROM busybox
COPY a.txt /a.txt
RUN cat /a.txt > /copy
COPY --from=builder /artifact /artifact
COPY b.txt /b.txt
RUN cat /b.txt > /two
ENV DONE=1
)";

class RemoteCacheTest : public PlainRegistryTest {
 protected:
  void SetUp() override {
    PlainRegistryTest::SetUp();
    if (stopped()) {
      return;
    }
    proxy = std::make_unique<FaultProxy>(server->port());
    ctx = path_join(tmp(), "ctx");
    ASSERT_TRUE(make_dirs(ctx));
    ASSERT_TRUE(write_file(path_join(ctx, "Dockerfile"), k_dockerfile));
    ASSERT_TRUE(write_file(path_join(ctx, "a.txt"), "alpha\n"));
    ASSERT_TRUE(write_file(path_join(ctx, "b.txt"), "bravo\n"));
    // kiln works inside its user namespace as an unprivileged host id: let
    // it through the test's private temp dir.
    ASSERT_EQ(::chmod(tmp().c_str(), 0755), 0);
  }

  std::string cache_ref(const std::string& tag = "main") const { return proxy->host() + "/team/cache:" + tag; }

  ProgramResult bud(const std::string& store, const std::vector<std::string>& extra, const std::string& context = "") {
    std::vector<std::string> args{"--root", store, "bud", "--tls-verify=false", "--retry-delay", "10ms", "-t", "app:1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(context.empty() ? ctx : context);
    return kiln(args);
  }

  /// The same context written again elsewhere (another path, other mtimes),
  /// as a second runner's checkout would be.
  std::string copy_of_context(const std::string& name) {
    std::string dir = path_join(tmp(), name);
    EXPECT_TRUE(make_dirs(dir));
    for (const char* f : {"Dockerfile", "a.txt", "b.txt"}) {
      auto text = read_file(path_join(ctx, f));
      EXPECT_TRUE(text);
      EXPECT_TRUE(write_file(path_join(dir, f), text ? *text : ""));
      struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
      EXPECT_EQ(::utimensat(AT_FDCWD, path_join(dir, f).c_str(), times, 0), 0);
    }
    return dir;
  }

  /// Blob GETs the proxy saw since `from` (an index into requests()).
  std::vector<std::string> blob_gets(size_t from) const {
    auto all = proxy->requests();
    std::vector<std::string> out;
    for (size_t i = from; i < all.size(); ++i) {
      if (all[i].starts_with("GET ") && all[i].find("/blobs/sha256:") != std::string::npos) {
        out.push_back(all[i]);
      }
    }
    return out;
  }

  /// Layer digests of a stored image (`kiln inspect`).
  std::vector<std::string> layers_of(const std::string& store, const std::string& name) {
    auto r = kiln({"--root", store, "inspect", name});
    EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
    auto j = oci::parse_json(r.stdout_data, "inspect");
    std::vector<std::string> out;
    if (j) {
      for (const auto& l : (*j)["manifest"]["layers"]) {
        out.push_back(l["digest"].get<std::string>());
      }
    }
    return out;
  }

  /// "(N steps run, M cached)" from the plain progress output.
  static std::pair<int, int> steps(const ProgramResult& r) {
    std::smatch m;
    static const std::regex re(R"(\((\d+) steps run, (\d+) cached\))");
    if (!std::regex_search(r.stderr_data, m, re)) {
      return {-1, -1};
    }
    return {std::stoi(m[1]), std::stoi(m[2])};
  }

  /// Store A builds and exports (mode=max); returns the image id.
  std::string build_and_export_on_a(const std::string& mode = "max") {
    std::string a = store_with_busybox("a");
    auto r = bud(a, {"--cache-to", "type=registry,ref=" + cache_ref() + ",mode=" + mode});
    EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
    EXPECT_EQ(r.stderr_data.find("could not export"), std::string::npos) << r.stderr_data;
    return out_of(r);
  }

  std::unique_ptr<FaultProxy> proxy;
  std::string ctx;
};

TEST_F(RemoteCacheTest, FreshStoreHitsEveryStepAndDownloadsOnlyTheFinalImagesLayers) {
  if (stopped()) {
    return;
  }
  std::string id_a = build_and_export_on_a();
  ASSERT_FALSE(id_a.empty());
  std::string b = store_with_busybox("b");
  std::string ctx_b = copy_of_context("ctx-b");  // keys hold no context paths or mtimes
  size_t mark = proxy->requests().size();
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref(), "--log-level", "info"}, ctx_b);
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(out_of(r), id_a) << r.stderr_data;
  EXPECT_EQ(steps(r), std::make_pair(0, 6)) << r.stderr_data;

  // Downloaded: the mapping plus the layers the final image adds to busybox;
  // the builder stage's layer (in the mode=max cache) never.
  std::vector<std::string> image_layers = layers_of(b, "app:1");
  ASSERT_EQ(image_layers.size(), 6u);  // busybox + COPY, RUN, COPY --from, COPY, RUN
  auto gets = blob_gets(mark);
  EXPECT_EQ(gets.size(), 1u + 5u) << join(gets, "\n");
  for (size_t i = 1; i < image_layers.size(); ++i) {
    EXPECT_TRUE(std::any_of(gets.begin(), gets.end(), [&](const std::string& g) {
      return g.find(image_layers[i]) != std::string::npos;
    })) << image_layers[i];
  }
  EXPECT_EQ(kiln({"--root", b, "fsck"}).exit_status, 0);

  // The hits are now B's own: a rebuild without --cache-from is fully cached.
  auto again = bud(b, {}, ctx_b);
  ASSERT_EQ(again.exit_status, 0) << again.stderr_data;
  EXPECT_EQ(out_of(again), id_a);
  EXPECT_EQ(steps(again), std::make_pair(0, 6)) << again.stderr_data;
}

TEST_F(RemoteCacheTest, OneFileChangeRerunsOnlyTheStepsAfterIt) {
  if (stopped()) {
    return;
  }
  build_and_export_on_a();
  std::string b = store_with_busybox("b");
  ASSERT_TRUE(write_file(path_join(ctx, "b.txt"), "changed\n"));
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref()});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(steps(r), std::make_pair(2, 4)) << r.stderr_data;  // COPY b.txt and the RUN after it
}

TEST_F(RemoteCacheTest, MinModeExportsOnlyTheFinalImagesChain) {
  if (stopped()) {
    return;
  }
  build_and_export_on_a("min");
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", cache_ref()});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(steps(r), std::make_pair(1, 5)) << r.stderr_data;  // the builder stage's RUN runs
}

TEST_F(RemoteCacheTest, SecondExportUploadsNothingNew) {
  if (stopped()) {
    return;
  }
  build_and_export_on_a();
  std::string a = path_join(tmp(), "a");
  size_t mark = proxy->requests().size();
  auto r = bud(a, {"--cache-to", "type=registry,ref=" + cache_ref("second") + ",mode=max", "--log-level", "info"});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("0 blob(s) uploaded"), std::string::npos) << r.stderr_data;
  auto all = proxy->requests();
  for (size_t i = mark; i < all.size(); ++i) {
    EXPECT_FALSE(all[i].starts_with("PUT ") && all[i].find("/blobs/uploads/") != std::string::npos) << all[i];
  }
}

TEST_F(RemoteCacheTest, LocalLayoutCacheRoundTrips) {
  if (stopped()) {
    return;
  }
  std::string volume = path_join(tmp(), "shared-volume");
  ASSERT_TRUE(make_dirs(volume));
  ASSERT_EQ(::chmod(volume.c_str(), 0777), 0);  // writable from inside kiln's namespace
  std::string dir = path_join(volume, "cache");
  std::string a = store_with_busybox("a");
  auto ra = bud(a, {"--cache-to", "type=local,dest=" + dir + ",mode=max"});
  ASSERT_EQ(ra.exit_status, 0) << ra.stderr_data;
  EXPECT_TRUE(path_exists(path_join(dir, "index.json")));
  std::string b = store_with_busybox("b");
  auto rb = bud(b, {"--cache-from", "type=local,src=" + dir});
  ASSERT_EQ(rb.exit_status, 0) << rb.stderr_data;
  EXPECT_EQ(out_of(rb), out_of(ra));
  EXPECT_EQ(steps(rb), std::make_pair(0, 6)) << rb.stderr_data;
}

TEST_F(RemoteCacheTest, MissingCacheRefIsAWarning) {
  if (stopped()) {
    return;
  }
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref("absent")});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("does not exist (yet); building without it"), std::string::npos) << r.stderr_data;
  EXPECT_EQ(steps(r).second, 0);
}

TEST_F(RemoteCacheTest, UnreachableCacheRegistryIsAWarning) {
  if (stopped()) {
    return;
  }
  std::string b = store_with_busybox("b");
  proxy->add({Fault::Kind::status, "", "/v2/", 503, -1});
  auto r = bud(b, {"--retry", "0", "--cache-from", "type=registry,ref=" + cache_ref()});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("not using build cache"), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheTest, TruncatedMappingIsAWarning) {
  if (stopped()) {
    return;
  }
  // An artifact whose mapping blob is a truncated JSON document (its digest
  // matches the truncated bytes), pushed with kiln's own registry client.
  auto store = cache::Store::open({path_join(tmp(), "crafted"), std::nullopt});
  ASSERT_TRUE(store);
  std::string truncated = R"({"version":1,"keyScheme":"kiln-cache-v1","records":[{"key":"ab)";
  cache::CacheMapping empty;
  empty.key_scheme = "kiln-cache-v1";
  auto artifact = cache::make_cache_artifact(*store, empty, {});
  ASSERT_TRUE(artifact);
  auto bad = store->put_blob(truncated);
  ASSERT_TRUE(bad);
  artifact->image.manifest.config =
      oci::make_descriptor(cache::k_cache_config_type, *bad, static_cast<int64_t>(truncated.size()));
  artifact->image.manifest_bytes = oci::serialize_manifest(artifact->image.manifest);
  registry::RegistryOptions ro;
  ro.tls_verify = false;
  ro.registries_conf = registries_conf;
  auto ref = oci::parse_reference(server->host() + "/team/cache:truncated");
  ASSERT_TRUE(ref);
  auto pushed = registry::push_image(*store, artifact->image, *ref, ro);
  ASSERT_TRUE(pushed) << pushed.error().render();

  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref("truncated")});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("not using build cache"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("its mapping"), std::string::npos) << r.stderr_data;
}

TEST_F(RemoteCacheTest, WrongBlobIsRejectedAndItsStepRuns) {
  if (stopped()) {
    return;
  }
  std::string id_a = build_and_export_on_a();
  std::vector<std::string> layers_a = layers_of(path_join(tmp(), "a"), "app:1");
  ASSERT_EQ(layers_a.size(), 6u);
  // The registry serves the RUN step's layer with one byte flipped.
  proxy->add({Fault::Kind::corrupt_body, "GET", "/blobs/" + layers_a[2], 10, -1});
  std::string b = store_with_busybox("b");
  auto r = bud(b, {"--cache-from", "type=registry,ref=" + cache_ref()});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_GE(proxy->fired(), 1);
  EXPECT_NE(r.stderr_data.find("does not match its digest"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("the steps that need it run instead"), std::string::npos) << r.stderr_data;
  EXPECT_EQ(kiln({"--root", b, "fsck"}).exit_status, 0);
  auto layers_b = layers_of(b, "app:1");
  ASSERT_EQ(layers_b.size(), 6u);
  EXPECT_EQ(steps(r), std::make_pair(1, 5)) << r.stderr_data;  // only the RUN whose layer was bad
  EXPECT_EQ(layers_b[1], layers_a[1]);  // COPY a.txt still came from the cache
  EXPECT_EQ(layers_b[5], layers_a[5]);
}

TEST_F(RemoteCacheTest, StoreCacheLimitEvictsAfterTheBuild) {
  if (stopped()) {
    return;
  }
  std::string a = store_with_busybox("a");
  ASSERT_TRUE(write_file(path_join(a, "kiln/config.json"), R"({"max_cache_bytes": 1})"));
  auto r = bud(a, {"--log-level", "info"});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("build-cache limit"), std::string::npos) << r.stderr_data;
  EXPECT_EQ(kiln({"--root", a, "fsck"}).exit_status, 0);
  // Every record went (LRU until 1 byte): the rebuild runs every step.
  auto again = bud(a, {});
  ASSERT_EQ(again.exit_status, 0) << again.stderr_data;
  EXPECT_EQ(steps(again), std::make_pair(6, 0)) << again.stderr_data;
}

}  // namespace
}  // namespace kiln::test
