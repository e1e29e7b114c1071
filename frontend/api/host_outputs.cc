#include "frontend/api/host_outputs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "cache/store.h"
#include "executor/user_namespace.h"
#include "frontend/api/store_api.h"
#include "solver/ops/copy_engine.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln {

namespace {

constexpr const char* k_staging_env = "_KILN_HOST_OUTPUTS";
volatile sig_atomic_t g_child = 0;

void forward(int sig) {
  if (g_child > 0) {
    ::kill(static_cast<pid_t>(g_child), sig);
  }
}

std::string staged_name(const std::string& destination) {
  return sha256_hex(absolute_path(destination)).substr(0, 32);
}

// Copies a staged file to dest (rename when on the same filesystem).
Result<void> place_file(const std::string& staged, const std::string& dest) {
  if (::rename(staged.c_str(), dest.c_str()) != 0) {
    if (errno != EXDEV) {
      return Error::from_errno(cat("move the output to `", dest, "`"));
    }
    KILN_TRY_ASSIGN(std::string bytes, read_file(staged));
    KILN_TRY(write_file_atomic(dest, bytes));
  }
  if (::lchown(dest.c_str(), ::getuid(), ::getgid()) != 0) {
    return Error::from_errno(cat("chown `", dest, "`"));
  }
  return {};
}

Result<void> place_tree(const std::string& staged, const std::string& dest) {
  KILN_TRY(make_dirs(dest));
  solver::ops::CopyRequest req;
  req.src_root = staged;
  req.spec.sources = {"."};
  req.spec.dest = "/";
  req.dest_root = dest;
  req.owner = std::make_pair(static_cast<uint32_t>(::getuid()), static_cast<uint32_t>(::getgid()));
  KILN_TRY(solver::ops::copy_files(req).context(cat("export to `", dest, "`")));
  return {};
}

// The parent's side: wait for the build, then move what it staged.
[[noreturn]] void wait_and_place(pid_t child, const std::string& staging, const std::vector<std::string>& dests) {
  g_child = child;
  struct sigaction sa {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    ::sigaction(sig, &sa, nullptr);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      std::_Exit(125);
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code == 0) {
    for (const auto& d : dests) {
      std::string staged = path_join(staging, staged_name(d));
      std::string dest = absolute_path(d);
      Result<void> r;
      if (is_directory(staged)) {
        r = place_tree(staged, dest);
      } else if (path_exists(staged)) {
        r = place_file(staged, dest);
      }
      if (!r) {
        std::fprintf(stderr, "Error: %s\n", r.error().render().c_str());
        code = 1;
      }
    }
  }
  log_warning_and_drop(remove_tree(staging));
  std::_Exit(code);
}

}  // namespace

Result<HostOutputs> HostOutputs::prepare(const std::string& store_root, const std::vector<std::string>& destinations) {
  HostOutputs out;
  if (executor::in_kiln_namespace()) {
    if (const char* s = std::getenv(k_staging_env); s != nullptr && *s != '\0') {
      out.m_staging = s;
    }
    return out;
  }
  if (::geteuid() != 0 || destinations.empty()) {
    return out;
  }
  KILN_TRY_ASSIGN(executor::IdMapping mapping, executor::compute_id_mapping());
  std::string root = absolute_path(store_root.empty() ? default_store_root() : store_root);
  KILN_TRY_ASSIGN(ImageStore store, ImageStore::open(root));
  KILN_TRY_ASSIGN(TempDir staging, TempDir::create(store.store().tmp_dir(), "host-outputs-"));
  if (::chown(staging.path().c_str(), mapping.host_root_uid(), mapping.host_root_gid()) != 0) {
    return Error::from_errno(cat("chown `", staging.path(), "`"));
  }
  ::setenv(k_staging_env, staging.path().c_str(), 1);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::from_errno("fork for kiln's namespace");
  }
  if (pid > 0) {
    wait_and_place(pid, staging.release(), destinations);
  }
  out.m_staging = staging.release();  // the parent removes it
  return out;  // the child enters the namespace next
}

std::string HostOutputs::path_for(const std::string& destination) const {
  if (m_staging.empty()) {
    return absolute_path(destination);
  }
  return path_join(m_staging, staged_name(destination));
}

}  // namespace kiln
