// How long the build-context digest takes on a 20,000-file context (issue 6:
// "b2: a 20,000-file COPY"), cold and with every file remembered. Prints the
// numbers; the limits are loose so a loaded machine does not fail the test.
#include <chrono>
#include <thread>

#include "copy_fixture.h"
#include "solver/ops/context_hash.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops::test {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

class ContextHashPerfTest : public CopyTest {};

TEST_F(ContextHashPerfTest, TwentyThousandFilesRemembered) {
  constexpr int k_files = 20000;
  std::string blob(10 * 1024, 'x');
  for (int i = 0; i < k_files; ++i) {
    blob[0] = static_cast<char>(i);
    blob[1] = static_cast<char>(i >> 8);
    std::string p = ctx(cat("d", i % 200, "/f", i));
    if (i < 200) {
      ASSERT_TRUE(make_dirs(path_dirname(p)));
    }
    ASSERT_TRUE(write_file(p, blob));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the racy margin
  std::string state = path_join(m_tmp->path(), "state.json");
  Copy spec;
  spec.sources = {"."};
  spec.dest = "/app/";

  ContextHasher h(state);
  auto t0 = Clock::now();
  Result<std::string> cold = h.digest(ctx(), spec, {}, nullptr);
  double cold_ms = ms_since(t0);
  ASSERT_TRUE(cold) << cold.error().render();
  auto t1 = Clock::now();
  Result<std::string> warm = h.digest(ctx(), spec, {}, nullptr);
  double warm_ms = ms_since(t1);
  ASSERT_TRUE(warm);
  EXPECT_EQ(*warm, *cold);
  auto t2 = Clock::now();
  ASSERT_TRUE(h.save());
  double save_ms = ms_since(t2);

  ContextHasher reloaded(state);
  auto t3 = Clock::now();
  Result<std::string> first = reloaded.digest(ctx(), spec, {}, nullptr);
  double reload_ms = ms_since(t3);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, *cold);
  auto t4 = Clock::now();
  Result<std::string> with_ignore = reloaded.digest(ctx(), spec, {"*.tmp", "d1*/f*1", "!d19/f19"}, nullptr);
  double ignore_ms = ms_since(t4);
  ASSERT_TRUE(with_ignore);

  Result<std::optional<struct stat>> st = lstat_path(state);
  ::testing::Test::RecordProperty("cold_ms", static_cast<int>(cold_ms));
  std::printf("context digest, %d files of 10 KiB: cold %.1f ms, remembered %.1f ms, save %.1f ms (%lld bytes), "
              "new hasher incl. state load %.1f ms, remembered with 3 ignore patterns %.1f ms\n",
              k_files, cold_ms, warm_ms, save_ms, static_cast<long long>((*st)->st_size), reload_ms, ignore_ms);
  EXPECT_LT(warm_ms, 2000.0);
}

}  // namespace
}  // namespace kiln::solver::ops::test
