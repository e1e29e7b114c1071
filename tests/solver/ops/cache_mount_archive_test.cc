#include "solver/ops/cache_mount_archive.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "cache/cache_artifact.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::solver::ops {
namespace {

class CacheMountArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    auto s = cache::Store::open({path_join(m_tmp->path(), "store"), std::nullopt});
    ASSERT_TRUE(s) << s.error().render();
    m_store = std::make_unique<cache::Store>(std::move(*s));
  }
  std::string path(const std::string& rel) const { return path_join(m_tmp->path(), rel); }
  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<cache::Store> m_store;
};

TEST_F(CacheMountArchiveTest, RoundTripsFilesLinksAndModes) {
  std::string src = path("src");
  ASSERT_TRUE(make_dirs(path_join(src, "pkgs/deep")));
  ASSERT_TRUE(write_file(path_join(src, "pkgs/deep/a.deb"), "package bytes", 0640));
  ASSERT_TRUE(write_file(path_join(src, "index"), "idx"));
  ASSERT_EQ(::symlink("pkgs/deep/a.deb", path_join(src, "latest").c_str()), 0);
  for (auto c : {oci::media::Compression::zstd, oci::media::Compression::gzip}) {
    auto d = archive_directory(*m_store, src, c);
    ASSERT_TRUE(d) << d.error().render();
    EXPECT_EQ(d->media_type, c == oci::media::Compression::zstd ? cache::k_cache_mount_type : cache::k_cache_mount_gzip_type);
    EXPECT_TRUE(m_store->has_blob(d->digest));
    std::string out = path(c == oci::media::Compression::zstd ? "out-zstd" : "out-gzip");
    ASSERT_TRUE(restore_directory(*m_store, d->digest, out, false));
    EXPECT_EQ(*read_file(path_join(out, "pkgs/deep/a.deb")), "package bytes");
    EXPECT_EQ(*read_file(path_join(out, "latest")), "package bytes");
    struct stat st {};
    ASSERT_EQ(::stat(path_join(out, "pkgs/deep/a.deb").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
  }
}

TEST_F(CacheMountArchiveTest, MissingDirectoryIsNotFound) {
  auto d = archive_directory(*m_store, path("absent"), oci::media::Compression::zstd);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::not_found);
}

TEST_F(CacheMountArchiveTest, RestoreOfAMissingBlobFails) {
  EXPECT_FALSE(restore_directory(*m_store, oci::Digest::sha256_of("nothing"), path("out"), false));
  EXPECT_FALSE(path_exists(path("out")));
}

TEST(CacheMountKeysTest, KeysFollowTheRunnersRules) {
  EXPECT_EQ(absolute_mount_target("x/../y", "/work"), "/work/y");
  EXPECT_EQ(absolute_mount_target("/var/cache/x/", "/work"), "/var/cache/x");
  EXPECT_EQ(absolute_mount_target("rel", ""), "/rel");
  MountSpec m;
  m.type = "cache";
  m.target = "/var/cache/x";
  cache::CacheMountKey k = cache_mount_key(m, "/var/cache/x", "ignored without from");
  EXPECT_EQ(k.id, "/var/cache/x");  // the id defaults to the target
  EXPECT_EQ(k.from, "");
  EXPECT_EQ(k.mode, 0755u);
  m.id = "dl";
  m.from_input = 1;
  m.source = "/seed";
  m.uid = 7;
  k = cache_mount_key(m, "/var/cache/x", "key-of-seed");
  EXPECT_EQ(k.id, "dl");
  EXPECT_EQ(k.from, "key-of-seed");
  EXPECT_EQ(k.source, "/seed");
  EXPECT_EQ(k.uid, 7u);
}

TEST(CacheMountKeysTest, EveryCacheOfTheSolvedRunStepsOnce) {
  Definition def;
  def.ops.push_back(Op{ScratchSource{}, {}, {}});
  Exec run;
  run.cwd = "/work";
  MountSpec cache;
  cache.type = "cache";
  cache.target = "pkgs";
  cache.id = "dl";
  MountSpec tmpfs;
  tmpfs.type = "tmpfs";
  tmpfs.target = "/tmp";
  run.mounts = {cache, tmpfs};
  def.ops.push_back(Op{run, {0}, {}});
  def.ops.push_back(Op{run, {1}, {}});  // the same cache again
  MountSpec other = cache;
  other.id.clear();
  run.mounts = {other};
  def.ops.push_back(Op{run, {2}, {}});  // not solved: not counted
  SolveResult solved;
  solved.keys = {"k0", "k1", "k2", ""};
  solved.results = {OpResult{}, OpResult{}, OpResult{}, std::nullopt};
  auto keys = build_cache_mount_keys(def, solved);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].id, "dl");
  solved.results[3] = OpResult{};
  keys = build_cache_mount_keys(def, solved);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].id, "/work/pkgs");
}

}  // namespace
}  // namespace kiln::solver::ops
