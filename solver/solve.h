// Solving a Definition: cache keys for every op, cache lookups, and the
// parallel execution of what misses (STYLE.md L3, T4; BuildKit's scheduler).
//
// All keys are computed before anything runs (a key needs its inputs' keys
// and, for COPY from a build context, the digest of the selected files, never
// an input's result), so a fully cached build executes nothing and extracts
// no layer. Then ops run in dependency order, up to `jobs` at once; an op
// whose key has a record (and whose blobs are present) is a hit and does not
// run. The first failure cancels the rest: no new op starts, running ones
// are told through the CancelToken, and solve() returns that first error.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/key_index.h"
#include "solver/cache_key.h"
#include "solver/definition.h"
#include "util/fd.h"

namespace kiln::solver {

/// One layer of a filesystem result.
struct LayerRef {
  oci::Digest diff_id;
  oci::Digest digest;  ///< blob digest (compressed)
  int64_t size = 0;    ///< blob bytes
  std::string media_type;
  bool operator==(const LayerRef&) const = default;
};

/// What an op produced.
struct OpResult {
  std::vector<LayerRef> layers;      ///< the whole filesystem, bottom layer first
  std::optional<LayerRef> new_layer; ///< the layer this op added (none: no change)
  std::string created;               ///< RFC 3339 time the step first ran (kept by the cache)
  std::string dir;                   ///< context sources: the directory (solve-time input)
  bool cached = false;
  std::string key;
};

/// Cancellation shared by the scheduler and running ops. cancel() is
/// idempotent and thread-safe; fd() becomes readable once cancelled, so
/// code blocked in poll() (a running sandbox) notices.
class CancelToken {
 public:
  CancelToken();
  void cancel();
  bool cancelled() const { return m_cancelled.load(); }
  int fd() const { return m_fd.get(); }

 private:
  std::atomic<bool> m_cancelled{false};
  UniqueFd m_fd;
};

/// The concrete ops (solver/ops implements it; tests use fakes).
class OpRunner {
 public:
  virtual ~OpRunner() = default;
  /// For a COPY whose source input is a build context (or http/git source):
  /// the digest of the selected files; "" when the input's key suffices.
  /// `files` may receive "path digest" lines for explanations.
  virtual Result<std::string> content_digest(const Definition& def, int op, std::vector<std::string>* files) = 0;
  /// For an exec whose bind mount (RUN --mount=type=bind) reads input
  /// `input` from a build context: the digest of the files the mount shows
  /// (its source, after the context's ignore patterns), so a changed file
  /// misses the cache as it does for COPY; "" when the input's key suffices.
  virtual Result<std::string> mount_content_digest(const Definition& def, int op, int input) {
    (void)def;
    (void)op;
    (void)input;
    return std::string();
  }
  /// Runs op with its inputs' results. Source ops (image, scratch, context)
  /// always come here; exec/copy/http/git only on a cache miss.
  virtual Result<OpResult> run(const Definition& def, int op, const std::vector<const OpResult*>& inputs,
                               const CancelToken& cancel) = 0;
  /// True when everything a cached result needs is still in the store.
  virtual bool result_available(const OpResult& result) = 0;
};

struct SolveEvent {
  enum class Kind { started, cache_hit, finished, failed };
  Kind kind;
  int op = 0;
  std::string key;
  double seconds = 0;  ///< finished/failed: wall time of the op
  const OpResult* result = nullptr;  ///< cache_hit/finished
  std::vector<std::string> explanation;  ///< cache misses with explain on: why
};

struct SolveOptions {
  int jobs = 1;            ///< ops run at once (>= 1)
  bool no_cache = false;   ///< run everything; still record results
  cache::KeyIndex* keys = nullptr;  ///< nullptr: no cache at all
  std::function<void(const SolveEvent&)> on_event;  ///< called from worker threads, serialized
  /// Where to remember each step's key parts between builds for
  /// --explain-cache ("" = off). Entries are keyed by `explain_identity`
  /// plus the op's origin (stage and step).
  std::string explain_dir;
  std::string explain_identity;
  std::string debug_keys_dir;  ///< KILN_DEBUG_KEYS: write each op's key parts here
  std::string now;             ///< RFC 3339 "created" for ops run now
};

struct SolveResult {
  std::vector<std::string> keys;                 ///< per op ("" for ops not needed)
  std::vector<std::optional<OpResult>> results;  ///< per op (only ops the targets need)
};

/// Solves the ops `targets` need. Errors: the first failing op's error,
/// wrapped with its origin ("step 3/7 RUN make") and carrying its source range.
Result<SolveResult> solve(const Definition& def, const std::vector<int>& targets, OpRunner& runner,
                          const SolveOptions& options);

/// Keys only (no execution): what solve() would look up. For tests, the
/// stepwise/Dockerfile cross-check and --explain-cache.
Result<std::vector<KeyParts>> compute_keys(const Definition& def, const std::vector<int>& targets, OpRunner& runner);

/// The cache record result JSON for an op result, and back.
oci::Json op_result_to_record(const OpResult& r);
Result<OpResult> op_result_from_record(const cache::CacheRecord& rec, const OpResult* parent);

}  // namespace kiln::solver
