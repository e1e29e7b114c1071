#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/fd.h"
#include "util/file.h"
#include "util/strings.h"

extern char** environ;

namespace kiln {

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : "";
  }
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (const auto& dir : split(p, ':')) {
    std::string cand = path_join(dir.empty() ? "." : dir, name);
    if (::access(cand.c_str(), X_OK) == 0) {
      return cand;
    }
  }
  return "";
}

namespace {
struct Pipe {
  UniqueFd r, w;
};
Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error::from_errno("pipe");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}
}  // namespace

Result<ProgramResult> run_program(const std::vector<std::string>& argv, const ProgramOptions& options) {
  KILN_ASSERT(!argv.empty());
  std::string prog = find_program(argv[0]);
  if (prog.empty()) {
    return Error(ErrorCode::not_found, cat("program `", argv[0], "` not found in PATH"));
  }
  KILN_TRY_ASSIGN(Pipe in, make_pipe());
  KILN_TRY_ASSIGN(Pipe out, make_pipe());
  KILN_TRY_ASSIGN(Pipe err, make_pipe());

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.r.get(), 0);
  if (options.capture_stdout == Capture::yes) {
    posix_spawn_file_actions_adddup2(&fa, out.w.get(), 1);
  }
  if (options.capture_stderr == Capture::yes) {
    posix_spawn_file_actions_adddup2(&fa, err.w.get(), 2);
  }
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&fa, options.cwd.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const auto& a : argv) {
    cargv.push_back(const_cast<char*>(a.c_str()));
  }
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : options.env) {
    cenv.push_back(const_cast<char*>(e.c_str()));
  }
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, prog.c_str(), &fa, &attr, cargv.data(), options.env.empty() ? environ : cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Error(ErrorCode::syscall, cat("start `", argv[0], "`"), rc);
  }
  in.r.reset();
  out.w.reset();
  err.w.reset();

  ProgramResult result;
  std::string_view to_write = options.stdin_data;
  if (to_write.empty()) {
    in.w.reset();
  } else {
    ::fcntl(in.w.get(), F_SETFL, O_NONBLOCK);
  }
  if (options.capture_stdout == Capture::no) {
    out.r.reset();
  }
  if (options.capture_stderr == Capture::no) {
    err.r.reset();
  }
  char buf[65536];
  while (in.w || out.r || err.r) {
    struct pollfd pfd[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.w) {
      idx_in = n;
      pfd[n++] = {in.w.get(), POLLOUT, 0};
    }
    if (out.r) {
      idx_out = n;
      pfd[n++] = {out.r.get(), POLLIN, 0};
    }
    if (err.r) {
      idx_err = n;
      pfd[n++] = {err.r.get(), POLLIN, 0};
    }
    if (::poll(pfd, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (idx_in >= 0 && pfd[idx_in].revents != 0) {
      ssize_t w = ::write(in.w.get(), to_write.data(), to_write.size());
      if (w > 0) {
        to_write.remove_prefix(static_cast<size_t>(w));
      }
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        to_write = {};
      }
      if (to_write.empty()) {
        in.w.reset();
      }
    }
    auto drain = [&](int idx, UniqueFd& fd, std::string& sink) {
      if (idx >= 0 && pfd[idx].revents != 0) {
        ssize_t r = ::read(fd.get(), buf, sizeof buf);
        if (r > 0) {
          sink.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
          fd.reset();
        }
      }
    };
    drain(idx_out, out.r, result.stdout_data);
    drain(idx_err, err.r, result.stderr_data);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Error::from_errno(cat("wait for `", argv[0], "`"));
    }
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace kiln
