#include "frontend/api/registry_api.h"

#include "cache/store.h"
#include "cache/transport.h"
#include "frontend/api/registry_internal.h"
#include "frontend/api/store_api.h"
#include "registry/credentials.h"
#include "registry/handover.h"
#include "registry/registry.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln {

namespace {

Result<registry::RegistryOptions> convert(const RegistryOptions& o) {
  registry::RegistryOptions r;
  r.tls_verify = o.tls_verify;
  r.cert_dir = o.cert_dir;
  r.auth_file = o.auth_file;
  if (!o.creds.empty()) {
    auto pair = split_once(o.creds.reveal(), ':');
    if (!pair || pair->first.empty()) {
      return Error(ErrorCode::usage, "invalid --creds: expected USERNAME:PASSWORD");
    }
    r.credentials = registry::Credentials{pair->first, Redacted<std::string>(pair->second)};
  }
  r.retries = std::max(o.retries, 0);
  r.retry_delay = std::chrono::milliseconds(std::max<int64_t>(o.retry_delay_ms, 0));
  r.registries_conf = o.registries_conf;
  r.max_parallel = o.max_parallel;
  if (o.progress) {
    auto fn = o.progress;
    r.progress = [fn](const registry::ProgressEvent& e) {
      fn(TransferEvent{static_cast<TransferEvent::Kind>(e.kind), e.digest, e.what, e.total, e.done, e.message});
    };
  }
  return r;
}

// The qualified references `text` may mean, each pulled in turn until one
// exists.
Result<registry::PulledImage> pull_first(const cache::Store& s, const std::string& text, const oci::Platform& platform,
                                         const registry::RegistryOptions& ro) {
  KILN_TRY_ASSIGN(auto candidates, registry::qualify_reference(text, ro));
  std::vector<std::string> tried;
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto r = registry::pull_image(s, candidates[i], platform, ro);
    if (r || i + 1 == candidates.size() || r.error().code() != ErrorCode::not_found) {
      if (!r && !tried.empty()) {
        r.error().wrap(cat("pull `", text, "` (also tried ", join(tried, ", "), ")"));
      }
      return r;
    }
    tried.push_back(cat("`", candidates[i].str(), "`"));
    log::info("pull `", text, "`: not found as `", candidates[i].str(), "`; trying the next search registry");
  }
  return Error(ErrorCode::internal, "no candidates");
}

}  // namespace

namespace detail {

Result<PullSummary> pull_from_registry(const ImageStore& store, const std::string& source,
                                       const oci::Platform& platform, const RegistryOptions& options) {
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, convert(options));
  KILN_TRY_ASSIGN(registry::PulledImage p, pull_first(store.store(), std::string(registry::strip_transport(source)),
                                                      platform, ro));
  PullSummary out;
  out.id = p.id.str();
  if (!p.name.empty()) {
    out.names.push_back(p.name);
  }
  return out;
}

Result<PushSummary> push_to_registry(const ImageStore& store, const cache::LoadedImage& image, const std::string& name,
                                     const std::string& dest, const RegistryOptions& options) {
  std::string target(registry::strip_transport(dest.empty() ? name : dest));
  KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(target));
  if (!ref.domain_given) {
    return Error(ErrorCode::invalid_input, cat("push `", name, "`: `", target, "` names no registry"))
        .with_hint(cat("give a destination: `kiln push ", name, " REGISTRY/REPOSITORY[:TAG]`"));
  }
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, convert(options));
  KILN_TRY_ASSIGN(registry::PushedImage p, registry::push_image(store.store(), image, ref, ro));
  PushSummary out;
  out.digest = p.manifest_digest.str();
  out.reference = p.reference;
  out.bytes_uploaded = p.bytes_uploaded;
  out.blobs_uploaded = p.blobs_uploaded;
  out.blobs_skipped = p.blobs_skipped;
  out.blobs_mounted = p.blobs_mounted;
  return out;
}

}  // namespace detail

std::optional<PullPolicy> parse_pull_policy(const std::string& text) {
  std::string t = to_lower(text);
  if (t == "always" || t == "true") {
    return PullPolicy::always;
  }
  if (t == "missing" || t == "ifmissing" || t == "false") {
    return PullPolicy::missing;
  }
  if (t == "never") {
    return PullPolicy::never;
  }
  return std::nullopt;
}

namespace {

// The store's image for `text`: as find_image knows it, else as each
// unqualified-search registry would name it.
Result<std::optional<cache::ImageRecord>> find_in_store(const cache::Store& s, const std::string& text,
                                                        const registry::RegistryOptions& ro) {
  auto found = s.find_image(text);
  if (found && *found) {
    return found;
  }
  auto candidates = registry::qualify_reference(text, ro);
  if (!candidates) {
    return found ? std::move(candidates).error() : std::move(found).error();
  }
  for (const auto& c : *candidates) {
    KILN_TRY_ASSIGN(auto hit, s.find_image(c.str()));
    if (hit) {
      return hit;
    }
  }
  return std::optional<cache::ImageRecord>();
}

EnsuredImage ensured(const cache::ImageRecord& r, bool pulled) {
  return EnsuredImage{r.id.str(), r.manifest.digest.str(), r.names.empty() ? "" : r.names.front(), pulled};
}

}  // namespace

Result<EnsuredImage> ensure_image(const ImageStore& store, const std::string& reference, PullPolicy policy,
                                  const RegistryOptions& options, const std::string& platform_text) {
  const cache::Store& s = store.store();
  oci::Platform platform = oci::host_platform();
  if (!platform_text.empty()) {
    KILN_TRY_ASSIGN(platform, oci::parse_platform(platform_text));
  }
  KILN_TRY_ASSIGN(auto local, cache::parse_local_ref(reference));
  if (local) {
    KILN_TRY_ASSIGN(FileLock hold, s.hold_for_write());
    KILN_TRY_ASSIGN(cache::ImportResult r, cache::import_image(s, *local, platform));
    return EnsuredImage{r.id.str(), r.manifest.digest.str(), r.names.empty() ? "" : r.names.front(), true};
  }
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, convert(options));
  std::string text(registry::strip_transport(reference));
  if (policy != PullPolicy::always) {
    KILN_TRY_ASSIGN(auto found, find_in_store(s, text, ro));
    if (found) {
      return ensured(*found, false);
    }
    if (policy == PullPolicy::never) {
      return Error(ErrorCode::not_found, cat("image `", text, "` is not in the store and the pull policy is `never`"))
          .with_hint("pull it first (`kiln pull`), or use --pull=missing");
    }
  }
  KILN_TRY_ASSIGN(registry::PulledImage p, pull_first(s, text, platform, ro));
  EnsuredImage out{p.id.str(), p.manifest.digest.str(), p.name, true};
  return out;
}

Result<std::string> registry_login(const std::string& registry_name, const std::string& username,
                                   const Redacted<std::string>& password, const RegistryOptions& options) {
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, convert(options));
  return registry::login(registry_name, registry::Credentials{username, password}, ro);
}

Result<bool> registry_logout(const std::string& registry_name, bool all, const RegistryOptions& options) {
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, convert(options));
  if (all) {
    return registry::logout("", ro);
  }
  if (registry_name.empty()) {
    return Error(ErrorCode::usage, "logout: name a registry, or use --all");
  }
  return registry::logout(registry_name, ro);
}

Result<void> hand_over_credentials(const RegistryOptions& options) {
  KILN_TRY(registry::hand_over_auth_files(options.auth_file));
  return registry::hand_over_cert_dir(options.cert_dir);
}

}  // namespace kiln
