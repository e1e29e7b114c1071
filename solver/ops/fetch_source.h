// Remote sources of ADD (Dockerfile reference, "ADD"; BuildKit's http and
// git sources): one URL downloaded to a file, or a git checkout made with
// the `git` program. Internal to solver/ops; BuildRunner::Impl::fetch_source
// calls these once per source and build.
#pragma once

#include <string>

#include "solver/definition.h"
#include "util/result.h"

namespace kiln::solver::ops {

struct FetchedSource {
  std::string dir;     ///< the directory COPY reads (holding the file, or the checkout)
  /// What the cache key uses for the fetched content: "" = hash the files
  /// like a build context (http); for git "git:<commit sha>[+git-dir]", so
  /// a checkout's volatile .git files never change the key.
  std::string content_digest;
};

/// ADD https://...: downloads into `work_dir` (an empty scratch dir) as
/// `source.filename` (or "__unnamed__"), mode 0600 as Docker documents, its
/// mtime from Last-Modified when sent. With a checksum the bytes must match.
/// Errors: those of registry::fetch_url_to_file, invalid_input for a
/// malformed --checksum.
Result<FetchedSource> fetch_http_source(const HttpSource& source, const std::string& work_dir);

/// ADD git URL: `git init` + `git fetch` of the ref (default branch when
/// empty; a commit sha, branch or tag) + checkout of FETCH_HEAD in
/// `work_dir`, run with no hooks, no terminal prompts and no system config.
/// The result is the checkout's `subdir` (resolved inside the checkout:
/// `..` or a symlink leading out is invalid_input); `.git` is removed unless
/// keep_git_dir. Errors: not_found when `git` is missing; invalid_input when
/// git fails (with its message) or the subdir is missing or escapes.
Result<FetchedSource> fetch_git_source(const GitSource& source, const std::string& work_dir);

}  // namespace kiln::solver::ops
