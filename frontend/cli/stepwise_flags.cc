#include "frontend/cli/stepwise_flags.h"

#include <CLI/CLI.hpp>

#include <cstdlib>

#include "util/strings.h"

namespace kiln::cli {

void add_storage_flag(CLI::App& sub, SolveFlags& flags) {
  sub.add_option("--storage-driver", flags.storage_driver, "overlay, fuse-overlayfs or vfs (default: probe)");
}

Result<BuildConfig> stepwise_config(const SolveFlags& flags) {
  BuildConfig c;
  c.storage_driver = flags.storage_driver;
  std::string epoch = flags.timestamp;
  if (epoch.empty()) {
    if (const char* e = std::getenv("SOURCE_DATE_EPOCH"); e != nullptr) {
      epoch = e;
    }
  }
  if (!epoch.empty()) {
    auto n = parse_int(epoch);
    if (!n || *n < 0) {
      return Error(ErrorCode::usage, cat("invalid SOURCE_DATE_EPOCH `", epoch, "`: expected seconds since 1970"));
    }
    c.source_date_epoch = *n;
  }
  if (flags.format != "oci" && flags.format != "docker") {
    return Error(ErrorCode::usage, cat("invalid --format `", flags.format, "`: expected oci or docker"));
  }
  c.docker_format = flags.format == "docker";
  if (flags.compression == "gzip") {
    c.compression = oci::media::Compression::gzip;
  } else if (flags.compression == "zstd") {
    c.compression = oci::media::Compression::zstd;
  } else if (flags.compression == "none") {
    c.compression = oci::media::Compression::none;
  } else {
    return Error(ErrorCode::usage, cat("invalid --compression `", flags.compression, "`: expected gzip, zstd or none"));
  }
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
