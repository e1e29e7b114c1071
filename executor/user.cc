#include "executor/user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cerrno>

#include "executor/mounts.h"
#include "executor/safe_path.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor {

namespace {

constexpr uint64_t k_max_id = 0x7FFFFFFF;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<PasswdEntry> parse_passwd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : split(text, '\n')) {
    auto f = split(line, ':');
    if (f.size() < 4 || f[0].empty() || f[0][0] == '#') {
      continue;
    }
    auto uid = parse_uint(f[2]);
    auto gid = parse_uint(f[3]);
    if (!uid || !gid || *uid > k_max_id || *gid > k_max_id) {
      continue;
    }
    out.push_back({f[0], static_cast<uint32_t>(*uid), static_cast<uint32_t>(*gid), f.size() > 5 ? f[5] : ""});
  }
  return out;
}

std::vector<GroupEntry> parse_group(const std::string& text) {
  std::vector<GroupEntry> out;
  for (const auto& line : split(text, '\n')) {
    auto f = split(line, ':');
    if (f.size() < 3 || f[0].empty() || f[0][0] == '#') {
      continue;
    }
    auto gid = parse_uint(f[2]);
    if (!gid || *gid > k_max_id) {
      continue;
    }
    GroupEntry g{f[0], static_cast<uint32_t>(*gid), {}};
    if (f.size() > 3 && !trim(f[3]).empty()) {
      for (const auto& m : split(f[3], ',')) {
        g.members.emplace_back(trim(m));
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::optional<uint32_t>> numeric_id(std::string_view s, const char* what) {
  auto n = parse_uint(s);
  if (!n) {
    return std::optional<uint32_t>();
  }
  if (*n > k_max_id) {
    return Error(ErrorCode::invalid_input, cat(what, " `", s, "` is out of range"));
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(*n));
}

// What an overlay lookup of one path in one layer found.
enum class Found { file, absent, hidden };

bool is_whiteout_at(int dir_fd, const char* name) {
  struct stat st {};
  return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == makedev(0, 0);
}

// Looks `path` up in one layer; `hide` is set when this layer hides the
// layers below (whiteout on the way, or an opaque directory).
Result<Found> lookup_in_layer(const std::string& layer, const std::vector<std::string>& parts,
                              std::string* contents) {
  KILN_TRY_ASSIGN(UniqueFd root, open_file(layer, O_PATH | O_DIRECTORY));
  std::string prefix = "/";
  Found result = Found::absent;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto parent = open_in_root(root.get(), prefix, O_RDONLY | O_DIRECTORY);
    if (!parent) {
      return parent.error().code() == ErrorCode::not_found ? result : Result<Found>(std::move(parent).error());
    }
    if (is_whiteout_at(parent->get(), parts[i].c_str())) {
      return Found::hidden;
    }
    char value[4] = {};
    if (i > 0 && ::fgetxattr(parent->get(), k_opaque_xattr, value, sizeof value) == 1 && value[0] == 'y') {
      result = Found::hidden;  // below this dir, lower layers do not count
    }
    prefix += (i == 0 ? "" : "/") + parts[i];
  }
  auto fd = open_in_root(root.get(), prefix, O_RDONLY);
  if (!fd) {
    return fd.error().code() == ErrorCode::not_found ? result : Result<Found>(std::move(fd).error());
  }
  KILN_TRY_ASSIGN(*contents, read_all(fd->get()));
  return Found::file;
}

}  // namespace

Result<std::optional<std::string>> read_file_in_layers(const std::vector<std::string>& layers,
                                                       std::string_view path) {
  auto parts = path_components(relative_in_root(path));
  for (const auto& layer : layers) {
    std::string contents;
    KILN_TRY_ASSIGN(Found found, lookup_in_layer(layer, parts, &contents).context(cat("read `", path, "`")));
    if (found == Found::file) {
      return std::optional<std::string>(std::move(contents));
    }
    if (found == Found::hidden) {
      break;
    }
  }
  return std::optional<std::string>();
}

Result<ResolvedUser> resolve_user_from(std::string_view user, const std::optional<std::string>& passwd,
                                       const std::optional<std::string>& group) {
  std::string user_arg(user), group_arg;
  if (auto parts = split_once(user, ':')) {
    user_arg = parts->first;
    group_arg = parts->second;
  }
  KILN_TRY_ASSIGN(auto uid_arg, numeric_id(user_arg, "user id"));
  KILN_TRY_ASSIGN(auto gid_arg, numeric_id(group_arg, "group id"));
  ResolvedUser out;
  auto users = parse_passwd(passwd.value_or(""));
  const PasswdEntry* match = nullptr;
  for (const auto& u : users) {
    if ((user_arg.empty() && u.uid == 0) || (uid_arg && u.uid == *uid_arg) ||
        (!user_arg.empty() && !uid_arg && u.name == user_arg)) {
      match = &u;
      break;
    }
  }
  if (match != nullptr) {
    out = {match->uid, match->gid, {}, match->home.empty() ? "/" : match->home, match->name};
  } else if (!user_arg.empty()) {
    if (!uid_arg) {
      return Error(ErrorCode::invalid_input,
                   cat("unable to find user `", user_arg, "`: no matching entries in passwd file"));
    }
    out.uid = *uid_arg;
  }
  auto groups = parse_group(group.value_or(""));
  if (!group_arg.empty()) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) {
      return gid_arg ? g.gid == *gid_arg : g.name == group_arg;
    });
    if (it != groups.end()) {
      out.gid = it->gid;
    } else if (gid_arg) {
      out.gid = *gid_arg;
    } else {
      return Error(ErrorCode::invalid_input,
                   cat("unable to find group `", group_arg, "`: no matching entries in group file"));
    }
  } else if (!out.name.empty()) {
    for (const auto& g : groups) {
      if (std::find(g.members.begin(), g.members.end(), out.name) != g.members.end()) {
        out.groups.push_back(g.gid);
      }
    }
  }
  return out;
}

Result<ResolvedUser> resolve_user(const std::vector<std::string>& layers, std::string_view user) {
  KILN_TRY_ASSIGN(auto passwd, read_file_in_layers(layers, "/etc/passwd"));
  KILN_TRY_ASSIGN(auto group, read_file_in_layers(layers, "/etc/group"));
  return resolve_user_from(user, passwd, group).context(cat("resolve USER `", user, "`"));
}

void add_home_env(std::vector<std::string>& env, const ResolvedUser& user) {
  for (const auto& e : env) {
    if (e.rfind("HOME=", 0) == 0) {
      return;
    }
  }
  env.push_back("HOME=" + user.home);
}

}  // namespace kiln::executor
