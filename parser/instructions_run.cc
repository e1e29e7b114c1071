// RUN typing: --mount (BuildKit runmount.go), --network, --security, --device.
#include <array>

#include "parser/instructions_internal.h"
#include "parser/values.h"
#include "util/strings.h"

namespace kiln::parser::detail {

namespace {

Error mount_error(std::string message) { return Error(ErrorCode::invalid_input, std::move(message)); }

// encoding/csv's reading of one record (no lazy quotes).
Result<std::vector<std::string>> csv_fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (true) {
        if (i >= s.size()) {
          return mount_error(cat("invalid --mount `", s, "`: unterminated quoted field"));
        }
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(s[i++]);
      }
      if (i < s.size() && s[i] != ',') {
        return mount_error(cat("invalid --mount `", s, "`: extraneous `\"` in field"));
      }
    } else {
      size_t end = s.find(',', i);
      field = std::string(s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      if (field.find('"') != std::string::npos) {
        return mount_error(cat("invalid --mount `", s, "`: bare `\"` in non-quoted field"));
      }
      i = end == std::string_view::npos ? s.size() : end;
    }
    out.push_back(std::move(field));
    if (i >= s.size()) {
      break;
    }
    ++i;  // ','
  }
  return out;
}

std::optional<MountType> mount_type(std::string_view v) {
  std::string t = to_lower(v);
  if (t == "bind") return MountType::bind;
  if (t == "cache") return MountType::cache;
  if (t == "tmpfs") return MountType::tmpfs;
  if (t == "secret") return MountType::secret;
  if (t == "ssh") return MountType::ssh;
  return std::nullopt;
}

std::string_view type_name(MountType t) {
  static constexpr std::array<std::string_view, 5> k{"bind", "cache", "tmpfs", "secret", "ssh"};
  return k[static_cast<size_t>(t)];
}

Result<std::optional<uint32_t>> parse_u32(std::string_view key, std::string_view v, int base) {
  errno = 0;
  std::string s(v);
  char* end = nullptr;
  unsigned long long n = std::strtoull(s.c_str(), &end, base);
  if (s.empty() || *end != '\0' || errno != 0 || n > 0xFFFFFFFFULL || s[0] == '-' || s[0] == '+') {
    return mount_error(cat("invalid value `", v, "` for mount option `", key, "`"));
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(n));
}

// Applies one key=value option to m.
Result<void> mount_option(Mount& m, const std::string& key, const std::string& value, bool& ro_auto) {
  auto bad_for_type = [&]() {
    return mount_error(cat("mount option `", key, "` is not valid for type=", type_name(m.type)));
  };
  if (key == "type") {
    return {};
  } else if (key == "target" || key == "dst" || key == "destination") {
    m.target = value;
  } else if (key == "src" || key == "source") {
    m.source = value;
  } else if (key == "from") {
    m.from = value;
  } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
    std::optional<bool> b = parse_go_bool(value);
    if (!b) {
      return mount_error(cat("invalid value `", value, "` for mount option `", key, "`"));
    }
    m.readonly = (key == "readonly" || key == "ro") ? *b : !*b;
    ro_auto = false;
  } else if (key == "required") {
    std::optional<bool> b = parse_go_bool(value);
    if (m.type != MountType::secret && m.type != MountType::ssh) {
      return bad_for_type();
    }
    if (!b) {
      return mount_error(cat("invalid value `", value, "` for mount option `", key, "`"));
    }
    m.required = *b;
  } else if (key == "size") {
    if (m.type != MountType::tmpfs) {
      return bad_for_type();
    }
    KILN_TRY_ASSIGN(m.size, parse_ram_size(value).context("mount option `size`"));
  } else if (key == "id") {
    m.id = value;
  } else if (key == "sharing") {
    std::string s = to_lower(value);
    if (m.type != MountType::cache) {
      return bad_for_type();
    }
    if (s == "shared" || s == "private" || s == "locked") {
      m.sharing = s == "shared" ? MountSharing::shared : s == "private" ? MountSharing::private_ : MountSharing::locked;
    } else {
      return mount_error(cat("unsupported sharing value `", value, "` (use shared, private or locked)"));
    }
  } else if (key == "mode") {
    KILN_TRY_ASSIGN(m.mode, parse_u32(key, value, 8));
  } else if (key == "uid") {
    KILN_TRY_ASSIGN(m.uid, parse_u32(key, value, 10));
  } else if (key == "gid") {
    KILN_TRY_ASSIGN(m.gid, parse_u32(key, value, 10));
  } else if (key == "env") {
    if (m.type != MountType::secret) {
      return bad_for_type();
    }
    m.env = value;
  } else {
    return mount_error(cat("unknown mount option `", key, "`"));
  }
  return {};
}

