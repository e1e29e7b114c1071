#include "cache/store.h"

#include <gtest/gtest.h>

#include <thread>

#include "oci/media_types.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::cache {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    auto s = Store::open({path_join(m_tmp->path(), "store"), std::nullopt});
    ASSERT_TRUE(s) << s.error().render();
    m_store = std::make_unique<Store>(std::move(*s));
  }

  // A minimal image: config + one layer + manifest, all as blobs.
  oci::Descriptor make_image(const std::string& seed) {
    auto layer = m_store->put_blob("layer-" + seed);
    oci::ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.diff_ids.push_back(*layer);
    c.config.env = {"SEED=" + seed};
    std::string cbytes = oci::serialize_image_config(c);
    auto cd = m_store->put_blob(cbytes);
    oci::Manifest m;
    m.media_type = std::string(oci::media::k_oci_manifest);
    m.config = oci::make_descriptor(std::string(oci::media::k_oci_config), *cd, static_cast<int64_t>(cbytes.size()));
    oci::Descriptor l;
    l.media_type = std::string(oci::media::k_oci_layer);
    l.digest = *layer;
    l.size = 7 + static_cast<int64_t>(seed.size());
    m.layers.push_back(l);
    std::string mbytes = oci::serialize_manifest(m);
    auto md = m_store->put_blob(mbytes);
    return oci::make_descriptor(std::string(oci::media::k_oci_manifest), *md, static_cast<int64_t>(mbytes.size()));
  }

  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<Store> m_store;
};

TEST_F(StoreTest, CreatesAnOciLayout) {
  EXPECT_TRUE(path_exists(path_join(m_store->root(), "oci-layout")));
  EXPECT_TRUE(path_exists(path_join(m_store->root(), "index.json")));
  EXPECT_TRUE(is_directory(path_join(m_store->root(), "blobs/sha256")));
  EXPECT_EQ(*read_file(path_join(m_store->root(), "oci-layout")), R"({"imageLayoutVersion":"1.0.0"})");
}

TEST_F(StoreTest, RefusesNewerFormat) {
  ASSERT_TRUE(write_file(path_join(m_store->root(), "kiln/store.json"), R"({"format":"kiln-store","version":99})"));
  auto s = Store::open({m_store->root(), std::nullopt});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(s.error().render().find("version 99"), std::string::npos);
}

TEST_F(StoreTest, BlobWriterVerifiesExpectedDigest) {
  auto w = m_store->begin_blob();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("hello"));
  auto r = w->commit(oci::Digest::sha256_of("other"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::cache_corrupt);
  EXPECT_FALSE(m_store->has_blob(oci::Digest::sha256_of("hello")));
  EXPECT_TRUE(list_dir(m_store->tmp_dir())->empty());
}

TEST_F(StoreTest, ReadBlobDetectsCorruption) {
  auto d = m_store->put_blob("precious bytes");
  ASSERT_TRUE(d);
  EXPECT_EQ(*m_store->read_blob(*d), "precious bytes");
  ASSERT_TRUE(write_file(m_store->blob_path(*d), "precious bytez"));
  auto r = m_store->read_blob(*d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(r.error().render().find(d->str()), std::string::npos);
  EXPECT_FALSE(m_store->verify_blob(*d));
}

TEST_F(StoreTest, NamesMoveBetweenImagesAndOldImageStaysUnnamed) {
  auto a = make_image("a");
  auto b = make_image("b");
  ASSERT_TRUE(m_store->add_image(a, {"localhost/app:1"}));
  ASSERT_TRUE(m_store->add_image(b, {"localhost/app:1"}));
  auto images = m_store->list_images();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 2u);
  auto found = m_store->find_image("app:1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->manifest.digest, b.digest);
  for (const auto& r : *images) {
    if (r.manifest.digest == a.digest) {
      EXPECT_TRUE(r.names.empty());
    }
  }
}

TEST_F(StoreTest, FindsByIdPrefixAndShortName) {
  auto a = make_image("a");
  ASSERT_TRUE(m_store->add_image(a, {"docker.io/library/busybox:latest"}));
  auto img = m_store->load_image(a.digest);
  ASSERT_TRUE(img) << img.error().render();
  std::string id = img->manifest.config.digest.str();
  for (const std::string& q : {std::string("busybox"), std::string("busybox:latest"), id, id.substr(7),
                               id.substr(7, 12), std::string("docker.io/library/busybox")}) {
    auto r = m_store->find_image(q);
    ASSERT_TRUE(r) << q << ": " << r.error().render();
    ASSERT_TRUE(r->has_value()) << q;
    EXPECT_EQ((*r)->manifest.digest, a.digest) << q;
  }
  auto miss = m_store->find_image(id.substr(7, 11));  // 11 digits is a name, not an id
  ASSERT_TRUE(miss);
  EXPECT_FALSE(miss->has_value());
  auto bad = m_store->find_image("Bad:Name");
  EXPECT_FALSE(bad);
}

TEST_F(StoreTest, LocalhostWinsForShortNames) {
  auto a = make_image("a");
  auto b = make_image("b");
  ASSERT_TRUE(m_store->add_image(a, {"docker.io/library/app:latest"}));
  ASSERT_TRUE(m_store->add_image(b, {"localhost/app:latest"}));
  EXPECT_EQ((*m_store->find_image("app"))->manifest.digest, b.digest);
}

TEST_F(StoreTest, AddImageRequiresBlobs) {
  oci::Descriptor d = oci::make_descriptor(std::string(oci::media::k_oci_manifest), oci::Digest::sha256_of("nope"), 4);
  auto r = m_store->add_image(d, {"localhost/x:1"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
}

TEST_F(StoreTest, ConcurrentTagsAllLand) {
  auto a = make_image("a");
  ASSERT_TRUE(m_store->add_image(a, {}));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto s = Store::open({m_store->root(), std::nullopt});
      ASSERT_TRUE(s);
      ASSERT_TRUE(s->tag_image(a.digest, {"localhost/t:" + std::to_string(i)}));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto images = m_store->list_images();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].names.size(), 8u);
}

TEST_F(StoreTest, UntagLastNameRemovesImage) {
  auto a = make_image("a");
  ASSERT_TRUE(m_store->add_image(a, {"localhost/a:1", "localhost/a:2"}));
  ASSERT_TRUE(m_store->untag("localhost/a:1"));
  EXPECT_EQ(m_store->list_images()->size(), 1u);
  ASSERT_TRUE(m_store->untag("localhost/a:2"));
  EXPECT_TRUE(m_store->list_images()->empty());
  EXPECT_EQ(m_store->untag("localhost/a:2").error().code(), ErrorCode::not_found);
}

}  // namespace
}  // namespace kiln::cache
