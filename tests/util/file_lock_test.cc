#include "util/file_lock.h"

#include <gtest/gtest.h>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln {
namespace {

TEST(FileLockTest, ExclusiveExcludesWithinOneProcess) {
  auto tmp = TempDir::create();
  ASSERT_TRUE(tmp);
  std::string p = path_join(tmp->path(), "lock");
  auto a = FileLock::acquire(p, LockMode::exclusive);
  ASSERT_TRUE(a);
  auto b = FileLock::try_acquire(p, LockMode::shared);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->has_value());
  a->release();
  auto c = FileLock::try_acquire(p, LockMode::shared);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->has_value());
  auto d = FileLock::try_acquire(p, LockMode::shared);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_value());
}

}  // namespace
}  // namespace kiln
