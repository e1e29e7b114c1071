#include "cache/gc.h"

#include <gtest/gtest.h>

#include <map>

#include "cache/key_index.h"
#include "oci/media_types.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/temp_dir.h"

namespace kiln::cache {
namespace {

TEST(GcTest, PruneKeepsReferencedAndRemovesTheRest) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  auto s = Store::open({path_join(t->path(), "s"), std::nullopt});
  ASSERT_TRUE(s);
  oci::ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  auto layer = s->put_blob("layer");
  c.diff_ids.push_back(*layer);
  std::string cb = oci::serialize_image_config(c);
  oci::Manifest m;
  m.media_type = std::string(oci::media::k_oci_manifest);
  m.config = oci::make_descriptor(std::string(oci::media::k_oci_config), *s->put_blob(cb), static_cast<int64_t>(cb.size()));
  m.layers.push_back(oci::make_descriptor(std::string(oci::media::k_oci_layer), *layer, 5));
  std::string mb = oci::serialize_manifest(m);
  oci::Descriptor md = oci::make_descriptor(std::string(oci::media::k_oci_manifest), *s->put_blob(mb), static_cast<int64_t>(mb.size()));
  ASSERT_TRUE(s->add_image(md, {"localhost/x:1"}));
  auto orphan = s->put_blob("orphan");
  auto cached = s->put_blob("cached");
  CacheRecord rec;
  rec.key = std::string(64, 'a');
  rec.blobs = {*cached};
  ASSERT_TRUE(LocalKeyIndex(s->cache_dir()).put(rec));
  ASSERT_TRUE(make_dirs(s->layer_dir(*layer)));
  ASSERT_TRUE(make_dirs(s->layer_dir(*orphan)));
  ASSERT_TRUE(write_file(path_join(s->tmp_dir(), "leftover"), "x"));

  auto report = prune(*s, {});
  ASSERT_TRUE(report) << report.error().render();
  EXPECT_EQ(report->blobs_removed, 1u);
  EXPECT_EQ(report->layer_dirs_removed, 1u);
  EXPECT_EQ(report->temp_files_removed, 1u);
  EXPECT_FALSE(s->has_blob(*orphan));
  EXPECT_TRUE(s->has_blob(*cached));
  EXPECT_TRUE(s->has_blob(*layer));
  EXPECT_TRUE(is_directory(s->layer_dir(*layer)));

  auto r2 = prune(*s, {true, std::nullopt});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->cache_records_removed, 1u);
  EXPECT_FALSE(s->has_blob(*cached));

  auto f = fsck(*s);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->problems.empty());
  ASSERT_TRUE(write_file(s->blob_path(*layer), "LAYER"));
  f = fsck(*s);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->problems.size(), 1u);
  EXPECT_NE(f->problems[0].find(layer->str()), std::string::npos);
}

TEST(GcTest, KeepStorageEvictsLeastRecentlyUsedFirst) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  auto s = Store::open({path_join(t->path(), "s"), std::nullopt});
  ASSERT_TRUE(s);
  LocalKeyIndex keys(s->cache_dir());
  // Three 100-byte records; "old" was used longest ago, "new" most recently.
  std::map<std::string, oci::Digest> blobs;
  int64_t when = 1000;
  for (const char* name : {"mid", "old", "new"}) {
    auto b = s->put_blob(std::string(100, name[0]) + name);
    ASSERT_TRUE(b);
    blobs[name] = *b;
    CacheRecord r;
    r.key = sha256_hex(name);
    r.blobs = {*b};
    r.size = 100;
    r.created = 1;
    r.last_used = std::string(name) == "old" ? 10 : (std::string(name) == "mid" ? 500 : when);
    ASSERT_TRUE(keys.put(r));
  }
  auto r = prune(*s, {true, 150});
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->cache_records_removed, 2u);
  EXPECT_FALSE(keys.get(sha256_hex("old"))->has_value());
  EXPECT_FALSE(keys.get(sha256_hex("mid"))->has_value());
  EXPECT_TRUE(keys.get(sha256_hex("new"))->has_value());
  EXPECT_FALSE(s->has_blob(blobs["old"]));
  EXPECT_TRUE(s->has_blob(blobs["new"]));
}

TEST(GcTest, TryPruneSkipsAStoreInUse) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  auto s = Store::open({path_join(t->path(), "s"), std::nullopt});
  ASSERT_TRUE(s);
  auto orphan = s->put_blob("orphan");
  {
    auto hold = s->hold_for_write();
    ASSERT_TRUE(hold);
    auto r = try_prune(*s, {});
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
    EXPECT_TRUE(s->has_blob(*orphan));
  }
  auto r = try_prune(*s, {});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->blobs_removed, 1u);
}

}  // namespace
}  // namespace kiln::cache
