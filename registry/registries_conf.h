// containers-registries.conf(5), version 2 (the files buildah and podman
// read): where a reference is pulled from (prefix/location rewrites and
// mirrors), which registries are insecure or blocked, how a short name is
// qualified (aliases, unqualified-search-registries).
//
// Files, later ones merging over earlier ones (a drop-in's [[registry]] with
// the same prefix replaces the earlier entry; a set
// unqualified-search-registries replaces the list; aliases merge):
//   $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf when
//   it exists, else /etc/containers/registries.conf;
//   then /etc/containers/registries.conf.d/*.conf and
//   ~/.config/containers/registries.conf.d/*.conf, in name order.
// The v1 format ([registries.search] ...) is not read; kiln warns and skips.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/reference.h"
#include "util/result.h"

namespace kiln::registry {

enum class PullFromMirror { all, digest_only, tag_only };

struct Mirror {
  std::string location;  ///< "mirror.example:5000[/ns]"
  bool insecure = false;
  PullFromMirror pull_from = PullFromMirror::all;
};

struct RegistryEntry {
  std::string prefix;    ///< "example.com/foo", "*.example.com"; defaults to location
  std::string location;  ///< where the prefix is served ("" = the prefix itself)
  bool insecure = false;
  bool blocked = false;
  bool mirror_by_digest_only = false;
  std::vector<Mirror> mirrors;
};

/// One place to try when pulling a reference.
struct PullSource {
  oci::Reference reference;  ///< the rewritten reference (a mirror's or the location's)
  bool insecure = false;     ///< plain HTTP / no TLS verification allowed
  bool mirror = false;
};

class RegistriesConfig {
 public:
  /// Reads the standard files (above); `main_file` replaces the main file
  /// when not empty. Missing files are fine. Errors: parse naming the file
  /// and the TOML error.
  static Result<RegistriesConfig> load(const std::string& main_file = "");
  /// Parses one file's text (`what` names it in errors).
  static Result<RegistriesConfig> parse(std::string_view toml, std::string_view what);
  /// Merges a later file over this one (the drop-in rules above).
  void merge(RegistriesConfig later);

  const std::vector<std::string>& unqualified_search() const { return m_search; }
  const std::vector<RegistryEntry>& registries() const { return m_registries; }
  const std::map<std::string, std::string>& aliases() const { return m_aliases; }

  /// The entry with the longest prefix matching `name` ("domain/path"), or null.
  const RegistryEntry* find(std::string_view name) const;
  /// Whether the registry host (with port) is marked insecure.
  bool insecure(std::string_view host) const;

  /// The full references a user's text may mean. A text naming a registry
  /// gives itself; a short name gives its alias when one exists, else one
  /// reference per unqualified-search registry (docker.io when none is
  /// configured, so `busybox` = `docker.io/library/busybox:latest`).
  /// Errors: invalid_input for a malformed reference.
  Result<std::vector<oci::Reference>> qualify(std::string_view text) const;

  /// Where to pull `ref` from, in order: its mirrors (those allowed for a
  /// tag or digest pull), then its location. Errors: invalid_input when the
  /// reference's registry (or every source) is blocked.
  Result<std::vector<PullSource>> pull_sources(const oci::Reference& ref) const;

 private:
  std::vector<std::string> m_search;
  bool m_search_set = false;
  std::vector<RegistryEntry> m_registries;
  std::map<std::string, std::string> m_aliases;
};

}  // namespace kiln::registry