std::string deferred_stand_in(const std::string& key, const std::string& value) {
  if (key == "uid" || key == "gid" || key == "mode") {
    return "0";
  }
  if (key == "size") {
    return "1";
  }
  if (key == "sharing") {
    return "shared";
  }
  if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw" || key == "required") {
    return "true";
  }
  return value;
}

}  // namespace

Result<Mount> parse_mount(std::string_view spec, const ValueExpander* expand) {
  KILN_TRY_ASSIGN(std::vector<std::string> fields, csv_fields(spec));
  Mount m;
  for (const std::string& f : fields) {
    size_t eq = f.find('=');
    if (eq != std::string::npos && to_lower(f.substr(0, eq)) == "type") {
      std::optional<MountType> t = mount_type(f.substr(eq + 1));
      if (!t) {
        return mount_error(cat("unsupported mount type `", f.substr(eq + 1),
                               "` (use bind, cache, tmpfs, secret or ssh)"));
      }
      m.type = *t;
    }
  }
  bool ro_auto = true;
  for (const std::string& f : fields) {
    size_t eq = f.find('=');
    std::string key = to_lower(f.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
        m.readonly = key == "readonly" || key == "ro";
        ro_auto = false;
      } else if (key == "required" && (m.type == MountType::secret || m.type == MountType::ssh)) {
        m.required = true;
      } else if (key == "required") {
        return mount_error(cat("mount option `required` is not valid for type=", type_name(m.type)));
      } else {
        return mount_error(cat("invalid mount option `", f, "`: expected key=value"));
      }
      continue;
    }
    std::string value = f.substr(eq + 1);
    if (key == "from" && value.find('$') != std::string::npos && value.find('$') + 1 != value.size()) {
      return mount_error("mount option `from` doesn't support variable expansion, define an alias stage instead");
    }
    if (expand != nullptr) {
      KILN_TRY_ASSIGN(value, (*expand)(value));
    } else if (needs_expansion(value)) {
      // The value is checked after expansion; check the option name and its
      // type now with a valid stand-in (the field holds it until then).
      value = deferred_stand_in(key, value);
    }
    KILN_TRY(mount_option(m, key, value, ro_auto));
  }
  if (ro_auto) {
    m.readonly = !(m.type == MountType::cache || m.type == MountType::tmpfs);
  }
  if (m.type == MountType::secret) {
    if (!m.from.empty()) {
      return mount_error("secret mount should not have a from");
    }
    if (m.sharing != MountSharing::shared) {
      return mount_error("secret mount should not define sharing");
    }
    if (m.source.empty() && m.target.empty() && m.id.empty() && !m.env) {
      return mount_error("secret mount needs one of id, target, source or env");
    }
  } else if (m.type != MountType::ssh && m.target.empty()) {
    return mount_error(cat("mount type=", type_name(m.type), " needs a target (`target=/path`)"));
  }
  return m;
}

}  // namespace kiln::parser::detail

namespace kiln::parser {

Result<Mount> parse_mount_value(std::string_view spec) {
  detail::ValueExpander literal = [](std::string_view v) -> Result<std::string> { return std::string(v); };
  return detail::parse_mount(spec, &literal);
}

}  // namespace kiln::parser

namespace kiln::parser::detail {

Result<InstructionValue> type_run(const Node& node) {
  static constexpr std::array<FlagSpec, 4> k_flags{{
      {"device", FlagType::strings},
      {"mount", FlagType::strings},
      {"network", FlagType::string},
      {"security", FlagType::string},
  }};
  KILN_TRY_ASSIGN(FlagValues flags, node_flags(node, k_flags));
  RunInstr r;
  r.cmd = command_line(node);
  r.mount_specs = flags.get_all("mount");
  for (const std::string& spec : r.mount_specs) {
    Result<Mount> m = parse_mount(spec, nullptr);
    if (!m) {
      return node_error(node, cat("invalid --mount=", spec, ": ", m.error().message()), "--mount");
    }
    r.mounts.push_back(std::move(*m));
  }
  if (flags.has("network")) {
    std::string n = flags.get("network");
    if (n != "default" && n != "none" && n != "host") {
      return node_error(node, cat("unsupported network mode `", n, "` (use default, none or host)"), "--network");
    }
    r.network = n == "default" ? NetworkMode::default_ : n == "none" ? NetworkMode::none : NetworkMode::host;
  }
  if (flags.has("security")) {
    std::string s = flags.get("security");
    if (s != "sandbox" && s != "insecure") {
      return node_error(node, cat("unsupported security mode `", s, "` (use sandbox or insecure)"), "--security");
    }
    r.security = s == "sandbox" ? SecurityMode::sandbox : SecurityMode::insecure;
  }
  r.devices = flags.get_all("device");
  return r;
}

}  // namespace kiln::parser::detail
