// How long the build-context digest takes on a 20,000-file context (issue 6:
// "b2: a 20,000-file COPY"), cold and with every file remembered. Prints the
// numbers; the limits are loose so a loaded machine does not fail the test.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
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

// CPU time of the process (all threads), in ms: on a loaded machine the wall
// clock mostly measures waiting for a CPU.
double cpu_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
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
  auto t2 = Clock::now();
  ASSERT_TRUE(h.save());
  double save_ms = ms_since(t2);

  // The machine is shared: report the best of several runs.
  double best_cpu = 1e9;
  auto best_of = [&](int runs, const std::function<void()>& fn) {
    double best = 1e9;
    best_cpu = 1e9;
    for (int i = 0; i < runs; ++i) {
      auto t = Clock::now();
      double c = cpu_ms();
      fn();
      best = std::min(best, ms_since(t));
      best_cpu = std::min(best_cpu, cpu_ms() - c);
    }
    return best;
  };
  double warm_ms = best_of(std::getenv("KILN_PERF_RUNS") ? std::atoi(std::getenv("KILN_PERF_RUNS")) : 7, [&] {
    Result<std::string> d = h.digest(ctx(), spec, {}, nullptr);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, *cold);
  });
  double warm_cpu = best_cpu;
  struct rusage ru0 {};
  ::getrusage(RUSAGE_SELF, &ru0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.digest(ctx(), spec, {}, nullptr));
  }
  struct rusage ru1 {};
  ::getrusage(RUSAGE_SELF, &ru1);
  auto tv_ms = [](const struct timeval& a, const struct timeval& b) {
    return (static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 + static_cast<double>(b.tv_usec - a.tv_usec) / 1e3) / 5;
  };
  double warm_user = tv_ms(ru0.ru_utime, ru1.ru_utime);
  double warm_sys = tv_ms(ru0.ru_stime, ru1.ru_stime);
  double reload_ms = best_of(3, [&] {
    ContextHasher reloaded(state);
    Result<std::string> d = reloaded.digest(ctx(), spec, {}, nullptr);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, *cold);
  });
  double reload_cpu = best_cpu;
  double ignore_ms = best_of(5, [&] {
    Result<std::string> d = h.digest(ctx(), spec, {"*.tmp", "d1*/f*1", "!d19/f19"}, nullptr);
    ASSERT_TRUE(d);
  });
  double ignore_cpu = best_cpu;
  double listing_ms = best_of(3, [&] {
    std::vector<std::string> listing;
    Result<std::string> d = h.digest(ctx(), spec, {}, &listing);
    ASSERT_TRUE(d);
  });

  CopyRequest copy = request({"."}, "/app/");
  auto tc = Clock::now();
  double copy_cpu0 = cpu_ms();
  Result<CopyStats> copied = copy_files(copy);
  double copy_ms = ms_since(tc);
  double copy_cpu = cpu_ms() - copy_cpu0;
  ASSERT_TRUE(copied) << copied.error().render();
  EXPECT_EQ(copied->files, k_files);
  std::printf("copy_files of the same context: %.1f ms wall, %.1f ms CPU (%lld files, %lld bytes)\n", copy_ms,
              copy_cpu, static_cast<long long>(copied->files), static_cast<long long>(copied->bytes));

  Result<std::optional<struct stat>> st = lstat_path(state);
  std::printf("context digest, %d files of 10 KiB (best wall / CPU): cold %.1f ms; remembered %.1f / %.1f ms; "
              "save %.1f ms (%lld bytes); new hasher incl. state load %.1f / %.1f ms; remembered with 3 ignore "
              "patterns %.1f / %.1f ms; with listing %.1f ms; remembered mean user %.1f ms + system %.1f ms\n",
              k_files, cold_ms, warm_ms, warm_cpu, save_ms, static_cast<long long>((*st)->st_size), reload_ms,
              reload_cpu, ignore_ms, ignore_cpu, listing_ms, warm_user, warm_sys);
  EXPECT_LT(warm_ms, 2000.0);
}

}  // namespace
}  // namespace kiln::solver::ops::test
