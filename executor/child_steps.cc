// The process steps of the sandbox setup (sandbox_child.cc lists the order):
// hostname, network, rlimits, umask, working dir, seccomp, identity,
// capabilities, fds and the exec.
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "executor/defaults.h"
#include "executor/safe_path.h"
#include "executor/sandbox_child.h"

namespace kiln::executor {

namespace {

Error step_error(const std::string& what, int err = errno) { return Error(ErrorCode::sandbox, what, err); }

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

// The value of NAME in a "K=V" environment, or nullptr.
const char* env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return e.c_str() + name.size() + 1;
    }
  }
  return nullptr;
}

}  // namespace

Result<void> set_hostname(ChildContext& ctx) {
  const std::string& h = ctx.spec.hostname;
  if (!h.empty() && ::sethostname(h.data(), h.size()) != 0) {
    return step_error("set hostname " + q(h));
  }
  return {};
}

Result<void> bring_up_loopback(ChildContext&) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return step_error("open a socket to configure `lo`");
  }
  UniqueFd sock(fd);
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return step_error("read the flags of `lo`");
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) {
    return step_error("bring up `lo`");
  }
  return {};
}

Result<void> set_rlimits(ChildContext& ctx) {
  for (const auto& l : ctx.spec.rlimits) {
    struct rlimit r {};
    r.rlim_cur = l.soft;
    r.rlim_max = l.hard;
    if (::setrlimit(l.resource, &r) != 0) {
      return step_error("set rlimit " + std::to_string(l.resource));
    }
  }
  return {};
}

Result<void> set_umask(ChildContext& ctx) {
  ::umask(static_cast<mode_t>(ctx.spec.umask));
  return {};
}

Result<void> enter_working_dir(ChildContext& ctx) {
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return step_error("open the new root");
  }
  UniqueFd root_fd(root);
  // RESOLVE_NO_MAGICLINKS (in open_in_root) refuses /proc/self/fd/N and
  // friends, so a leaked fd can never become the working directory.
  auto dir = open_in_root(root_fd.get(), ctx.spec.cwd, O_PATH | O_DIRECTORY);
  if (!dir && dir.error().code() == ErrorCode::not_found) {
    dir = make_dirs_in_root(root_fd.get(), ctx.spec.cwd, 0755, nullptr);
  }
  if (!dir) {
    return std::move(dir).error().wrap("enter working directory " + q(ctx.spec.cwd));
  }
  if (::fchdir(dir->get()) != 0) {
    return step_error("enter working directory " + q(ctx.spec.cwd));
  }
  return {};
}

Result<void> load_seccomp(ChildContext& ctx) {
  const std::string& bpf = ctx.spec.seccomp_bpf;
  if (bpf.empty()) {
    return {};
  }
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(bpf.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(bpf.data()));
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    return step_error("load the seccomp filter");
  }
  return {};
}

Result<void> drop_bounding_set(ChildContext& ctx) {
  for (int cap = 0; cap <= static_cast<int>(cap_max_bits()) - 1; ++cap) {
    if ((ctx.spec.capabilities >> cap) & 1) {
      continue;
    }
    if (cap_drop_bound(static_cast<cap_value_t>(cap)) != 0 && errno != EINVAL) {
      return step_error("drop capability " + std::to_string(cap) + " from the bounding set");
    }
  }
  return {};
}

Result<void> switch_user(ChildContext& ctx) {
  const ChildSpec& s = ctx.spec;
  // Keep the permitted set across the uid change; set_capabilities trims it.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return step_error("set keep-caps");
  }
  if (s.set_groups) {
    std::vector<gid_t> groups(s.groups.begin(), s.groups.end());
    if (::setgroups(groups.size(), groups.data()) != 0) {
      return step_error("set supplementary groups");
    }
  }
  if (::setresgid(s.gid, s.gid, s.gid) != 0) {
    return step_error("switch to gid " + std::to_string(s.gid));
  }
  if (::setresuid(s.uid, s.uid, s.uid) != 0) {
    return step_error("switch to uid " + std::to_string(s.uid));
  }
  // The credential change cleared the parent-death signal; the sandbox must
  // not outlive the kiln thread that started it.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    return step_error("set the parent-death signal");
  }
  return {};
}

Result<void> set_capabilities(ChildContext& ctx) {
  cap_t caps = cap_init();  // all flags clear: inheritable stays empty
  if (caps == nullptr) {
    return step_error("allocate a capability state");
  }
  for (int cap = 0; cap < 64; ++cap) {
    if ((ctx.spec.capabilities >> cap) & 1) {
      cap_value_t v = cap;
      cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
      cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
    }
  }
  int rc = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (rc != 0) {
    return step_error("set capabilities", err);
  }
  if (cap_reset_ambient() != 0 && errno != EINVAL) {
    return step_error("clear the ambient capabilities");
  }
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    return step_error("clear keep-caps");
  }
  return {};
}

Result<void> set_no_new_privs(ChildContext&) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return step_error("set no_new_privs");
  }
  return {};
}

Result<void> close_extra_fds(ChildContext& ctx) {
  // 0-2 are the command's stdio; the sync socket is close-on-exec.
  unsigned first = static_cast<unsigned>(ctx.sync_fd) + 1;
  if (::close_range(first, ~0U, 0) != 0) {
    return step_error("close inherited fds");
  }
  return {};
}

Result<void> resolve_command(ChildContext& ctx) {
  const std::string& name = ctx.spec.argv.at(0);
  if (name.find('/') != std::string::npos) {
    ctx.command_path = name;
    return {};
  }
  const char* path = env_value(ctx.spec.env, "PATH");
  std::string search = path != nullptr ? path : defaults::k_default_path;
  int first_error = ENOENT;
  size_t i = 0;
  while (i <= search.size()) {
    size_t j = search.find(':', i);
    if (j == std::string::npos) {
      j = search.size();
    }
    std::string dir = search.substr(i, j - i);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) {
        ctx.command_path = candidate;
        return {};
      }
      first_error = EACCES;
    }
    i = j + 1;
  }
  return Error(first_error == ENOENT ? ErrorCode::not_found : ErrorCode::sandbox,
               "find " + q(name) + " in PATH " + q(search), first_error);
}

Result<void> report_setup_ok(ChildContext& ctx) {
  if (!ctx.created.empty()) {
    KILN_TRY(send_message(ctx.sync_fd, MessageTag::stubs, encode_strings(ctx.created)));
  }
  return send_message(ctx.sync_fd, MessageTag::ok, "");  // sync 2
}

Result<void> exec_command(ChildContext& ctx) {
  std::vector<char*> argv, envp;
  for (const auto& a : ctx.spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  for (const auto& e : ctx.spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  ::execve(ctx.command_path.c_str(), argv.data(), envp.data());
  int err = errno;
  return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::sandbox, "exec " + q(ctx.command_path), err);
}

}  // namespace kiln::executor
