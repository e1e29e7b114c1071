#include "cache/cache_artifact.h"

#include <gtest/gtest.h>

#include "oci/media_types.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/temp_dir.h"

namespace kiln::cache {
namespace {

constexpr std::string_view k_scheme = "kiln-cache-v1";

CacheMapping sample_mapping(const oci::Digest& blob) {
  CacheMapping m;
  m.key_scheme = std::string(k_scheme);
  m.mode = "max";
  CacheRecord r;
  r.key = sha256_hex("step");
  r.result = {{"layer", {{"digest", blob.str()}}}, {"created", "2024-01-02T03:04:05Z"}};
  r.blobs = {blob};
  r.layers = {oci::Digest::sha256_of("diff")};
  r.created = 11;
  r.last_used = 12;
  r.size = 5;
  m.records.push_back(r);
  CacheMountEntry e;
  e.key = sha256_hex("mount");
  e.id = "/root/.cache";
  e.meta = {{"id", "/root/.cache"}};
  e.digest = oci::Digest::sha256_of("mount-tar");
  m.mounts.push_back(e);
  return m;
}

class CacheArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    auto s = Store::open({path_join(m_tmp->path(), "a"), std::nullopt});
    ASSERT_TRUE(s) << s.error().render();
    m_store = std::make_unique<Store>(std::move(*s));
  }
  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<Store> m_store;
};

TEST_F(CacheArtifactTest, MappingRoundTrips) {
  CacheMapping m = sample_mapping(oci::Digest::sha256_of("layer"));
  std::string bytes = serialize_cache_mapping(m);
  auto back = parse_cache_mapping(bytes, k_scheme, "mapping");
  ASSERT_TRUE(back) << back.error().render();
  EXPECT_EQ(back->mode, "max");
  ASSERT_EQ(back->records.size(), 1u);
  EXPECT_EQ(back->records[0].key, m.records[0].key);
  EXPECT_EQ(back->records[0].result, m.records[0].result);
  EXPECT_EQ(back->records[0].created, 11);
  ASSERT_EQ(back->mounts.size(), 1u);
  EXPECT_EQ(back->mounts[0].id, "/root/.cache");
  EXPECT_EQ(back->mounts[0].digest, m.mounts[0].digest);
  EXPECT_EQ(serialize_cache_mapping(*back), bytes);
}

TEST_F(CacheArtifactTest, TruncatedMappingIsAParseError) {
  std::string bytes = serialize_cache_mapping(sample_mapping(oci::Digest::sha256_of("layer")));
  auto r = parse_cache_mapping(bytes.substr(0, bytes.size() / 2), k_scheme, "its mapping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::parse);
  EXPECT_NE(r.error().render().find("its mapping"), std::string::npos);
}

TEST_F(CacheArtifactTest, OtherKeySchemeOrVersionIsRefused) {
  CacheMapping m = sample_mapping(oci::Digest::sha256_of("layer"));
  m.key_scheme = "kiln-cache-v0";
  auto r = parse_cache_mapping(serialize_cache_mapping(m), k_scheme, "mapping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::unsupported);
  EXPECT_NE(r.error().message().find("kiln-cache-v0"), std::string::npos);
  auto j = *oci::parse_json(serialize_cache_mapping(sample_mapping(oci::Digest::sha256_of("l"))), "m");
  j["version"] = 2;
  auto v = parse_cache_mapping(oci::dump_json(j), k_scheme, "mapping");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::unsupported);
}

TEST_F(CacheArtifactTest, MalformedRecordFailsTheMapping) {
  auto j = *oci::parse_json(serialize_cache_mapping(sample_mapping(oci::Digest::sha256_of("l"))), "m");
  j["records"][0]["key"] = "../../x";
  EXPECT_FALSE(parse_cache_mapping(oci::dump_json(j), k_scheme, "mapping"));
}

TEST_F(CacheArtifactTest, ArtifactIsAnOciManifestWithTheMappingAsConfig) {
  auto layer = m_store->put_blob("layer-bytes");
  ASSERT_TRUE(layer);
  CacheMapping m = sample_mapping(*layer);
  m.mounts.clear();
  auto a = make_cache_artifact(*m_store, m, {oci::make_descriptor(oci::media::k_oci_layer_gzip, *layer, 11)});
  ASSERT_TRUE(a) << a.error().render();
  auto parsed = parse_cache_manifest(a->image.manifest_bytes, "manifest");
  ASSERT_TRUE(parsed) << parsed.error().render();
  EXPECT_EQ(parsed->media_type, oci::media::k_oci_manifest);
  EXPECT_EQ(parsed->artifact_type, k_cache_artifact_type);
  EXPECT_EQ(parsed->config.media_type, k_cache_config_type);
  EXPECT_EQ(*m_store->read_blob(parsed->config.digest), a->mapping_bytes);
  ASSERT_EQ(parsed->layers.size(), 1u);
  EXPECT_EQ(parsed->annotations.at(std::string(k_cache_mode_annotation)), "max");
  EXPECT_TRUE(m_store->has_blob(a->image.record.manifest.digest));
}

TEST_F(CacheArtifactTest, AnImageManifestIsNotACache) {
  oci::Manifest m;
  m.media_type = std::string(oci::media::k_oci_manifest);
  m.config = oci::make_descriptor(oci::media::k_oci_config, oci::Digest::sha256_of("{}"), 2);
  auto r = parse_cache_manifest(oci::serialize_manifest(m), "manifest `x`");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::unsupported);
  EXPECT_NE(r.error().message().find("not a kiln build cache"), std::string::npos);
}

