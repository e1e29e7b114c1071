// Working-container records (stepwise builds, STYLE.md F3): the on-disk form
// and its locks. Internal to frontend/api.
//
// Layout (format `kiln-container`, version 1):
//
//   ROOT/kiln/containers/<name>/container.json   the record (util/atomic_file.h:
//                                                 temp file + fsync + rename)
//   ROOT/kiln/containers/<name>/merged/          `kiln mount`'s mount point
//   ROOT/kiln/locks/containers.lock              flock: held while names are
//                                                 allocated or removed
//   ROOT/kiln/locks/containers/<name>.lock       flock: held by every command that
//                                                 changes the container (a second
//                                                 `kiln run` waits)
//
// container.json (compact JSON, sorted keys):
//   {"format":"kiln-container","version":1,"name","id","created",
//    "image":{"name","id","manifest"} | null (scratch),
//    "definition":{BuildState::to_definition()},      the state now
//    "committed":{"definition":{...},"layers":[LAYER...],"history":[...],
//                 "pending":N,"count":N},             as of the last commit (or `from`)
//    "created_by":"",                                 `config --created-by` for the next commit
//    "annotations":{K:V},                             `config --annotation`, for every commit
//    "pins":[{"op":I,"hash":H,"digest":D[,"input":K]}...],  COPY content digests as first hashed
//                                                     (with "input": a RUN bind mount's, of op input K)
//    "steps":[CACHE RECORD...],                       the results of the state's steps
//    "chain":[LAYER...],                              the state's filesystem, bottom first
//    "blobs":[DIGEST...],"layers":[DIFFID...]}        GC roots (cache/gc.cc reads these)
//   LAYER = {"diff_id","digest","size","media_type"}
//
// Why pins and steps: the container's definition keeps every step since
// `from`, and each solve recomputes every key. A COPY's key includes the
// digest of its source files, which may have changed or gone since (`kiln
// copy` ran in another directory); the pin keeps the digest the step was
// built with. The step results keep the container independent of the build
// cache (`kiln prune --build-cache` does not make old RUN steps run again).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cache/key_index.h"
#include "cache/store.h"
#include "oci/image_config.h"
#include "solver/solve.h"
#include "util/file_lock.h"
#include "util/result.h"

namespace kiln::detail {

inline constexpr int k_container_version = 1;

/// A COPY source digest (or a RUN bind mount's, input > 0) as first
/// computed, for op `op` of the definition (valid while that op's canonical
/// text still hashes to `hash`).
struct ContentPin {
  int op = -1;
  std::string hash;
  std::string digest;
  int input = 0;  ///< 0: the COPY's source; K > 0: the files a RUN mount shows of input K
};

struct ContainerRecord {
  std::string name;
  std::string id;       ///< 64 hex digits
  std::string created;  ///< RFC 3339
  std::string image_name;      ///< base image ("" for scratch)
  std::string image_id;        ///< its config digest
  std::string image_manifest;  ///< its manifest digest
  std::string definition;      ///< BuildState::to_definition() of the state now
  struct Committed {
    std::string definition;                ///< the state as of the last commit (or `from`)
    std::vector<solver::LayerRef> layers;  ///< that image's layers
    std::vector<oci::HistoryEntry> history;
    size_t pending = 0;                    ///< the state's pending history entries already committed
    int count = 0;                         ///< commits so far
  } committed;
  std::string created_by;
  std::map<std::string, std::string> annotations;  ///< `config --annotation`, for every commit
  std::vector<ContentPin> pins;
  std::vector<cache::CacheRecord> steps;
  std::vector<solver::LayerRef> chain;
};

/// ROOT/kiln/containers/<name>.
std::string container_dir(const cache::Store& store, const std::string& name);

/// ROOT/kiln/containers/<name>/merged: `kiln mount`'s mount point.
std::string merged_dir(const cache::Store& store, const std::string& name);
/// Whether `dir` is a mount point in this mount namespace (its device
/// differs from its parent's).
bool is_mounted(const std::string& dir);

/// Names are buildah's: [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128 bytes).
/// Errors: invalid_input naming it.
Result<void> validate_container_name(const std::string& name);

/// The record, nullopt when there is none. Errors: cache_corrupt for an
/// unreadable record or a newer format.
Result<std::optional<ContainerRecord>> read_container(const cache::Store& store, const std::string& name);
/// read_container, with not_found ("no working container `x`") when absent.
Result<ContainerRecord> load_container(const cache::Store& store, const std::string& name);
/// Writes the record atomically (the directory must exist).
Result<void> write_container(const cache::Store& store, const ContainerRecord& record);
/// Removes the record (first, one unlink: a kiln killed after it leaves a
/// directory without a record, which listings and names ignore) and the
/// directory, unmounting `kiln mount`'s view in this namespace first. The
/// caller holds the container's lock and the names lock.
Result<void> delete_container(const cache::Store& store, const std::string& name);
/// Every container's record, sorted by name (unreadable ones skipped with a warning).
Result<std::vector<ContainerRecord>> all_containers(const cache::Store& store);

/// The exclusive per-container lock; waits (saying so at info level) while
/// another kiln holds it.
Result<FileLock> lock_container(const cache::Store& store, const std::string& name);
/// The lock over name allocation and removal.
Result<FileLock> lock_container_names(const cache::Store& store);

/// 64 random hex digits (getrandom).
Result<std::string> random_id();

}  // namespace kiln::detail
