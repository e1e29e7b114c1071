#include "tests/support/run_as_user.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {

namespace {

std::optional<TestUser> lookup(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return TestUser{name, found->pw_uid, found->pw_gid};
}

}  // namespace

Result<std::optional<TestUser>> find_or_create_user(const std::string& name, SubordinateIds subids, std::string* why) {
  if (auto user = lookup(name)) {
    return user;
  }
  if (::getuid() != 0) {
    *why = cat("user `", name, "` does not exist and only root can create it");
    return std::optional<TestUser>();
  }
  std::vector<std::string> argv = {"useradd", "--create-home"};
  if (subids == SubordinateIds::no) {
    argv.insert(argv.end(), {"-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"});
  }
  argv.push_back(name);
  auto res = run_program(argv);
  if (!res || res->exit_status != 0) {
    *why = cat("create user `", name, "` with useradd: ", res ? res->stderr_data : res.error().render());
    return std::optional<TestUser>();
  }
  return lookup(name);
}

bool has_subordinate_ids(const TestUser& user) {
  auto listed = [&](const char* file) {
    auto text = read_file_if_exists(file);
    if (!text || !*text) {
      return false;
    }
    for (const auto& line : split(**text, '\n')) {
      auto owner = split_once(line, ':');
      if (owner && (owner->first == user.name || owner->first == std::to_string(user.uid))) {
        return true;
      }
    }
    return false;
  };
  return listed("/etc/subuid") && listed("/etc/subgid");
}

Result<SharedBinaries> SharedBinaries::create(const std::vector<std::string>& files) {
  char tmpl[] = "/tmp/kiln-shared-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return Error::from_errno("create a shared directory under /tmp");
  }
  SharedBinaries shared;
  shared.m_dir = tmpl;
  if (::chmod(tmpl, 0755) != 0) {
    return Error::from_errno(cat("chmod `", tmpl, "`"));
  }
  for (const auto& f : files) {
    KILN_TRY_ASSIGN(std::string data, read_file(f));
    std::string to = shared.path(f);
    KILN_TRY(write_file(to, data, 0755));
    ::chmod(to.c_str(), 0755);
  }
  return shared;
}

SharedBinaries::SharedBinaries(SharedBinaries&& other) noexcept : m_dir(std::move(other.m_dir)) {
  other.m_dir.clear();
}

SharedBinaries::~SharedBinaries() {
  if (!m_dir.empty()) {
    log_warning_and_drop(remove_tree(m_dir));
  }
}

std::string SharedBinaries::path(const std::string& file) const { return path_join(m_dir, path_basename(file)); }

Result<ProgramResult> run_as_user(const TestUser& user, const std::vector<std::string>& argv,
                                  const std::vector<std::string>& extra_env) {
  std::vector<std::string> full = {"setpriv", cat("--reuid=", user.uid), cat("--regid=", user.gid),
                                   "--init-groups", "--reset-env", "env"};
  full.insert(full.end(), extra_env.begin(), extra_env.end());
  full.insert(full.end(), argv.begin(), argv.end());
  ProgramOptions options;
  options.cwd = "/tmp";
  return run_program(full, options);
}

}  // namespace kiln::test
