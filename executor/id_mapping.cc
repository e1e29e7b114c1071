// The id-mapping half of user_namespace.h: parsing /etc/subuid, computing the
// mapping kiln uses, and reading the one in use.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "executor/defaults.h"
#include "executor/user_namespace.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace kiln::executor {

namespace {

std::optional<uint32_t> map_id(const std::vector<IdRange>& ranges, uint32_t id) {
  for (const auto& r : ranges) {
    if (id >= r.container && id - r.container < r.count) {
      return r.host + (id - r.container);
    }
  }
  return std::nullopt;
}

std::optional<SubordinateRange> find_range(const std::vector<SubordinateRange>& ranges,
                                           const std::string& name, uint32_t uid) {
  std::string uid_text = std::to_string(uid);
  for (const auto& r : ranges) {
    if (r.count > 0 && ((!name.empty() && r.owner == name) || r.owner == uid_text)) {
      return r;
    }
  }
  return std::nullopt;
}

bool overlaps(uint64_t a_start, uint64_t a_count, uint64_t b_start, uint64_t b_count) {
  return a_start < b_start + b_count && b_start < a_start + a_count;
}

// The first free block for root (defaults.h documents the rule).
Result<uint32_t> free_root_block(const IdMappingInputs& in) {
  auto ranges = parse_subordinate_ids(in.subuid);
  auto more = parse_subordinate_ids(in.subgid);
  ranges.insert(ranges.end(), more.begin(), more.end());
  const uint64_t count = defaults::k_root_range_count;
  for (uint64_t start = defaults::k_root_range_start; start + count <= 0xFFFFFFFEull; start += count) {
    bool busy = std::any_of(ranges.begin(), ranges.end(), [&](const SubordinateRange& r) {
      return overlaps(start, count, r.start, r.count);
    });
    busy = busy || std::any_of(in.used_ids.begin(), in.used_ids.end(),
                               [&](uint32_t id) { return id >= start && id < start + count; });
    if (!busy) {
      return static_cast<uint32_t>(start);
    }
  }
  return Error(ErrorCode::invalid_input, "find a free subordinate id range for root")
      .with_hint("Add a range for root to /etc/subuid and /etc/subgid, e.g. `root:1000000000:65536`.");
}

Result<IdRange> root_range(const IdMappingInputs& in, const std::string& file_text, const char* file) {
  auto own = find_range(parse_subordinate_ids(file_text), "root", 0);
  if (own) {
    if (own->start == 0) {
      return Error(ErrorCode::invalid_input,
                   cat("use root's range in ", file, ": it starts at host id 0, and a build step never holds host root"));
    }
    return IdRange{0, own->start, own->count};
  }
  KILN_TRY_ASSIGN(uint32_t start, free_root_block(in));
  return IdRange{0, start, defaults::k_root_range_count};
}

std::string single_id_warning(const IdMappingInputs& in, const std::string& why) {
  std::string name = in.user_name.empty() ? std::to_string(in.uid) : in.user_name;
  return cat("running in single-id mode: ", why,
             "; only container root exists, so USER other than root and chown to other ids fail. "
             "Add a subordinate id range with `sudo usermod --add-subuids 100000-165535 --add-subgids "
             "100000-165535 ", name, "` (package uidmap provides newuidmap/newgidmap)");
}

}  // namespace

uint32_t IdMapping::host_root_uid() const { return map_id(uids, 0).value_or(0); }
uint32_t IdMapping::host_root_gid() const { return map_id(gids, 0).value_or(0); }
bool IdMapping::maps_uid(uint32_t id) const { return map_id(uids, id).has_value(); }
bool IdMapping::maps_gid(uint32_t id) const { return map_id(gids, id).has_value(); }
std::optional<uint32_t> IdMapping::host_uid(uint32_t id) const { return map_id(uids, id); }
std::optional<uint32_t> IdMapping::host_gid(uint32_t id) const { return map_id(gids, id); }

std::string IdMapping::format(const std::vector<IdRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    out += cat(r.container, " ", r.host, " ", r.count, "\n");
  }
  return out;
}

std::vector<SubordinateRange> parse_subordinate_ids(const std::string& text) {
  std::vector<SubordinateRange> out;
  for (const auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto parts = split(line, ':');
    if (parts.size() != 3) {
      continue;
    }
    auto start = parse_uint(parts[1]);
    auto count = parse_uint(parts[2]);
    if (parts[0].empty() || !start || !count || *start > 0xFFFFFFFFull || *count > 0xFFFFFFFFull) {
      continue;
    }
    out.push_back({parts[0], static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)});
  }
  return out;
}

