// The RUN --mount=type=cache directories (cache/cache_mounts.h): keys,
// creation and seeding, the three sharing modes, listing and pruning.
#include "cache/cache_mounts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::cache {
namespace {

class CacheMountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("", "kiln-cache-mounts-");
    ASSERT_TRUE(t);
    m_tmp.emplace(std::move(*t));
    m_root = path_join(m_tmp->path(), "cache-mounts");
  }
  CacheMountKey key(const std::string& id) {
    CacheMountKey k;
    k.id = id;
    k.uid = ::getuid();
    k.gid = ::getgid();
    return k;
  }
  std::optional<TempDir> m_tmp;
  std::string m_root;
};

TEST_F(CacheMountsTest, KeyHexCoversEveryFieldAndIsAPlainName) {
  CacheMountKey a;
  a.id = "../../../../root";
  std::string hex = a.hex();
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find('/'), std::string::npos);
  EXPECT_EQ(a.hex(), hex);
  for (auto change : {+[](CacheMountKey& k) { k.id = "x"; }, +[](CacheMountKey& k) { k.from = "f"; },
                      +[](CacheMountKey& k) { k.source = "s"; }, +[](CacheMountKey& k) { k.uid = 1; },
                      +[](CacheMountKey& k) { k.gid = 1; }, +[](CacheMountKey& k) { k.mode = 0700; }}) {
    CacheMountKey b = a;
    change(b);
    EXPECT_NE(b.hex(), hex);
  }
}

TEST_F(CacheMountsTest, CreatesWithModeSeedsOnceAndPersists) {
  CacheMounts caches(m_root);
  CacheMountKey k = key("pip");
  k.mode = 0710;
  int seeded = 0;
  SeedFn seed = [&](const std::string& dir) {
    ++seeded;
    return write_file(path_join(dir, "seed"), "x");
  };
  std::string dir;
  {
    auto lease = caches.acquire(k, CacheSharing::shared, seed);
    ASSERT_TRUE(lease) << lease.error().render();
    dir = lease->dir;
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0710u);
    ASSERT_TRUE(write_file(path_join(dir, "added"), "y"));
    EXPECT_TRUE(path_exists(path_join(dir, "seed")));
  }
  auto again = caches.acquire(k, CacheSharing::shared, seed);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->dir, dir);
  EXPECT_EQ(seeded, 1);
  EXPECT_TRUE(path_exists(path_join(dir, "added")));
  // Lock files and the record sit beside the directory, never in it.
  auto names = list_dir(dir);
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"added", "seed"}));
}

TEST_F(CacheMountsTest, PrivateUsersGetTheirOwnDirectoriesWhenBusy) {
  CacheMounts caches(m_root);
  auto first = caches.acquire(key("p"), CacheSharing::private_, {});
  auto second = caches.acquire(key("p"), CacheSharing::private_, {});
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->dir, second->dir);
  EXPECT_EQ(path_basename(second->dir), "private-1");
  std::string first_dir = first->dir;
  first = Result<CacheLease>(Error(ErrorCode::internal, "released"));
  auto third = caches.acquire(key("p"), CacheSharing::private_, {});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->dir, first_dir) << "a free directory is reused";
}

TEST_F(CacheMountsTest, LockedUsersWaitSharedUsersDoNot) {
  CacheMounts caches(m_root);
  auto shared1 = caches.acquire(key("l"), CacheSharing::shared, {});
  auto shared2 = caches.acquire(key("l"), CacheSharing::shared, {});
  ASSERT_TRUE(shared1 && shared2);
  EXPECT_EQ(shared1->dir, shared2->dir);
  shared1 = Result<CacheLease>(Error(ErrorCode::internal, "released"));
  shared2 = Result<CacheLease>(Error(ErrorCode::internal, "released"));
  auto holder = caches.acquire(key("l"), CacheSharing::locked, {});
  ASSERT_TRUE(holder);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lease = caches.acquire(key("l"), CacheSharing::locked, {});
    got = lease.has_value();
  });
  // The waiter cannot get the lock while we hold it; give it a moment to try.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(got.load());
  holder = Result<CacheLease>(Error(ErrorCode::internal, "released"));
  waiter.join();
  EXPECT_TRUE(got.load());
}

TEST_F(CacheMountsTest, PruneRemovesOnlyCachesNotInUse) {
  CacheMounts caches(m_root);
  { ASSERT_TRUE(caches.acquire(key("idle"), CacheSharing::shared, {})); }
  auto busy = caches.acquire(key("busy"), CacheSharing::shared, {});
  ASSERT_TRUE(busy);
  auto listed = caches.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  auto removed = caches.prune();
  ASSERT_TRUE(removed) << removed.error().render();
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0].id, "idle");
  EXPECT_TRUE(is_directory(busy->dir));
  auto after = caches.list();
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].id, "busy");
  EXPECT_TRUE((*after)[0].in_use);
}

TEST_F(CacheMountsTest, FailedSeedLeavesNoDirectory) {
  CacheMounts caches(m_root);
  auto lease = caches.acquire(key("bad"), CacheSharing::shared,
                              [](const std::string&) -> Result<void> { return Error(ErrorCode::io, "seed failed"); });
  ASSERT_FALSE(lease);
  auto names = list_dir(path_join(m_root, key("bad").hex()));
  ASSERT_TRUE(names);
  for (const auto& n : *names) {
    EXPECT_FALSE(n == "data" || n.starts_with(".tmp-")) << n;
  }
}

TEST_F(CacheMountsTest, OpenExistingCreatesNothingAndSharesTheDirectory) {
  CacheMounts caches(m_root);
  auto none = caches.open_existing(key("absent"));
  ASSERT_TRUE(none) << none.error().render();
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(path_exists(path_join(m_root, key("absent").hex())));
  auto user = caches.acquire(key("dl"), CacheSharing::shared, {});
  ASSERT_TRUE(user);
  ASSERT_TRUE(write_file(path_join(user->dir, "f"), "hi"));
  auto open = caches.open_existing(key("dl"));  // held shared: a shared user does not block it
  ASSERT_TRUE(open && open->has_value());
  EXPECT_EQ((*open)->dir, user->dir);
  EXPECT_EQ(*read_file(path_join((*open)->dir, "f")), "hi");
}

}  // namespace
}  // namespace kiln::cache
