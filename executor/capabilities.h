// Capability sets for the sandbox: BuildKit's default 14, plus the
// --cap-add/--cap-drop arithmetic (Docker semantics). Names are parsed and
// printed through libcap (cap_from_name/cap_to_name); libcap types stay in
// the .cc file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

/// A set of Linux capabilities as a bit mask (bit n = capability n; kernel
/// capabilities fit in 64 bits).
class CapabilitySet {
 public:
  constexpr CapabilitySet() = default;
  constexpr explicit CapabilitySet(uint64_t bits) : m_bits(bits) {}

  /// BuildKit's default set (defaults::k_capabilities).
  static CapabilitySet buildkit_default();
  /// Every capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
  static CapabilitySet all();

  bool contains(int cap) const { return cap >= 0 && cap < 64 && (m_bits >> cap) & 1; }
  void add(int cap) { m_bits |= uint64_t{1} << cap; }
  void remove(int cap) { m_bits &= ~(uint64_t{1} << cap); }
  uint64_t bits() const { return m_bits; }
  bool operator==(const CapabilitySet&) const = default;

  /// Upper-case names with the CAP_ prefix, in capability-number order.
  std::vector<std::string> names() const;

 private:
  uint64_t m_bits = 0;
};

/// Parses one capability name as Docker accepts it: case-insensitive, with
/// or without the CAP_ prefix ("net_admin", "CAP_NET_ADMIN"). Errors:
/// invalid_input naming the capability.
Result<int> parse_capability(std::string_view name);

/// Applies --cap-add and --cap-drop to `base` in Docker's order: "ALL" in
/// drops empties the set first, "ALL" in adds fills it, then named drops,
/// then named adds (so `--cap-drop ALL --cap-add CHOWN` yields {CHOWN}).
/// Errors: invalid_input for an unknown name.
Result<CapabilitySet> apply_capability_changes(CapabilitySet base, const std::vector<std::string>& add,
                                               const std::vector<std::string>& drop);

/// Highest capability number the running kernel supports.
int last_capability();

}  // namespace kiln::executor
