#include "frontend/cli/stepwise_flags.h"

#include <CLI/CLI.hpp>

#include <cstdlib>

#include "frontend/cli/image_flags.h"
#include "util/strings.h"

namespace kiln::cli {

void add_storage_flag(CLI::App& sub, SolveFlags& flags) {
  sub.add_option("--storage-driver", flags.storage_driver, "overlay, fuse-overlayfs or vfs (default: probe)");
}

Result<BuildConfig> stepwise_config(const SolveFlags& flags) {
  BuildConfig c;
  c.storage_driver = flags.storage_driver;
  KILN_TRY(apply_image_flags(flags.timestamp, flags.format, flags.compression, c));
  return c;
}

Result<std::vector<std::pair<std::string, std::string>>> key_values(const std::vector<std::string>& raw,
                                                                    const char* flag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : raw) {
    auto kv = split_once(a, '=');
    if (!kv || kv->first.empty()) {
      return Error(ErrorCode::usage, cat("invalid ", flag, " `", a, "`: expected KEY=VALUE"));
    }
    out.emplace_back(kv->first, kv->second);
  }
  return out;
}

std::vector<std::string> command_after(const std::vector<std::string>& remaining) {
  std::vector<std::string> out = remaining;
  if (!out.empty() && out.front() == "--") {
    out.erase(out.begin());
  }
  return out;
}

}  // namespace kiln::cli
