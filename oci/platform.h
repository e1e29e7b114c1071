// Platforms (OCI image-spec image-index.md "platform"; GOOS/GOARCH names).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/json.h"
#include "util/result.h"

namespace kiln::oci {

struct Platform {
  std::string architecture;  ///< GOARCH: amd64, arm64, arm, 386, ppc64le, s390x, riscv64
  std::string os;            ///< GOOS: linux
  std::string variant;       ///< v7, v8, ... ("" when none)
  std::string os_version;
  std::vector<std::string> os_features;

  /// "linux/amd64" or "linux/arm/v7".
  std::string str() const;
  /// Equal after normalization (arm64 variant v8 == none, ...).
  bool matches(const Platform& other) const;
  bool operator==(const Platform&) const = default;
};

/// The platform kiln runs on (uname machine mapped to GOARCH).
Platform host_platform();
/// Parses "os/arch[/variant]" or "arch"; normalizes aliases (x86_64 -> amd64,
/// aarch64 -> arm64). Errors: invalid_input naming the text.
Result<Platform> parse_platform(std::string_view text);

Json platform_to_json(const Platform& p);
Result<Platform> platform_from_json(const Json& j);

}  // namespace kiln::oci
