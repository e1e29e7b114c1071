#include "oci/manifest.h"

#include <gtest/gtest.h>

#include "oci/index.h"
#include "oci/media_types.h"

namespace kiln::oci {
namespace {

const char* k_manifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
             "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": 0,
             "x-extra": 1},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "size": 3,
              "annotations": {"a": "b"}}],
  "annotations": {"k": "v"},
  "unknownTopLevel": {"keep": [1, 2]}
})";

TEST(ManifestTest, RoundTripKeepsUnknownFields) {
  auto m = parse_manifest(k_manifest);
  ASSERT_TRUE(m) << m.error().render();
  EXPECT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].annotation("a"), "b");
  EXPECT_EQ(m->config.size, 0);
  Json out = manifest_to_json(*m);
  EXPECT_EQ(out, Json::parse(k_manifest));
  auto again = parse_manifest(serialize_manifest(*m));
  ASSERT_TRUE(again);
  EXPECT_EQ(serialize_manifest(*again), serialize_manifest(*m));
}

TEST(ManifestTest, RejectsBadDigestAndSchema) {
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":1})"));
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"config":{"digest":"sha256:1","size":1}})"));
  EXPECT_FALSE(parse_manifest("not json"));
}

TEST(IndexTest, RoundTripWithPlatforms) {
  const char* text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
    "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":7,
      "platform":{"architecture":"arm","os":"linux","variant":"v7"}}],"extra":true})";
  auto idx = parse_index(text);
  ASSERT_TRUE(idx) << idx.error().render();
  ASSERT_TRUE(idx->manifests[0].platform);
  EXPECT_EQ(idx->manifests[0].platform->str(), "linux/arm/v7");
  EXPECT_EQ(index_to_json(*idx), Json::parse(text));
}

}  // namespace
}  // namespace kiln::oci
