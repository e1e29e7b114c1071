#include "frontend/api/build_cache.h"

#include <gtest/gtest.h>

#include "frontend/api/store_api.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln {
namespace {

TEST(BuildCacheTest, ParsesRegistryExportWithEveryKey) {
  auto s = parse_cache_spec("type=registry,ref=127.0.0.1:5000/team/cache:main,mode=max,compression=gzip,cache-mounts=false",
                            CacheDirection::export_);
  ASSERT_TRUE(s) << s.error().render();
  EXPECT_EQ(s->type, CacheSpec::Type::registry);
  EXPECT_EQ(s->ref, "127.0.0.1:5000/team/cache:main");
  EXPECT_TRUE(s->mode_max);
  EXPECT_EQ(s->mount_compression, oci::media::Compression::gzip);
  EXPECT_FALSE(s->cache_mounts);
}

TEST(BuildCacheTest, ExportsCacheMountsWhenAsked) {
  for (const char* text : {"type=registry,ref=reg.example/c:1,cache-mounts=true", "type=local,dest=/tmp/c,cache-mounts=1"}) {
    auto s = parse_cache_spec(text, CacheDirection::export_);
    ASSERT_TRUE(s) << text << ": " << s.error().render();
    EXPECT_TRUE(s->cache_mounts) << text;
  }
}

TEST(BuildCacheTest, ExportDefaultsAreMinZstdWithoutMounts) {
  auto s = parse_cache_spec("type=registry,ref=reg.example/c:1", CacheDirection::export_);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->mode_max);
  EXPECT_EQ(s->mount_compression, oci::media::Compression::zstd);
  EXPECT_FALSE(s->cache_mounts);
}

TEST(BuildCacheTest, BareReferenceImportsFromARegistryWithMounts) {
  auto s = parse_cache_spec("reg.example/team/cache:main", CacheDirection::import);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, CacheSpec::Type::registry);
  EXPECT_EQ(s->ref, "reg.example/team/cache:main");
  EXPECT_TRUE(s->cache_mounts);
  auto off = parse_cache_spec("type=registry,ref=r.example/c,cache-mounts=false", CacheDirection::import);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->cache_mounts);
}

TEST(BuildCacheTest, LocalUsesDestToExportAndSrcToImport) {
  auto to = parse_cache_spec("type=local,dest=/tmp/cache,tag=ci", CacheDirection::export_);
  ASSERT_TRUE(to);
  EXPECT_EQ(to->type, CacheSpec::Type::local);
  EXPECT_EQ(to->dir, "/tmp/cache");
  EXPECT_EQ(to->tag, "ci");
  auto from = parse_cache_spec("type=local,src=/tmp/cache", CacheDirection::import);
  ASSERT_TRUE(from);
  EXPECT_EQ(from->dir, "/tmp/cache");
  EXPECT_EQ(from->tag, "latest");
  EXPECT_FALSE(parse_cache_spec("type=local,src=/tmp/cache", CacheDirection::export_));
  EXPECT_FALSE(parse_cache_spec("type=local,dest=/tmp/cache", CacheDirection::import));
}

TEST(BuildCacheTest, RejectsBadSpecsNamingTheProblem) {
  struct Case {
    const char* text;
    CacheDirection dir;
    const char* says;
  };
  for (const Case& c : {Case{"type=registry", CacheDirection::import, "needs ref="},
                        Case{"type=s3,ref=x", CacheDirection::import, "unknown type `s3`"},
                        Case{"type=registry,ref=r.example/c,mode=all", CacheDirection::export_, "mode is min or max"},
                        Case{"type=registry,ref=r.example/c,mode=max", CacheDirection::import, "unknown key `mode`"},
                        Case{"type=registry,ref=r.example/c,compression=lz4", CacheDirection::export_, "zstd or gzip"},
                        Case{"type=registry,ref=r.example/c,cache-mounts=maybe", CacheDirection::export_, "true or false"},
                        Case{"type=registry,ref=reg.example/a//b", CacheDirection::import, "invalid --cache-from"},
                        Case{"type=registry,,ref=x", CacheDirection::import, "KEY=VALUE"},
                        Case{"", CacheDirection::export_, "--cache-to"}}) {
    auto r = parse_cache_spec(c.text, c.dir);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::usage) << c.text;
    EXPECT_NE(r.error().render().find(c.says), std::string::npos) << c.text << ": " << r.error().render();
  }
}

TEST(BuildCacheTest, StoreLimitComesFromConfigJson) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  auto store = ImageStore::open(path_join(t->path(), "s"));
  ASSERT_TRUE(store);
  EXPECT_FALSE(store_cache_limit(*store)->has_value());
  std::string cfg = path_join(store->root(), "kiln/config.json");
  ASSERT_TRUE(write_file(cfg, R"({"max_cache_bytes": "2MB"})"));
  auto limit = store_cache_limit(*store);
  ASSERT_TRUE(limit && *limit);
  EXPECT_EQ(**limit, 2000000u);
  ASSERT_TRUE(write_file(cfg, R"({"max_cache_bytes": 12345})"));
  EXPECT_EQ(**store_cache_limit(*store), 12345u);
  ASSERT_TRUE(write_file(cfg, R"({"max_cache_bytes": "lots"})"));
  EXPECT_FALSE(store_cache_limit(*store));
}

}  // namespace
}  // namespace kiln
