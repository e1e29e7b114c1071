#include "executor/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "executor/defaults.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor {

CapabilitySet CapabilitySet::buildkit_default() {
  CapabilitySet set;
  for (int cap : defaults::k_capabilities) {
    set.add(cap);
  }
  return set;
}

int last_capability() {
  static const int last = [] {
    auto text = read_file("/proc/sys/kernel/cap_last_cap");
    if (text) {
      if (auto n = parse_int(trim(*text)); n && *n > 0 && *n < 64) {
        return static_cast<int>(*n);
      }
    }
    return static_cast<int>(CAP_LAST_CAP);
  }();
  return last;
}

CapabilitySet CapabilitySet::all() {
  CapabilitySet set;
  for (int cap = 0; cap <= last_capability(); ++cap) {
    set.add(cap);
  }
  return set;
}

std::vector<std::string> CapabilitySet::names() const {
  std::vector<std::string> out;
  for (int cap = 0; cap < 64; ++cap) {
    if (!contains(cap)) {
      continue;
    }
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    std::string upper = name != nullptr ? name : cat("cap_", cap);
    cap_free(name);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    out.push_back(std::move(upper));
  }
  return out;
}

Result<int> parse_capability(std::string_view name) {
  std::string lower = to_lower(trim(name));
  if (lower.rfind("cap_", 0) != 0) {
    lower = "cap_" + lower;
  }
  cap_value_t value = 0;
  if (lower.size() <= 4 || cap_from_name(lower.c_str(), &value) != 0 || value < 0 ||
      value > last_capability()) {
    return Error(ErrorCode::invalid_input, cat("parse capability `", name, "`: unknown capability"));
  }
  return static_cast<int>(value);
}

Result<CapabilitySet> apply_capability_changes(CapabilitySet base, const std::vector<std::string>& add,
                                               const std::vector<std::string>& drop) {
  auto is_all = [](const std::string& s) { return to_lower(trim(s)) == "all"; };
  CapabilitySet set = base;
  if (std::any_of(drop.begin(), drop.end(), is_all)) {
    set = CapabilitySet();
  }
  if (std::any_of(add.begin(), add.end(), is_all)) {
    set = CapabilitySet::all();
  }
  for (const auto& name : drop) {
    if (!is_all(name)) {
      KILN_TRY_ASSIGN(int cap, parse_capability(name));
      set.remove(cap);
    }
  }
  for (const auto& name : add) {
    if (!is_all(name)) {
      KILN_TRY_ASSIGN(int cap, parse_capability(name));
      set.add(cap);
    }
  }
  return set;
}

}  // namespace kiln::executor
