#include "tests/support/busybox_rootfs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace kiln::test {

std::string busybox_path() {
  const char* env = std::getenv("KILN_TEST_BUSYBOX");
  return env != nullptr && *env != '\0' ? env : "/bin/busybox";
}

namespace {

Result<void> copy_executable(const std::string& from, const std::string& to) {
  KILN_TRY_ASSIGN(std::string data, read_file(from));
  KILN_TRY(write_file(to, data, 0755));
  if (::chmod(to.c_str(), 0755) != 0) {
    return Error::from_errno(cat("chmod `", to, "`"));
  }
  return {};
}

const char* const k_passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "builder:x:1000:1000:builder:/home/builder:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

const char* const k_group =
    "root:x:0:\n"
    "tty:x:5:\n"
    "staff:x:50:builder\n"
    "builder:x:1000:\n"
    "nogroup:x:65534:\n";

}  // namespace

Result<void> make_busybox_rootfs(const std::string& dir, const std::vector<std::string>& extra_files,
                                 bool chown_home) {
  for (const char* sub : {"bin", "etc", "tmp", "root", "home/builder"}) {
    KILN_TRY(make_dirs(path_join(dir, sub)));
  }
  ::chmod(path_join(dir, "tmp").c_str(), 01777);
  KILN_TRY(copy_executable(busybox_path(), path_join(dir, "bin/busybox")));
  KILN_TRY_ASSIGN(ProgramResult list, run_program({busybox_path(), "--list"}));
  if (list.exit_status != 0) {
    return Error(ErrorCode::internal, cat("list busybox applets: ", list.stderr_data));
  }
  for (const auto& applet : split(list.stdout_data, '\n')) {
    std::string name(trim(applet));
    if (name.empty() || name == "busybox") {
      continue;
    }
    std::string link = path_join(dir, "bin/" + name);
    if (::symlink("busybox", link.c_str()) != 0 && errno != EEXIST) {
      return Error::from_errno(cat("create applet link `", link, "`"));
    }
  }
  KILN_TRY(write_file(path_join(dir, "etc/passwd"), k_passwd));
  KILN_TRY(write_file(path_join(dir, "etc/group"), k_group));
  if (chown_home && ::chown(path_join(dir, "home/builder").c_str(), 1000, 1000) != 0) {
    return Error::from_errno("chown home/builder");
  }
  for (const auto& file : extra_files) {
    KILN_TRY(copy_executable(file, path_join(dir, path_basename(file))));
  }
  return {};
}

}  // namespace kiln::test
