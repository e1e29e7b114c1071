#include "cache/layered_key_index.h"

#include <gtest/gtest.h>

#include "util/hasher.h"

namespace kiln::cache {
namespace {

CacheRecord record(const std::string& key_seed, const std::string& blob) {
  CacheRecord r;
  r.key = sha256_hex(key_seed);
  r.blobs = {oci::Digest::sha256_of(blob)};
  r.result = {{"from", blob}};
  r.created = 7;
  r.last_used = 7;
  return r;
}

TEST(LayeredKeyIndexTest, LocalRecordWinsOverImported) {
  MemoryKeyIndex local;
  LayeredKeyIndex idx(local);
  idx.add_source("remote", {record("k", "remote-blob")});
  ASSERT_TRUE(local.put(record("k", "local-blob")));
  auto r = idx.get(sha256_hex("k"));
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->result["from"], "local-blob");
}

TEST(LayeredKeyIndexTest, ImportedRecordIsAHitAndPutGoesLocal) {
  MemoryKeyIndex local;
  LayeredKeyIndex idx(local);
  idx.add_source("remote", {record("k", "b")});
  auto r = idx.get(sha256_hex("k"));
  ASSERT_TRUE(r && *r);
  EXPECT_EQ(idx.source_of(sha256_hex("k")), "remote");
  EXPECT_TRUE(idx.list()->empty());  // imported records are not the store's
  ASSERT_TRUE(idx.put(record("new", "n")));
  EXPECT_TRUE(local.get(sha256_hex("new"))->has_value());
}

TEST(LayeredKeyIndexTest, EarlierSourceWins) {
  MemoryKeyIndex local;
  LayeredKeyIndex idx(local);
  idx.add_source("first", {record("k", "one")});
  idx.add_source("second", {record("k", "two")});
  EXPECT_EQ((*idx.get(sha256_hex("k")))->result["from"], "one");
}

TEST(LayeredKeyIndexTest, RejectedBlobFallsBackToTheNextSourceThenMisses) {
  MemoryKeyIndex local;
  LayeredKeyIndex idx(local);
  idx.add_source("first", {record("k", "one")});
  idx.add_source("second", {record("k", "two")});
  idx.reject_blob(oci::Digest::sha256_of("one"));
  EXPECT_EQ((*idx.get(sha256_hex("k")))->result["from"], "two");
  idx.reject_blob(oci::Digest::sha256_of("two"));
  EXPECT_FALSE(idx.get(sha256_hex("k"))->has_value());
  EXPECT_TRUE(idx.rejected(oci::Digest::sha256_of("two")));
}

TEST(LayeredKeyIndexTest, TouchRecordsImportedHitsOnceInOrder) {
  MemoryKeyIndex local;
  LayeredKeyIndex idx(local);
  idx.add_source("remote", {record("a", "x"), record("b", "y")});
  ASSERT_TRUE(idx.touch(sha256_hex("b")));
  ASSERT_TRUE(idx.touch(sha256_hex("a")));
  ASSERT_TRUE(idx.touch(sha256_hex("b")));
  ASSERT_TRUE(idx.touch(sha256_hex("absent")));
  auto hits = idx.imported_hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].key, sha256_hex("b"));
  EXPECT_EQ(hits[1].key, sha256_hex("a"));
  EXPECT_TRUE(local.list()->empty());  // touching an imported record writes nothing locally
}

}  // namespace
}  // namespace kiln::cache
