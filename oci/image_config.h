// Image configuration (OCI image-spec config.md; Docker's image JSON adds
// Healthcheck, OnBuild and Shell, which kiln keeps in both formats as BuildKit
// does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/json.h"

namespace kiln::oci {

struct Healthcheck {
  std::vector<std::string> test;  ///< ["NONE"], ["CMD", ...], ["CMD-SHELL", "..."]
  int64_t interval_ns = 0;        ///< nanoseconds; 0 = inherit/default
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
  bool operator==(const Healthcheck&) const = default;
};

/// The "config" object: how a container from the image runs.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  ///< "80/tcp", sorted, unique
  std::vector<std::string> env;            ///< "K=V" in order
  /// nullopt = unset (JSON null/absent); an empty vector is written as [].
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> volumes;  ///< paths, sorted, unique
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<Healthcheck> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;
  Json extra = Json::object();

  /// Value of env var key, or nullopt.
  std::optional<std::string> getenv(const std::string& key) const;
  /// Sets (replacing in place) or appends K=V.
  void setenv(const std::string& key, const std::string& value);
  void unsetenv(const std::string& key);
};

struct HistoryEntry {
  std::string created;  ///< RFC 3339, "" = absent
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  Json extra = Json::object();
};

struct ImageConfig {
  std::string created;  ///< RFC 3339, "" = absent
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::string variant;
  ContainerConfig config;
  std::vector<Digest> diff_ids;  ///< rootfs.diff_ids, bottom layer first
  std::vector<HistoryEntry> history;
  Json extra = Json::object();
};

Json image_config_to_json(const ImageConfig& c);
/// Bytes for a config kiln creates (compact, sorted keys): deterministic, so
/// equal configs give equal image ids.
std::string serialize_image_config(const ImageConfig& c);
Result<ImageConfig> parse_image_config(std::string_view bytes, std::string_view what = "image config");

Json healthcheck_to_json(const Healthcheck& h);
Result<Healthcheck> healthcheck_from_json(const Json& j);

}  // namespace kiln::oci