TEST_F(CacheArtifactTest, LayoutRoundTripAndVerifiedBlobCopy) {
  auto layer = m_store->put_blob("layer-bytes");
  ASSERT_TRUE(layer);
  CacheMapping m = sample_mapping(*layer);
  m.mounts.clear();
  auto a = make_cache_artifact(*m_store, m, {oci::make_descriptor(oci::media::k_oci_layer_gzip, *layer, 11)});
  ASSERT_TRUE(a);
  std::string dir = path_join(m_tmp->path(), "layout");
  ASSERT_TRUE(write_cache_layout(*m_store, *a, dir, ""));
  EXPECT_TRUE(path_exists(path_join(dir, "oci-layout")));
  EXPECT_FALSE(read_cache_layout(dir, "other")->has_value());
  EXPECT_FALSE(read_cache_layout(path_join(m_tmp->path(), "absent"), "latest")->has_value());
  auto c = read_cache_layout(dir, "latest");
  ASSERT_TRUE(c && *c) << (c ? "" : c.error().render());
  EXPECT_EQ((*c)->manifest_digest, a->image.record.manifest.digest);
  EXPECT_EQ((*c)->mapping_bytes, a->mapping_bytes);

  auto other = Store::open({path_join(m_tmp->path(), "b"), std::nullopt});
  ASSERT_TRUE(other);
  ASSERT_TRUE(fetch_layout_blob(*other, dir, (*c)->manifest.layers[0]));
  EXPECT_TRUE(other->has_blob(*layer));

  // A blob replaced in the layout is refused and nothing is kept.
  auto third = Store::open({path_join(m_tmp->path(), "c"), std::nullopt});
  ASSERT_TRUE(third);
  ASSERT_TRUE(write_file(path_join(dir, "blobs/sha256/" + layer->hex()), "layer-BYTES"));
  auto bad = fetch_layout_blob(*third, dir, (*c)->manifest.layers[0]);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::cache_corrupt);
  EXPECT_FALSE(third->has_blob(*layer));
}

TEST_F(CacheArtifactTest, CorruptMappingInLayoutIsRefused) {
  CacheMapping m = sample_mapping(oci::Digest::sha256_of("x"));
  m.records.clear();
  m.mounts.clear();
  auto a = make_cache_artifact(*m_store, m, {});
  ASSERT_TRUE(a);
  std::string dir = path_join(m_tmp->path(), "layout");
  ASSERT_TRUE(write_cache_layout(*m_store, *a, dir, "ci"));
  auto cfg = a->image.manifest.config.digest;
  ASSERT_TRUE(write_file(path_join(dir, "blobs/sha256/" + cfg.hex()), a->mapping_bytes.substr(0, 10)));
  auto c = read_cache_layout(dir, "ci");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::cache_corrupt);
}

}  // namespace
}  // namespace kiln::cache
