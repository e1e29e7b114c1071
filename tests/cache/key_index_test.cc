// One conformance suite for every KeyIndex backend (STYLE.md K6).
#include "cache/key_index.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <functional>

#include "util/file.h"
#include "util/hasher.h"
#include "util/temp_dir.h"
#include "util/time.h"

namespace kiln::cache {
namespace {

struct Backend {
  const char* name;
  std::function<std::unique_ptr<KeyIndex>(const std::string& dir)> make;
};

class CacheStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    m_index = GetParam().make(m_tmp->path());
  }
  static CacheRecord record(const std::string& seed) {
    CacheRecord r;
    r.key = sha256_hex(seed);
    r.result = {{"layer", seed}};
    r.blobs = {oci::Digest::sha256_of(seed)};
    r.created = 100;
    r.last_used = 100;
    return r;
  }
  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<KeyIndex> m_index;
};

TEST_P(CacheStoreConformance, MissIsNotAnError) {
  auto r = m_index->get(sha256_hex("absent"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_P(CacheStoreConformance, PutThenGetRoundTrips) {
  ASSERT_TRUE(m_index->put(record("a")));
  auto r = m_index->get(sha256_hex("a"));
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->result["layer"], "a");
  EXPECT_EQ((*r)->blobs.size(), 1u);
}

TEST_P(CacheStoreConformance, TouchUpdatesLastUsed) {
  ASSERT_TRUE(m_index->put(record("a")));
  ASSERT_TRUE(m_index->touch(sha256_hex("a")));
  EXPECT_GT((*m_index->get(sha256_hex("a")))->last_used, 100);
}

TEST_P(CacheStoreConformance, RemoveAndList) {
  ASSERT_TRUE(m_index->put(record("a")));
  ASSERT_TRUE(m_index->put(record("b")));
  EXPECT_EQ(m_index->list()->size(), 2u);
  ASSERT_TRUE(m_index->remove(sha256_hex("a")));
  EXPECT_EQ(m_index->list()->size(), 1u);
  EXPECT_FALSE(m_index->get(sha256_hex("a"))->has_value());
}

TEST_P(CacheStoreConformance, RejectsMalformedKeys) {
  CacheRecord r = record("a");
  r.key = "../../etc/passwd";
  EXPECT_FALSE(m_index->put(r));
  EXPECT_FALSE(m_index->get("../x"));
}

INSTANTIATE_TEST_SUITE_P(Backends, CacheStoreConformance,
                         ::testing::Values(Backend{"local",
                                                   [](const std::string& d) {
                                                     return std::unique_ptr<KeyIndex>(new LocalKeyIndex(d));
                                                   }},
                                           Backend{"memory",
                                                   [](const std::string&) {
                                                     return std::unique_ptr<KeyIndex>(new MemoryKeyIndex());
                                                   }}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(LocalKeyIndexTest, CorruptRecordIsAMiss) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  LocalKeyIndex idx(t->path());
  std::string key = sha256_hex("k");
  ASSERT_TRUE(write_file(path_join(t->path(), key + ".json"), "{not json"));
  auto r = idx.get(key);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

// A hit on a record used less than an hour ago does not rewrite it: the
// rewrite (two fsyncs) sits on every cache hit of a warm build, and last_used
// only orders eviction.
TEST(LocalKeyIndexTest, TouchRewritesARecordAtMostHourly) {
  auto t = TempDir::create();
  ASSERT_TRUE(t);
  LocalKeyIndex idx(t->path());
  CacheRecord r;
  r.key = sha256_hex("recent");
  r.last_used = now().seconds - 60;
  ASSERT_TRUE(idx.put(r));
  std::string path = path_join(t->path(), r.key + ".json");
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  ASSERT_TRUE(idx.touch(r.key));
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // write_file_atomic would rename a new inode in
  EXPECT_EQ((*idx.get(r.key))->last_used, r.last_used);

  r.last_used = now().seconds - 2 * 3600;
  ASSERT_TRUE(idx.put(r));
  ASSERT_TRUE(idx.touch(r.key));
  EXPECT_GE((*idx.get(r.key))->last_used, now().seconds - 60);
}

}  // namespace
}  // namespace kiln::cache
