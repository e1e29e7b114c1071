// kiln_executor_tool: a small driver over the executor's public API for the
// executor tests and bench/sandbox (not part of kiln; kiln's CLI will call
// the same functions).
//
//   kiln_executor_tool unshare [-- CMD...]
//       enter_user_namespace + exec_in_namespace (what `kiln unshare` does)
//   kiln_executor_tool run [options] -- CMD...
//       enter_user_namespace + run_sandbox; exits with the command's status
//     --rootfs DIR           plain directory rootfs
//     --lower DIR            overlay lower (repeatable, top first); a fresh
//                            upper/work/mountpoint is made in a temp dir
//     --network host|none    --timeout SECONDS    --user UID[:GID]
//     --repeat N             run N times and print per-start timings (ms)
//     --interrupt-handlers   install_interrupt_handlers() first
//     --no-seccomp           SeccompMode::unconfined
//     --seccomp-cache DIR    cache compiled seccomp programs in DIR
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "executor/sandbox.h"
#include "executor/user_namespace.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/temp_dir.h"

using namespace kiln;
using namespace kiln::executor;

namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "kiln_executor_tool: %s\n", e.render().c_str());
  if (!e.hint().empty()) {
    std::fprintf(stderr, "Hint: %s\n", e.hint().c_str());
  }
  return e.exit_status() != 0 ? e.exit_status() : 125;
}

double now_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct RunOptions {
  SandboxSpec spec;
  std::vector<std::string> lowers;
  int repeat = 1;
  bool handlers = false;
};

Result<RunOptions> parse_run(int argc, char** argv) {
  RunOptions o;
  o.spec.env = {"PATH=/bin:/usr/bin", "HOME=/root"};
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--rootfs") {
      o.spec.rootfs_dir = absolute_path(next());
    } else if (a == "--lower") {
      o.lowers.push_back(absolute_path(next()));
    } else if (a == "--network") {
      o.spec.network = next() == "none" ? NetworkMode::none : NetworkMode::host;
    } else if (a == "--timeout") {
      o.spec.timeout_seconds = static_cast<unsigned>(std::stoul(next()));
    } else if (a == "--user") {
      auto ids = split(next(), ':');
      o.spec.uid = static_cast<uint32_t>(std::stoul(ids[0]));
      o.spec.gid = ids.size() > 1 ? static_cast<uint32_t>(std::stoul(ids[1])) : 0;
    } else if (a == "--repeat") {
      o.repeat = std::stoi(next());
    } else if (a == "--interrupt-handlers") {
      o.handlers = true;
    } else if (a == "--seccomp-cache") {
      o.spec.seccomp_cache_dir = absolute_path(next());
    } else if (a == "--no-seccomp") {
      o.spec.seccomp = SeccompMode::unconfined;
    } else {
      return Error(ErrorCode::usage, cat("unknown option `", a, "`"));
    }
  }
  for (++i; i < argc; ++i) {
    o.spec.argv.emplace_back(argv[i]);
  }
  return o;
}

int run(int argc, char** argv) {
  auto parsed = parse_run(argc, argv);
  if (!parsed) {
    return fail(parsed.error());
  }
  RunOptions& o = *parsed;
  if (o.handlers) {
    install_interrupt_handlers();
  }
  std::vector<double> times;
  int status = 0;
  for (int n = 0; n < o.repeat; ++n) {
    std::optional<TempDir> snap;
    if (!o.lowers.empty()) {
      auto dir = TempDir::create("", "kiln-tool-");
      if (!dir) {
        return fail(dir.error());
      }
      snap.emplace(std::move(*dir));
      OverlayRootfs ov{o.lowers, path_join(snap->path(), "upper"), path_join(snap->path(), "work"),
                       path_join(snap->path(), "merged")};
      for (const auto& d : {ov.upper, ov.work, ov.mountpoint}) {
        log_warning_and_drop(make_dirs(d));
      }
      o.spec.overlay = ov;
    }
    double start = now_ms();
    auto result = run_sandbox(o.spec);
    times.push_back(now_ms() - start);
    if (o.spec.overlay) {
      // kiln's solver does the same before it deletes a snapshot's work dir.
      wait_for_sandbox_teardown(o.spec.overlay->work);
    }
    if (!result) {
      return fail(result.error());
    }
    status = *result;
  }
  if (o.repeat > 1) {
    std::sort(times.begin(), times.end());
    double sum = 0;
    for (double t : times) {
      sum += t;
    }
    std::printf("runs=%d median_ms=%.3f mean_ms=%.3f min_ms=%.3f p90_ms=%.3f\n", o.repeat, times[times.size() / 2],
                sum / static_cast<double>(times.size()), times.front(), times[times.size() * 9 / 10]);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* level = std::getenv("KILN_LOG_LEVEL"); level != nullptr) {
    if (auto l = log::parse_level(level)) {
      log::set_level(*l);
    }
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: kiln_executor_tool unshare|run ...\n");
    return 2;
  }
  if (auto entered = enter_user_namespace(argc, argv); !entered) {
    return fail(entered.error());
  }
  if (std::strcmp(argv[1], "unshare") == 0) {
    std::vector<std::string> cmd;
    for (int i = 2; i < argc; ++i) {
      if (i == 2 && std::strcmp(argv[i], "--") == 0) {
        continue;
      }
      cmd.emplace_back(argv[i]);
    }
    return fail(exec_in_namespace(cmd).error());
  }
  if (std::strcmp(argv[1], "run") == 0) {
    return run(argc, argv);
  }
  std::fprintf(stderr, "usage: kiln_executor_tool unshare|run ...\n");
  return 2;
}
