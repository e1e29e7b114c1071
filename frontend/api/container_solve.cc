#include "frontend/api/container_solve.h"

#include <algorithm>

#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::detail {

namespace {

std::string op_hash(const solver::Definition& def, int op) {
  solver::Definition one;
  one.ops.push_back(def.ops[static_cast<size_t>(op)]);
  return sha256_hex(solver::serialize_definition(one));
}

}  // namespace

PinnedRunner::PinnedRunner(solver::ops::BuildRunner& inner, const std::vector<ContentPin>& pins,
                           std::map<std::string, std::string> contexts)
    : m_inner(inner), m_contexts(std::move(contexts)) {
  for (const auto& p : pins) {
    m_old[{p.op, p.input}] = p;
  }
}

Result<std::string> PinnedRunner::content_digest(const solver::Definition& def, int op,
                                                 std::vector<std::string>* files) {
  std::string hash = op_hash(def, op);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_old.find({op, 0});
    if (it != m_old.end() && it->second.hash == hash) {
      m_used[{op, 0}] = it->second;
      m_from_record[op] = true;
      return it->second.digest;
    }
  }
  KILN_TRY_ASSIGN(std::string digest, m_inner.content_digest(def, op, files));
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!digest.empty()) {
    m_used[{op, 0}] = ContentPin{op, hash, digest, 0};
    m_from_record[op] = false;
  }
  return digest;
}

Result<std::string> PinnedRunner::mount_content_digest(const solver::Definition& def, int op, int input) {
  std::string hash = op_hash(def, op);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_old.find({op, input});
    if (it != m_old.end() && it->second.hash == hash) {
      m_used[{op, input}] = it->second;
      return it->second.digest;
    }
  }
  // Not pinned: a step run now, whose context this command was given.
  KILN_TRY_ASSIGN(std::string digest, m_inner.mount_content_digest(def, op, input));
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!digest.empty()) {
    m_used[{op, input}] = ContentPin{op, hash, digest, input};
  }
  return digest;
}

Result<solver::OpResult> PinnedRunner::run(const solver::Definition& def, int op,
                                           const std::vector<const solver::OpResult*>& inputs,
                                           const solver::CancelToken& cancel) {
  bool pinned = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_from_record.find(op);
    pinned = it != m_from_record.end() && it->second;
  }
  if (pinned) {
    // Its files were hashed when the step first ran; copying today's files
    // under that key would record something else.
    const solver::OpOrigin& o = def.ops[static_cast<size_t>(op)].origin;
    return Error(ErrorCode::cache_corrupt, cat("the result of `", o.description, "` is missing from the store"))
        .with_hint("`kiln fsck` checks the store; remove the container with `kiln rm` and build it again");
  }
  const solver::Op& o = def.ops[static_cast<size_t>(op)];
  if (const auto* ctx = std::get_if<solver::ContextSource>(&o.attrs); ctx != nullptr && m_contexts.count(ctx->name) == 0) {
    // A context an earlier step copied from: its COPY is pinned (a cache hit
    // that never reads it), and a COPY that does need it fails first, in
    // content_digest, naming the context.
    return solver::OpResult{};
  }
  return m_inner.run(def, op, inputs, cancel);
}

std::vector<ContentPin> PinnedRunner::pins() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<ContentPin> out;
  for (const auto& [k, p] : m_used) {
    out.push_back(p);
  }
  return out;
}

PinnedKeyIndex::PinnedKeyIndex(cache::KeyIndex& inner, const std::vector<cache::CacheRecord>& steps) : m_inner(inner) {
  for (const auto& s : steps) {
    m_steps[s.key] = s;
  }
}

Result<std::optional<cache::CacheRecord>> PinnedKeyIndex::get(const std::string& key) {
  auto it = m_steps.find(key);
  if (it != m_steps.end()) {
    return std::optional<cache::CacheRecord>(it->second);
  }
  return m_inner.get(key);
}

Result<void> PinnedKeyIndex::touch(const std::string& key) {
  if (m_steps.count(key) != 0) {
    return {};  // the container's own record; the build cache may not have it
  }
  return m_inner.touch(key);
}

ContainerSolver::ContainerSolver(const cache::Store& store, const ContainerRecord& record, const BuildConfig& config,
                                 solver::ops::RunnerConfig rc)
    : m_store(store),
      m_config(config),
      m_runner(std::make_unique<solver::ops::BuildRunner>(std::move(rc))),
      m_local(store.cache_dir()),
      m_pinned(*m_runner, record.pins, config.contexts),
      m_keys(m_local, record.steps) {}

Result<std::unique_ptr<ContainerSolver>> ContainerSolver::open(const cache::Store& store, const ContainerRecord& record,
                                                               const BuildConfig& config) {
  KILN_TRY_ASSIGN(solver::ops::RunnerConfig rc, runner_config(store, config));
  return std::unique_ptr<ContainerSolver>(new ContainerSolver(store, record, config, std::move(rc)));
}

Result<SolvedGraph> ContainerSolver::solve(const BuildState& state) {
  return solve_graph(state, m_pinned, m_keys, m_store, m_config);
}

void ContainerSolver::record(const SolvedGraph& solved, ContainerRecord& record) const {
  record.pins = m_pinned.pins();
  record.steps.clear();
  const auto& ops = solved.graph.definition.ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& r = solved.result.results[i];
    bool step = std::holds_alternative<solver::Exec>(ops[i].attrs) || std::holds_alternative<solver::Copy>(ops[i].attrs) ||
                std::holds_alternative<solver::Mkdir>(ops[i].attrs);
    if (!step || !r || r->key.empty()) {
      continue;
    }
    cache::CacheRecord rec;
    rec.key = r->key;
    rec.result = solver::op_result_to_record(*r);
    if (r->new_layer) {
      rec.blobs.push_back(r->new_layer->digest);
      rec.layers.push_back(r->new_layer->diff_id);
      rec.size = r->new_layer->size;
    }
    record.steps.push_back(std::move(rec));
  }
  record.chain = solved_chain(solved);
}

const std::vector<solver::LayerRef>& solved_chain(const SolvedGraph& solved) {
  return solved.result.results[static_cast<size_t>(solved.graph.target)]->layers;
}

Result<void> check_base_image(const cache::Store& store, const ContainerRecord& record) {
  if (record.image_manifest.empty()) {
    return {};
  }
  KILN_TRY_ASSIGN(auto images, store.list_images());
  bool present = std::any_of(images.begin(), images.end(), [&](const cache::ImageRecord& i) {
    return i.manifest.digest.str() == record.image_manifest;
  });
  if (!present) {
    std::string shown = record.image_name.empty() ? record.image_id : record.image_name;
    return Error(ErrorCode::not_found, cat("the base image `", shown, "` (", record.image_manifest,
                                           ") of working container `", record.name, "` was removed from the store"))
        .with_hint(cat("pull it again (`kiln pull ", shown, "`) to go on, or remove the container with `kiln rm ",
                       record.name, "`"));
  }
  return {};
}

}  // namespace kiln::detail
