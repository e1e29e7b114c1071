// Solving a working container's state (internal to frontend/api): the
// solver and the BuildRunner of `kiln bud`, with two decorators that make a
// container's earlier steps independent of what changed since they ran
// (container_record.h says why): COPY content digests come from the
// record's pins, step results from the record before the build cache.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <string>
#include <vector>

#include "cache/key_index.h"
#include "frontend/api/build_internal.h"
#include "frontend/api/container_record.h"
#include "solver/ops/runner.h"

namespace kiln::detail {

/// OpRunner decorator: a COPY whose op is pinned (same index, same canonical
/// text) gets the pinned content digest; other ops are hashed by the inner
/// runner and pinned now. RUN bind mounts of a build context (`kiln run
/// --mount type=bind` / `--volume ...:ro`) are pinned the same way, so a
/// later command in another directory does not change an earlier step's key. A pinned COPY whose result is gone cannot be
/// rebuilt from its original files and fails clearly instead.
class PinnedRunner final : public solver::OpRunner {
 public:
  /// `contexts`: the build contexts this solve was given (names).
  PinnedRunner(solver::ops::BuildRunner& inner, const std::vector<ContentPin>& pins,
               std::map<std::string, std::string> contexts);
  Result<std::string> content_digest(const solver::Definition& def, int op, std::vector<std::string>* files) override;
  Result<std::string> mount_content_digest(const solver::Definition& def, int op, int input) override;
  Result<solver::OpResult> run(const solver::Definition& def, int op, const std::vector<const solver::OpResult*>& inputs,
                               const solver::CancelToken& cancel) override;
  bool result_available(const solver::OpResult& result) override { return m_inner.result_available(result); }

  /// The pins of the last solved definition (kept and new).
  std::vector<ContentPin> pins() const;

 private:
  solver::ops::BuildRunner& m_inner;
  std::map<std::string, std::string> m_contexts;
  using PinKey = std::pair<int, int>;  // op, input (0: COPY)
  std::map<PinKey, ContentPin> m_old;
  std::map<PinKey, ContentPin> m_used;
  std::map<int, bool> m_from_record;
  mutable std::mutex m_mutex;
};

/// KeyIndex decorator: the container's own step results first, then the
/// store's build cache (where new results are recorded, so `bud` reuses them).
class PinnedKeyIndex final : public cache::KeyIndex {
 public:
  PinnedKeyIndex(cache::KeyIndex& inner, const std::vector<cache::CacheRecord>& steps);
  Result<std::optional<cache::CacheRecord>> get(const std::string& key) override;
  Result<void> put(const cache::CacheRecord& record) override { return m_inner.put(record); }
  Result<void> touch(const std::string& key) override;
  Result<void> remove(const std::string& key) override { return m_inner.remove(key); }
  Result<std::vector<cache::CacheRecord>> list() override { return m_inner.list(); }

 private:
  cache::KeyIndex& m_inner;
  std::map<std::string, cache::CacheRecord> m_steps;
};

/// One container's solves within one command.
class ContainerSolver {
 public:
  /// Errors: the runner settings (runner_config).
  static Result<std::unique_ptr<ContainerSolver>> open(const cache::Store& store, const ContainerRecord& record,
                                                       const BuildConfig& config);
  Result<SolvedGraph> solve(const BuildState& state);
  /// Stores the pins, step results and filesystem chain of `solved` in `record`.
  void record(const SolvedGraph& solved, ContainerRecord& record) const;
  solver::ops::BuildRunner& runner() { return *m_runner; }

 private:
  ContainerSolver(const cache::Store& store, const ContainerRecord& record, const BuildConfig& config,
                  solver::ops::RunnerConfig rc);
  const cache::Store& m_store;
  BuildConfig m_config;
  std::unique_ptr<solver::ops::BuildRunner> m_runner;
  cache::LocalKeyIndex m_local;
  PinnedRunner m_pinned;
  PinnedKeyIndex m_keys;
};

/// Errors unless the container's base image is still in the store's index
/// (not_found naming it, with a hint to pull it again or remove the container).
Result<void> check_base_image(const cache::Store& store, const ContainerRecord& record);

/// The filesystem chain of a solved state.
const std::vector<solver::LayerRef>& solved_chain(const SolvedGraph& solved);

}  // namespace kiln::detail
