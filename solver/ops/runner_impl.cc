#include <sys/stat.h>

#include "solver/cache_key.h"
#include "solver/ops/copy_engine.h"
#include "solver/ops/layer_cache.h"
#include "solver/ops/runner_impl.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::solver::ops {

BuildRunner::Impl::Impl(RunnerConfig c)
    : config(std::move(c)),
      hasher(config.store != nullptr ? path_join(config.store->cache_dir(), "context-hashes.json") : "") {}

Result<std::string> BuildRunner::Impl::context_dir(const std::string& name) {
  auto it = config.contexts.find(name);
  if (it == config.contexts.end()) {
    return Error(ErrorCode::not_found, cat("build context `", name, "` was not given"))
        .with_hint(name == "context" ? "pass the context directory as the last argument"
                                     : cat("pass it with --build-context ", name, "=DIR"));
  }
  if (!is_directory(it->second)) {
    return Error(ErrorCode::not_found, cat("build context `", it->second, "` is not a directory"));
  }
  return it->second;
}

Result<FetchedSource> BuildRunner::Impl::fetch(const Op& op) {
  std::string key = op_key_parts(op).key();
  std::lock_guard<std::mutex> hold(m_fetch_mutex);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (auto it = m_fetched.find(key); it != m_fetched.end()) {
      return it->second;
    }
  }
  KILN_TRY_ASSIGN(std::string work, scratch_dir(cat(op_kind(op), "-")));
  Result<FetchedSource> got = Error(ErrorCode::internal, cat("fetch: `", op_kind(op), "` is not a remote source"));
  if (const auto* h = std::get_if<HttpSource>(&op.attrs)) {
    got = fetch_http_source(*h, work).context(cat("ADD `", h->url, "`"));
  } else if (const auto* g = std::get_if<GitSource>(&op.attrs)) {
    got = fetch_git_source(*g, work).context(cat("ADD `", g->url, "`"));
  }
  if (!got) {
    return got;
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_fetched[key] = *got;
  return got;
}

Result<std::string> BuildRunner::Impl::fetch_source(const Op& op) {
  KILN_TRY_ASSIGN(FetchedSource f, fetch(op));
  return f.dir;
}

Result<OpResult> BuildRunner::Impl::image_result(const ImageSource& source) {
  KILN_TRY_ASSIGN(cache::LoadedImage img, config.store->load_image(source.manifest).context(cat("load base image `", source.ref, "`")));
  if (img.manifest.layers.size() != img.config.diff_ids.size()) {
    return Error(ErrorCode::cache_corrupt, cat("image `", source.ref, "` lists ", img.manifest.layers.size(),
                                               " layers but ", img.config.diff_ids.size(), " diffIDs"));
  }
  OpResult r;
  for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
    const auto& l = img.manifest.layers[i];
    r.layers.push_back(LayerRef{img.config.diff_ids[i], l.digest, l.size, l.media_type});
  }
  return r;
}

Result<std::vector<std::string>> BuildRunner::Impl::lowers_of(const std::vector<LayerRef>& chain) {
  ExtractPolicy policy;
  policy.ignore_chown_errors = config.ignore_chown_errors;
  policy.fetcher = config.blobs;
  return ensure_extracted(*config.store, chain, policy);
}

Result<std::string> BuildRunner::Impl::scratch_dir(const std::string& prefix) {
  KILN_TRY_ASSIGN(TempDir t, TempDir::create(config.store->tmp_dir(), prefix));
  std::string path = t.path();
  std::lock_guard<std::mutex> lock(m_mutex);
  m_temps.push_back(std::move(t));
  return path;
}

Result<std::string> BuildRunner::Impl::view_of(const OpResult& result) {
  std::string key;
  for (const auto& l : result.layers) {
    key += l.diff_id.hex();
  }
  key = sha256_hex(key);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_views.find(key);
    if (it != m_views.end()) {
      return it->second;
    }
  }
  KILN_TRY_ASSIGN(std::string dir, scratch_dir("view-"));
  if (!result.layers.empty()) {
    KILN_TRY_ASSIGN(auto lowers, lowers_of(result.layers));
    if (config.driver == executor::StorageDriver::vfs) {
      KILN_TRY(executor::copy_lowers_to(lowers, dir));
    } else {
      if (lowers.size() == 1) {
        // overlay without an upper dir needs at least two lowers.
        KILN_TRY_ASSIGN(std::string empty, scratch_dir("empty-"));
        lowers.push_back(empty);
      }
      executor::OverlayMount o{lowers, "", "", dir};
      KILN_TRY_ASSIGN(executor::UniqueMount m, config.driver == executor::StorageDriver::fuse_overlayfs
                                                   ? executor::mount_fuse_overlayfs(o)
                                                   : executor::mount_overlay(o));
      std::lock_guard<std::mutex> lock(m_mutex);
      m_mounts.push_back(std::move(m));
    }
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_views[key] = dir;
  return dir;
}

namespace {

// Whether a context's files can be bound as they are: their owner shows as a
// real id in kiln's namespace (an unmapped owner reads as the overflow id,
// and such files may be unreadable to container root).
bool owner_is_mapped(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return false;
  }
  static const uint32_t overflow = [] {
    auto text = read_file_if_exists("/proc/sys/kernel/overflowuid");
    auto n = text && *text ? parse_uint(trim(**text)) : std::nullopt;
    return static_cast<uint32_t>(n.value_or(65534));
  }();
  return st.st_uid != overflow;
}

}  // namespace

Result<BuildRunner::Impl::MountRoot> BuildRunner::Impl::mount_root(const Op& source_op, const OpResult& source) {
  const auto* ctx = std::get_if<ContextSource>(&source_op.attrs);
  if (ctx == nullptr) {
    if (!source.dir.empty()) {
      return MountRoot{source.dir, true};  // http/git
    }
    KILN_TRY_ASSIGN(std::string view, view_of(source));
    return MountRoot{view, false};
  }
  KILN_TRY_ASSIGN(std::string dir, context_dir(ctx->name));
  if (ctx->exclude.empty() && owner_is_mapped(dir)) {
    return MountRoot{dir, true};
  }
  std::string memo = ctx->name + "\n" + join(ctx->exclude, "\n");
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (auto it = m_context_copies.find(memo); it != m_context_copies.end()) {
      return MountRoot{it->second, true};
    }
  }
  KILN_TRY_ASSIGN(std::string copy, scratch_dir("context-"));
  CopyRequest req;
  req.src_root = dir;
  req.src_is_context = true;
  req.ignore = ctx->exclude;
  req.spec.sources = {"."};
  req.spec.dest = "/";
  req.dest_root = copy;
  req.chown_errors = config.ignore_chown_errors ? ChownErrors::ignore : ChownErrors::fail;
  KILN_TRY(copy_files(req).context(cat("copy build context `", ctx->name, "` for RUN --mount")));
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_context_copies.emplace(memo, copy).first;
  return MountRoot{it->second, true};
}

}  // namespace kiln::solver::ops
