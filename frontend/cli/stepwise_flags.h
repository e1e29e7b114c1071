// Flags and helpers the stepwise commands (from, run, copy, add, config,
// commit, mount) share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/api/build.h"
#include "util/result.h"

namespace CLI {
class App;
}

namespace kiln::cli {

/// Solve settings a stepwise command takes.
struct SolveFlags {
  std::string storage_driver;  ///< --storage-driver
  std::string format = "oci";  ///< commit --format
  std::string compression = "gzip";
  std::string timestamp;       ///< commit --timestamp (else $SOURCE_DATE_EPOCH)
};

/// Registers --storage-driver on a subcommand.
void add_storage_flag(CLI::App& sub, SolveFlags& flags);

/// The BuildConfig of a stepwise command: $SOURCE_DATE_EPOCH (or --timestamp)
/// clamps file times and sets created times, as for `kiln bud`. Errors: usage
/// for a malformed value.
Result<BuildConfig> stepwise_config(const SolveFlags& flags);

/// "K=V" pairs of a repeatable flag. Errors: usage naming the flag.
Result<std::vector<std::pair<std::string, std::string>>> key_values(const std::vector<std::string>& raw,
                                                                    const char* flag);

/// The command of `kiln run C -- CMD...` and `kiln unshare -- CMD...` as
/// parsed, without a leading `--`.
std::vector<std::string> command_after(const std::vector<std::string>& remaining);

}  // namespace kiln::cli
