// ChildProcess: the one owner of a child's pid and pidfd (STYLE.md R1, crun's
// cleanup_pid). A sandbox is a ChildProcess plus its sync socket (R2).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kiln::executor {

class ChildProcess {
 public:
  ChildProcess() = default;
  /// Takes ownership of a running child.
  ChildProcess(pid_t pid, UniqueFd pidfd) : m_pid(pid), m_pidfd(std::move(pidfd)), m_reaped(false) {}
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// Kills (SIGKILL) and reaps the child if it has not been reaped.
  ~ChildProcess();

  pid_t pid() const { return m_pid; }
  /// Readable (POLLIN) once the child has exited.
  int pidfd() const { return m_pidfd.get(); }
  bool reaped() const { return m_reaped; }

  /// Sends a signal through the pidfd (no pid-reuse race).
  Result<void> kill(int sig);
  /// Waits for the child and returns its exit code, or 128+N when signal N
  /// killed it. Retries EINTR.
  Result<int> wait();

 private:
  pid_t m_pid = -1;
  UniqueFd m_pidfd;
  bool m_reaped = true;
};

/// What spawn_in_namespaces starts.
struct SpawnRequest {
  int program_fd = -1;           ///< O_PATH fd of a static executable (execveat)
  std::vector<std::string> argv;
  uint64_t clone_flags = 0;      ///< CLONE_NEW* namespaces for the child
  int stdin_fd = -1;             ///< become the child's 0, 1, 2 and 3
  int stdout_fd = -1;
  int stderr_fd = -1;
  int sync_fd = -1;
};

/// Starts request.program_fd as a child in new namespaces: clone3 with
/// CLONE_PIDFD (falling back to clone when clone3 is unavailable), then, in
/// the child, parent-death signal SIGKILL, stdio and the sync socket on
/// fds 0-3, execveat with an empty environment. All signals stay blocked in
/// the child until the program resets them. If execveat fails, the child
/// exits with the errno as its status. Errors: sandbox with the user
/// namespace hint when clone is refused.
Result<ChildProcess> spawn_in_namespaces(const SpawnRequest& request);

}  // namespace kiln::executor
