#include "oci/platform.h"

#include <sys/utsname.h>

#include "util/strings.h"

namespace kiln::oci {

static std::string normalize_arch(std::string_view a) {
  std::string s = to_lower(a);
  if (s == "x86_64" || s == "x86-64" || s == "amd64") {
    return "amd64";
  }
  if (s == "aarch64" || s == "arm64") {
    return "arm64";
  }
  if (s == "i386" || s == "i686" || s == "386") {
    return "386";
  }
  if (s.starts_with("armv") || s == "arm") {
    return "arm";
  }
  return s;
}

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) {
    out += "/" + variant;
  }
  return out;
}

bool Platform::matches(const Platform& other) const {
  if (normalize_arch(architecture) != normalize_arch(other.architecture) || os != other.os) {
    return false;
  }
  auto norm_variant = [](const Platform& p) {
    if (normalize_arch(p.architecture) == "arm64" && (p.variant.empty() || p.variant == "v8")) {
      return std::string();
    }
    if (normalize_arch(p.architecture) == "amd64" && p.variant == "v1") {
      return std::string();
    }
    return p.variant;
  };
  return norm_variant(*this) == norm_variant(other);
}

Platform host_platform() {
  struct utsname u {};
  ::uname(&u);
  Platform p;
  p.os = "linux";
  p.architecture = normalize_arch(u.machine);
  std::string m = u.machine;
  if (p.architecture == "arm" && m.size() >= 5 && m.starts_with("armv")) {
    p.variant = "v" + m.substr(4, 1);
  }
  return p;
}

Result<Platform> parse_platform(std::string_view text) {
  auto parts = split(to_lower(trim(text)), '/');
  Platform p;
  if (parts.size() == 1 && !parts[0].empty()) {
    p.os = "linux";
    p.architecture = normalize_arch(parts[0]);
  } else if (parts.size() == 2 || parts.size() == 3) {
    p.os = parts[0];
    p.architecture = normalize_arch(parts[1]);
    if (parts.size() == 3) {
      p.variant = parts[2];
    }
  }
  if (p.os.empty() || p.architecture.empty()) {
    return Error(ErrorCode::invalid_input, cat("invalid platform `", text, "`: expected OS/ARCH[/VARIANT]"));
  }
  return p;
}

Json platform_to_json(const Platform& p) {
  Json j = Json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.variant.empty()) {
    j["variant"] = p.variant;
  }
  if (!p.os_version.empty()) {
    j["os.version"] = p.os_version;
  }
  if (!p.os_features.empty()) {
    j["os.features"] = p.os_features;
  }
  return j;
}

Result<Platform> platform_from_json(const Json& j) {
  JsonReader r(j, "platform");
  Platform p;
  p.architecture = r.string("architecture");
  p.os = r.string("os");
  p.variant = r.string("variant");
  p.os_version = r.string("os.version");
  p.os_features = r.opt_strings("os.features").value_or(std::vector<std::string>{});
  KILN_TRY(r.status());
  return p;
}

}  // namespace kiln::oci
