#include "solver/ops/fetch_source.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/fetch.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

extern char** environ;

namespace kiln::solver::ops {

namespace {

// The file name ADD gives a download (BuildKit's "__unnamed__" when the URL
// path has none).
std::string download_name(const HttpSource& source) {
  std::string name = source.filename;
  if (name.empty() || name == "/" || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return "__unnamed__";
  }
  return name;
}

// git's environment: kiln's own, never prompting, without the system
// config, and with a global config of kiln's (in the work dir) that sets
// safe.directory=* and includes the user's own global config when it is
// readable here. A file:// repository of the invoking user shows an
// unmapped owner inside kiln's namespace, and git before 2.40 honours
// safe.directory only from a global or system file. kiln only fetches from
// it (no hooks, no fsmonitor), so the ownership check is not needed.
Result<std::vector<std::string>> git_env(const std::string& work_dir) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with("GIT_") && !kv.starts_with("HOME=")) {
      env.emplace_back(kv);
    }
  }
  const char* home = std::getenv("HOME");
  bool home_ok = home != nullptr && *home != '\0' && ::access(home, R_OK | X_OK) == 0;
  std::string config = "[safe]\n\tdirectory = *\n";
  if (home_ok) {
    for (const char* rel : {".gitconfig", ".config/git/config"}) {
      std::string user_config = path_join(home, rel);
      if (::access(user_config.c_str(), R_OK) == 0) {
        config += cat("[include]\n\tpath = ", user_config, "\n");
      }
    }
  }
  std::string config_file = path_join(work_dir, "gitconfig");
  KILN_TRY(write_file(config_file, config, 0600));
  env.push_back(cat("HOME=", home_ok ? home : work_dir));
  env.push_back("GIT_CONFIG_GLOBAL=" + config_file);
  env.emplace_back("GIT_TERMINAL_PROMPT=0");
  env.emplace_back("GIT_CONFIG_NOSYSTEM=1");
  env.emplace_back("GIT_ASKPASS=true");
  return env;
}

Result<std::string> git(const std::string& dir, std::vector<std::string> args, const std::vector<std::string>& env) {
  std::vector<std::string> argv = {"git", "-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false",
                                   "-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false"};
  if (!dir.empty()) {
    argv.insert(argv.end(), {"-C", dir});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  ProgramOptions o;
  o.env = env;
  KILN_TRY_ASSIGN(ProgramResult r, run_program(argv, o).context("run `git`"));
  if (r.exit_status != 0) {
    return Error(ErrorCode::invalid_input, cat("`git ", join(args, " "), "` failed (exit code ", r.exit_status,
                                               "): ", trim(r.stderr_data)));
  }
  return std::string(trim(r.stdout_data));
}

// subdir of the checkout, confined to it.
Result<std::string> confined_subdir(const std::string& checkout, const std::string& subdir) {
  std::string clean = path_clean("/" + subdir);
  if (clean == "/") {
    return checkout;
  }
  char real_root[PATH_MAX];
  char real_sub[PATH_MAX];
  std::string wanted = checkout + clean;
  if (::realpath(checkout.c_str(), real_root) == nullptr || ::realpath(wanted.c_str(), real_sub) == nullptr) {
    return Error(ErrorCode::invalid_input, cat("git subdirectory `", subdir, "` does not exist in the checkout"));
  }
  std::string root(real_root);
  std::string sub(real_sub);
  if (sub != root && !sub.starts_with(root + "/")) {
    return Error(ErrorCode::invalid_input, cat("git subdirectory `", subdir, "` leads out of the checkout"));
  }
  if (!is_directory(sub)) {
    return Error(ErrorCode::invalid_input, cat("git subdirectory `", subdir, "` is not a directory"));
  }
  return sub;
}

}  // namespace

Result<FetchedSource> fetch_http_source(const HttpSource& source, const std::string& work_dir) {
  registry::FetchOptions fo;
  if (!source.checksum.empty()) {
    auto d = oci::Digest::parse(source.checksum);
    if (!d) {
      return Error(ErrorCode::invalid_input, cat("invalid --checksum `", source.checksum, "`: expected sha256:<hex>"));
    }
    fo.expected = *d;
  }
  std::string file = path_join(work_dir, download_name(source));
  KILN_TRY_ASSIGN(registry::FetchedFile got, registry::fetch_url_to_file(source.url, file, 0600, fo));
  if (got.mtime) {
    struct timespec times[2] = {{*got.mtime, 0}, {*got.mtime, 0}};
    ::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  return FetchedSource{work_dir, ""};
}

Result<FetchedSource> fetch_git_source(const GitSource& source, const std::string& work_dir) {
  if (find_program("git").empty()) {
    return Error(ErrorCode::not_found, cat("ADD `", source.url, "`: the `git` program is not installed"))
        .with_hint("install git (Debian package `git`)");
  }
  KILN_TRY_ASSIGN(std::vector<std::string> env, git_env(work_dir));
  std::string checkout = path_join(work_dir, "checkout");
  KILN_TRY(git("", {"init", "-q", checkout}, env));
  std::string ref = source.ref.empty() ? "HEAD" : source.ref;
  auto shallow = git(checkout, {"fetch", "-q", "--depth=1", "--no-tags", "--", source.url, ref}, env);
  if (shallow) {
    KILN_TRY(git(checkout, {"checkout", "-q", "FETCH_HEAD"}, env));
  } else {
    // A commit sha the server does not advertise: fetch everything, then look for it.
    KILN_TRY(git(checkout, {"fetch", "-q", "--", source.url, "+refs/heads/*:refs/remotes/origin/*",
                            "+refs/tags/*:refs/tags/*"}, env)
                 .context(cat("fetch `", source.url, "` (", shallow.error().render(), ")")));
    KILN_TRY(git(checkout, {"checkout", "-q", ref, "--"}, env));
  }
  KILN_TRY_ASSIGN(std::string commit, git(checkout, {"rev-parse", "HEAD"}, env));
  if (!source.keep_git_dir) {
    KILN_TRY(remove_tree(path_join(checkout, ".git")));
  }
  KILN_TRY_ASSIGN(std::string dir, confined_subdir(checkout, source.subdir));
  return FetchedSource{dir, cat("git:", commit, source.keep_git_dir ? "+git-dir" : "")};
}

}  // namespace kiln::solver::ops
