#include "solver/ops/layer_convert.h"

#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::solver::ops {
namespace {

using oci::media::Compression;

class LayerConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    auto s = cache::Store::open({path_join(m_tmp->path(), "store"), std::nullopt});
    ASSERT_TRUE(s) << s.error().render();
    m_store = std::make_unique<cache::Store>(std::move(*s));
    std::string tree = path_join(m_tmp->path(), "tree");
    ASSERT_TRUE(make_dirs(path_join(tree, "etc")));
    ASSERT_TRUE(write_file(path_join(tree, "etc/motd"), std::string(200000, 'm')));
    m_gzip = store_layer(tree, Compression::gzip);
  }

  // A layer written the way a build step writes one.
  LayerRef store_layer(const std::string& tree, Compression c) {
    auto blob = m_store->begin_blob();
    EXPECT_TRUE(blob);
    layers::WriteOptions o;
    o.compression = c;
    auto info = layers::write_layer(layers::SnapshotSource::overlay_upper(tree), o, blob->fd());
    EXPECT_TRUE(info) << info.error().render();
    EXPECT_TRUE(blob->commit_hashed(info->digest, info->size));
    return LayerRef{info->diff_id, info->digest, info->size, info->media_type};
  }

  std::set<std::string> blobs() const {
    std::set<std::string> out;
    DIR* d = ::opendir(path_join(m_store->root(), "blobs/sha256").c_str());
    EXPECT_NE(d, nullptr);
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') {
        out.insert(e->d_name);
      }
    }
    ::closedir(d);
    return out;
  }

  layers::WriteOptions to(Compression c, bool docker = false) {
    layers::WriteOptions o;
    o.compression = c;
    o.docker_media_types = docker;
    return o;
  }

  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<cache::Store> m_store;
  LayerRef m_gzip;
};

TEST_F(LayerConvertTest, ConvertsOnceThenReusesTheRecord) {
  std::vector<LayerRef> layers = {m_gzip};
  auto n = convert_layers(*m_store, layers, 0, to(Compression::zstd));
  ASSERT_TRUE(n) << n.error().render();
  EXPECT_EQ(*n, 1u);
  LayerRef zstd = layers[0];
  EXPECT_EQ(zstd.diff_id, m_gzip.diff_id);
  EXPECT_NE(zstd.digest, m_gzip.digest);
  EXPECT_EQ(zstd.media_type, oci::media::k_oci_layer_zstd);
  ASSERT_TRUE(m_store->verify_blob(zstd.digest));
  EXPECT_TRUE(path_exists(path_join(conversions_dir(*m_store), zstd.diff_id.hex() + ".zstd")));

  // Again: the record answers, nothing is re-encoded.
  layers = {m_gzip};
  n = convert_layers(*m_store, layers, 0, to(Compression::zstd, /*docker=*/true));
  ASSERT_TRUE(n) << n.error().render();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(layers[0].digest, zstd.digest);
  EXPECT_EQ(layers[0].media_type, oci::media::k_docker_layer_zstd);

  // Back to gzip: the source blob was recorded too.
  n = convert_layers(*m_store, layers, 0, to(Compression::gzip));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(layers[0].digest, m_gzip.digest);
  EXPECT_EQ(layers[0].media_type, oci::media::k_oci_layer_gzip);
}

TEST_F(LayerConvertTest, LayersBelowFirstAndLayersInTheCompressionStay) {
  std::vector<LayerRef> layers = {m_gzip, m_gzip};
  auto n = convert_layers(*m_store, layers, 1, to(Compression::none));
  ASSERT_TRUE(n) << n.error().render();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(layers[0], m_gzip);
  EXPECT_EQ(layers[1].digest, m_gzip.diff_id);  // an uncompressed layer's digest is its diffID
  EXPECT_EQ(layers[1].media_type, oci::media::k_oci_layer);
  auto same = convert_layer(*m_store, m_gzip, to(Compression::gzip));
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, m_gzip);
}

TEST_F(LayerConvertTest, AStaleRecordIsConvertedAgain) {
  auto first = convert_layer(*m_store, m_gzip, to(Compression::zstd));
  ASSERT_TRUE(first) << first.error().render();
  ASSERT_EQ(::unlink(m_store->blob_path(first->digest).c_str()), 0);  // as prune would
  std::vector<LayerRef> layers = {m_gzip};
  auto n = convert_layers(*m_store, layers, 0, to(Compression::zstd));
  ASSERT_TRUE(n) << n.error().render();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(layers[0].digest, first->digest);
  EXPECT_TRUE(m_store->verify_blob(first->digest));
}

// The stored blob decompresses to another tar than the layer's diffID says:
// an error naming the layer, and no new blob or record in the store.
TEST_F(LayerConvertTest, ACorruptSourceCommitsNothing) {
  std::string tree = path_join(m_tmp->path(), "other");
  ASSERT_TRUE(make_dirs(tree));
  ASSERT_TRUE(write_file(path_join(tree, "x"), "other"));
  LayerRef other = store_layer(tree, Compression::gzip);
  LayerRef lying = m_gzip;
  lying.digest = other.digest;  // m_gzip's diffID, another layer's bytes
  lying.size = other.size;
  auto before = blobs();
  auto r = convert_layer(*m_store, lying, to(Compression::zstd));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::cache_corrupt);
  std::string msg = r.error().render();
  EXPECT_NE(msg.find("convert layer `" + m_gzip.diff_id.str() + "` from gzip to zstd"), std::string::npos) << msg;
  EXPECT_EQ(blobs(), before);
  EXPECT_FALSE(path_exists(path_join(conversions_dir(*m_store), m_gzip.diff_id.hex() + ".zstd")));
  auto tmp = list_dir(m_store->tmp_dir());
  ASSERT_TRUE(tmp);
  EXPECT_TRUE(tmp->empty());
}

TEST_F(LayerConvertTest, AMissingSourceBlobIsNotFound) {
  LayerRef gone = m_gzip;
  gone.digest = oci::Digest::sha256_of("never stored");
  auto r = convert_layer(*m_store, gone, to(Compression::zstd));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found) << r.error().render();
}

}  // namespace
}  // namespace kiln::solver::ops