Result<IdMappingInputs> read_id_mapping_inputs() {
  IdMappingInputs in;
  in.uid = ::getuid();
  in.gid = ::getgid();
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (::getpwuid_r(in.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    in.user_name = found->pw_name;
  }
  KILN_TRY_ASSIGN(auto subuid, read_file_if_exists("/etc/subuid"));
  KILN_TRY_ASSIGN(auto subgid, read_file_if_exists("/etc/subgid"));
  in.subuid = subuid.value_or("");
  in.subgid = subgid.value_or("");
  for (const char* file : {"/etc/passwd", "/etc/group"}) {
    KILN_TRY_ASSIGN(auto text, read_file_if_exists(file));
    for (const auto& line : split(text.value_or(""), '\n')) {
      auto fields = split(line, ':');
      if (fields.size() >= 3) {
        if (auto id = parse_uint(fields[2]); id && *id <= 0xFFFFFFFFull) {
          in.used_ids.push_back(static_cast<uint32_t>(*id));
        }
      }
    }
  }
  in.have_newidmap = !find_program("newuidmap").empty() && !find_program("newgidmap").empty();
  return in;
}

Result<IdMapping> compute_id_mapping(const IdMappingInputs& in) {
  IdMapping m;
  if (in.uid == 0) {
    m.mode = MappingMode::root_range;
    KILN_TRY_ASSIGN(IdRange u, root_range(in, in.subuid, "/etc/subuid"));
    KILN_TRY_ASSIGN(IdRange g, root_range(in, in.subgid, "/etc/subgid"));
    m.uids = {u};
    m.gids = {g};
    return m;
  }
  auto su = find_range(parse_subordinate_ids(in.subuid), in.user_name, in.uid);
  auto sg = find_range(parse_subordinate_ids(in.subgid), in.user_name, in.uid);
  if (su && sg && in.have_newidmap) {
    m.mode = MappingMode::subordinate;
    m.uids = {{0, in.uid, 1}, {1, su->start, su->count}};
    m.gids = {{0, in.gid, 1}, {1, sg->start, sg->count}};
    return m;
  }
  m.mode = MappingMode::single_id;
  m.uids = {{0, in.uid, 1}};
  m.gids = {{0, in.gid, 1}};
  std::string who = in.user_name.empty() ? std::to_string(in.uid) : in.user_name;
  if (!su || !sg) {
    m.warning = single_id_warning(in, cat("no subordinate ids for user `", who, "` in ",
                                          !su ? "/etc/subuid" : "/etc/subgid"));
  } else {
    m.warning = single_id_warning(in, "newuidmap/newgidmap are not installed");
  }
  return m;
}

Result<IdMapping> compute_id_mapping() {
  KILN_TRY_ASSIGN(IdMappingInputs in, read_id_mapping_inputs());
  return compute_id_mapping(in);
}

namespace {

Result<std::vector<IdRange>> read_map(const char* path) {
  KILN_TRY_ASSIGN(std::string text, read_file(path));
  std::vector<IdRange> out;
  for (const auto& line : split(text, '\n')) {
    std::vector<std::string> f;
    for (auto& part : split(std::string(trim(line)), ' ')) {
      if (!part.empty()) {
        f.push_back(part);
      }
    }
    if (f.size() != 3) {
      continue;
    }
    auto a = parse_uint(f[0]), b = parse_uint(f[1]), c = parse_uint(f[2]);
    if (a && b && c) {
      out.push_back({static_cast<uint32_t>(*a), static_cast<uint32_t>(*b), static_cast<uint32_t>(*c)});
    }
  }
  return out;
}

std::optional<MappingMode> marker_mode() {
  const char* v = std::getenv(k_userns_env);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (std::strcmp(v, "subordinate") == 0) {
    return MappingMode::subordinate;
  }
  if (std::strcmp(v, "single_id") == 0) {
    return MappingMode::single_id;
  }
  if (std::strcmp(v, "root_range") == 0) {
    return MappingMode::root_range;
  }
  return std::nullopt;
}

}  // namespace

bool in_kiln_namespace() {
  if (!marker_mode()) {
    return false;
  }
  auto uids = read_map("/proc/self/uid_map");
  // The initial namespace maps everything to itself; a marker inherited
  // into it (an exported variable) does not count.
  return uids && !(uids->size() == 1 && (*uids)[0] == IdRange{0, 0, 0xFFFFFFFFu});
}

Result<IdMapping> current_id_mapping() {
  if (!in_kiln_namespace()) {
    return Error(ErrorCode::invalid_input, "read kiln's id mapping: not inside kiln's user namespace");
  }
  IdMapping m;
  m.mode = *marker_mode();
  KILN_TRY_ASSIGN(m.uids, read_map("/proc/self/uid_map"));
  KILN_TRY_ASSIGN(m.gids, read_map("/proc/self/gid_map"));
  return m;
}

}  // namespace kiln::executor
