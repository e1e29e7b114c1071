#include "solver/ops/runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "solver/ops/context_hash.h"
#include "solver/ops/exec_op.h"
#include "solver/ops/copy_op.h"
#include "solver/ops/layer_cache.h"
#include "solver/ops/mkdir_op.h"
#include "solver/ops/runner_impl.h"
#include "solver/ops/snapshot.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops {

BuildRunner::BuildRunner(RunnerConfig config) : m_impl(std::make_unique<Impl>(std::move(config))) {}

BuildRunner::~BuildRunner() {
  if (m_impl) {
    log_warning_and_drop(m_impl->hasher.save());
  }
}

Result<std::string> BuildRunner::content_digest(const Definition& def, int op, std::vector<std::string>* files) {
  const Op& o = def.ops[static_cast<size_t>(op)];
  const auto* copy = std::get_if<Copy>(&o.attrs);
  if (copy == nullptr || o.inputs.size() < 2) {
    return std::string();
  }
  const Op& src = def.ops[static_cast<size_t>(o.inputs[1])];
  if (const auto* ctx = std::get_if<ContextSource>(&src.attrs)) {
    KILN_TRY_ASSIGN(std::string dir, m_impl->context_dir(ctx->name));
    return m_impl->hasher.digest(dir, *copy, ctx->exclude, files);
  }
  if (std::holds_alternative<HttpSource>(src.attrs) || std::holds_alternative<GitSource>(src.attrs)) {
    KILN_TRY_ASSIGN(FetchedSource fetched, m_impl->fetch(src));
    if (!fetched.content_digest.empty()) {
      return fetched.content_digest;  // a git commit: its files are what it names
    }
    return m_impl->hasher.digest(fetched.dir, *copy, {}, files);
  }
  return std::string();
}

Result<std::string> BuildRunner::mount_content_digest(const Definition& def, int op, int input) {
  const Op& o = def.ops[static_cast<size_t>(op)];
  const auto* exec = std::get_if<Exec>(&o.attrs);
  if (exec == nullptr || input <= 0 || static_cast<size_t>(input) >= o.inputs.size()) {
    return std::string();
  }
  const Op& src = def.ops[static_cast<size_t>(o.inputs[static_cast<size_t>(input)])];
  const auto* ctx = std::get_if<ContextSource>(&src.attrs);
  if (ctx == nullptr) {
    return std::string();  // a stage or image: its key covers its files
  }
  for (const auto& m : exec->mounts) {
    if (m.from_input == input) {
      if (m.in_place && !m.readonly) {
        return std::string();  // the step's token is in the key (definition.h)
      }
      KILN_TRY_ASSIGN(std::string dir, m_impl->context_dir(ctx->name));
      // What the mount shows, hashed like COPY <source> / would be.
      // (push_back: g++ 12 at -O2 misreports `dest = "/"` here as -Wrestrict.)
      Copy selection;
      selection.sources.push_back(m.source.empty() ? std::string(".") : m.source);
      selection.dest.push_back('/');
      return m_impl->hasher.digest(dir, selection, ctx->exclude, nullptr);
    }
  }
  return std::string();
}

Result<OpResult> BuildRunner::run(const Definition& def, int op, const std::vector<const OpResult*>& inputs,
                                  const CancelToken& cancel) {
  const Op& o = def.ops[static_cast<size_t>(op)];
  struct V {
    Impl& impl;
    const Op& op;
    const Definition& def;
    const std::vector<const OpResult*>& inputs;
    const CancelToken& cancel;
    Result<OpResult> operator()(const ScratchSource&) const { return OpResult{}; }
    Result<OpResult> operator()(const ImageSource& s) const { return impl.image_result(s); }
    Result<OpResult> operator()(const ContextSource& s) const {
      OpResult r;
      KILN_TRY_ASSIGN(r.dir, impl.context_dir(s.name));
      return r;
    }
    Result<OpResult> operator()(const HttpSource&) const {
      OpResult r;
      KILN_TRY_ASSIGN(r.dir, impl.fetch_source(op));
      return r;
    }
    Result<OpResult> operator()(const GitSource&) const {
      OpResult r;
      KILN_TRY_ASSIGN(r.dir, impl.fetch_source(op));
      return r;
    }
    Result<OpResult> operator()(const Exec& e) const { return run_exec(impl, e, op, def, inputs, cancel); }
    Result<OpResult> operator()(const Copy& c) const { return run_copy(impl, c, op, def, inputs); }
    Result<OpResult> operator()(const Mkdir& m) const { return run_mkdir(impl, m, inputs); }
  };
  return std::visit(V{*m_impl, o, def, inputs, cancel}, o.attrs);
}

bool BuildRunner::result_available(const OpResult& result) {
  const BlobFetcher* remote = m_impl->config.blobs;
  for (const auto& l : result.layers) {
    if (!m_impl->config.store->has_blob(l.digest) && (remote == nullptr || !remote->can_fetch(l.digest))) {
      return false;
    }
  }
  return true;
}

Result<std::string> BuildRunner::materialize(const OpResult& result) { return m_impl->view_of(result); }

Result<void> BuildRunner::mount_view_at(const OpResult& result, const std::string& target, const std::string& empty_dir) {
  if (result.layers.empty()) {
    return {};
  }
  KILN_TRY_ASSIGN(auto lowers, m_impl->lowers_of(result.layers));
  executor::StorageDriver driver = m_impl->config.driver;
  if (driver == executor::StorageDriver::vfs) {
    return executor::copy_lowers_to(lowers, target);
  }
  if (lowers.size() == 1) {
    KILN_TRY(make_dirs(empty_dir));
    lowers.push_back(empty_dir);
  }
  executor::OverlayMount o{lowers, "", "", target};
  KILN_TRY_ASSIGN(executor::UniqueMount m, driver == executor::StorageDriver::fuse_overlayfs
                                               ? executor::mount_fuse_overlayfs(o)
                                               : executor::mount_overlay(o));
  std::string kept = m.release();  // the view outlives this process (`kiln mount`)
  log::debug("mounted the view of ", result.layers.size(), " layers at `", kept, "`");
  return {};
}

Result<void> BuildRunner::unmount_view(const std::string& target) { return executor::UniqueMount(target).unmount(); }

Result<std::optional<LayerRef>> BuildRunner::squash(const OpResult& base, const OpResult& top) {
  if (top.layers.size() < base.layers.size() ||
      !std::equal(base.layers.begin(), base.layers.end(), top.layers.begin())) {
    return Error(ErrorCode::internal, "squash: the top filesystem does not start with the base's layers");
  }
  if (top.layers.size() == base.layers.size()) {
    return std::optional<LayerRef>();
  }
  if (top.layers.size() == base.layers.size() + 1) {
    return std::optional<LayerRef>(top.layers.back());  // one layer is its own squash
  }
  KILN_TRY_ASSIGN(std::string lower, m_impl->view_of(base));
  KILN_TRY_ASSIGN(std::string upper, m_impl->view_of(top));
  const cache::Store& store = *m_impl->config.store;
  KILN_TRY_ASSIGN(cache::BlobWriter blob, store.begin_blob());
  KILN_TRY_ASSIGN(layers::LayerInfo info, layers::write_layer(layers::SnapshotSource::tree_pair(lower, upper),
                                                              m_impl->config.layer_options, blob.fd()));
  if (info.entries == 0) {
    return std::optional<LayerRef>();
  }
  KILN_TRY(blob.commit_hashed(info.digest, info.size));
  return std::optional<LayerRef>(LayerRef{info.diff_id, info.digest, info.size, info.media_type});
}

}  // namespace kiln::solver::ops
