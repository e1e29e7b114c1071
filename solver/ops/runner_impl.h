// BuildRunner's state, shared by the op implementations (exec_op.cc,
// copy_op.cc, runner_impl.cc). Internal to solver/ops.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "executor/mounts.h"
#include "solver/ops/context_hash.h"
#include "solver/ops/fetch_source.h"
#include "solver/ops/runner.h"
#include "util/temp_dir.h"

namespace kiln::solver::ops {

struct BuildRunner::Impl {
  explicit Impl(RunnerConfig c);

  RunnerConfig config;
  ContextHasher hasher;

  /// The directory of a named build context. Errors: not_found naming it.
  Result<std::string> context_dir(const std::string& name);
  /// Downloads/clones an http or git source once per build (fetch_source.h);
  /// fetch_source gives its directory.
  Result<FetchedSource> fetch(const Op& op);
  Result<std::string> fetch_source(const Op& op);
  /// The chain of an image in the store.
  Result<OpResult> image_result(const ImageSource& source);
  /// A read-only merged view of a result's filesystem (mounted once, kept
  /// until the runner goes away). An empty chain gives an empty directory.
  Result<std::string> view_of(const OpResult& result);
  /// Extracted lower dirs of a chain, top first.
  Result<std::vector<std::string>> lowers_of(const std::vector<LayerRef>& chain);
  /// A fresh scratch directory under the store's tmp dir, removed with the runner.
  Result<std::string> scratch_dir(const std::string& prefix);

  /// The directory a RUN --mount reads an input from (run_mounts.h): a
  /// build context (itself, or once per build a copy honouring its ignore
  /// patterns with files owned 0:0), an http/git source's directory, or the
  /// read-only merged view of a stage or image. `is_context` says whether
  /// its files stand for build-context files (owned 0:0 when copied).
  struct MountRoot {
    std::string dir;
    bool is_context = false;
  };
  Result<MountRoot> mount_root(const Op& source_op, const OpResult& source);

 private:
  std::mutex m_mutex;
  std::map<std::string, FetchedSource> m_fetched;  // source key -> fetched
  std::mutex m_fetch_mutex;                        // one fetch at a time (held while fetching)
  std::map<std::string, std::string> m_views;    // chain key -> mounted dir
  std::map<std::string, std::string> m_context_copies;  // context name + ignore patterns -> copy
  std::vector<TempDir> m_temps;                  // declared first: destroyed last
  std::vector<executor::UniqueMount> m_mounts;   // unmounted before m_temps are removed
};

}  // namespace kiln::solver::ops
