// The kiln-sandbox helper's side of the sandbox (STYLE.md S2). Internal to
// executor/: run_sandbox starts the helper, the helper calls
// sandbox_child_main.
#pragma once

#include <string>
#include <vector>

#include "executor/spec_wire.h"
#include "util/fd.h"
#include "util/result.h"

namespace kiln::executor {

/// State shared by the child's steps (child_mounts.cc, child_steps.cc).
struct ChildContext {
  ChildContext(const ChildSpec& s, int fd) : spec(s), sync_fd(fd) {}
  const ChildSpec& spec;
  int sync_fd;
  std::string root_path;              ///< where the new root is mounted, before pivot_root
  UniqueFd root_fd;                   ///< O_PATH fd of the new root
  UniqueFd dev_fd;                    ///< the new /dev tmpfs (for /etc/hosts & co.)
  std::vector<std::string> created;   ///< mount-target stubs created, relative to the root
  std::string command_path;           ///< argv[0] resolved in PATH (step 10)
};

/// Runs the setup sequence and execs the command. Returns only on failure,
/// after sending the created stubs and the Error (with the failed step as
/// context) on sync_fd.
Result<void> sandbox_child_main(const ChildSpec& spec, int sync_fd);

// ---- steps (child_mounts.cc) -----------------------------------------------
Result<void> make_mounts_private(ChildContext& ctx);
Result<void> mount_rootfs(ChildContext& ctx);
Result<void> mount_proc(ChildContext& ctx);
Result<void> mount_dev(ChildContext& ctx);
Result<void> mount_sys(ChildContext& ctx);
Result<void> bind_etc_files(ChildContext& ctx);
Result<void> apply_spec_mounts(ChildContext& ctx);
Result<void> mask_paths(ChildContext& ctx);
Result<void> pivot_into_root(ChildContext& ctx);

// ---- steps (child_steps.cc) ----------------------------------------------
Result<void> set_hostname(ChildContext& ctx);
Result<void> bring_up_loopback(ChildContext& ctx);
Result<void> set_rlimits(ChildContext& ctx);
Result<void> set_umask(ChildContext& ctx);
Result<void> enter_working_dir(ChildContext& ctx);
Result<void> load_seccomp(ChildContext& ctx);
Result<void> drop_bounding_set(ChildContext& ctx);
Result<void> switch_user(ChildContext& ctx);
Result<void> set_capabilities(ChildContext& ctx);
Result<void> set_no_new_privs(ChildContext& ctx);
Result<void> close_extra_fds(ChildContext& ctx);
Result<void> resolve_command(ChildContext& ctx);
Result<void> report_setup_ok(ChildContext& ctx);
Result<void> exec_command(ChildContext& ctx);

}  // namespace kiln::executor
