// Running a test binary again as an ordinary user (the userns tests must pass
// for an unprivileged user too, while CI runs as root). Root only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/subprocess.h"

namespace kiln::test {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class SubordinateIds { yes, no };

/// Finds user `name` in /etc/passwd; when absent and we are root, creates it
/// with `useradd --create-home` (with SubordinateIds::no also
/// `-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0`, so it gets no /etc/subuid range).
/// nullopt with `why` set when it cannot (not root, useradd missing/failed).
Result<std::optional<TestUser>> find_or_create_user(const std::string& name, SubordinateIds subids, std::string* why);

/// True when /etc/subuid and /etc/subgid both list a range for the user.
bool has_subordinate_ids(const TestUser& user);

/// A fresh world-readable directory (0755) under /tmp holding copies (0755)
/// of `files`; removed on destruction.
class SharedBinaries {
 public:
  static Result<SharedBinaries> create(const std::vector<std::string>& files);
  SharedBinaries(SharedBinaries&&) noexcept;
  SharedBinaries& operator=(SharedBinaries&&) = delete;
  ~SharedBinaries();
  const std::string& dir() const { return m_dir; }
  /// Path of the copy of `file` (by base name).
  std::string path(const std::string& file) const;

 private:
  SharedBinaries() = default;
  std::string m_dir;
};

/// Runs argv as `user` (setpriv --reuid/--regid/--init-groups --reset-env,
/// then `env` with extra_env), capturing stdout and stderr.
Result<ProgramResult> run_as_user(const TestUser& user, const std::vector<std::string>& argv,
                                  const std::vector<std::string>& extra_env);

}  // namespace kiln::test
