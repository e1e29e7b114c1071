// Pull: manifest (through an index), then blobs in parallel into the store.
#include <algorithm>
#include <optional>

#include "oci/index.h"
#include "oci/media_types.h"
#include "registry/blob_sources.h"
#include "registry/registries_conf.h"
#include "registry/registry.h"
#include "registry/pull_internal.h"
#include "registry/session.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

constexpr std::string_view k_schema1 = "application/vnd.docker.distribution.manifest.v1";

std::string accept_list() {
  return join({std::string(oci::media::k_oci_manifest), std::string(oci::media::k_oci_index),
               std::string(oci::media::k_docker_manifest), std::string(oci::media::k_docker_manifest_list)},
              ", ");
}

}  // namespace

namespace detail {

std::string where(const Session& s) { return cat("registry `", s.registry(), "` repository `", s.repository(), "`"); }

Result<FetchedManifest> fetch_manifest(Session& s, const std::string& target, const std::optional<oci::Digest>& expected) {
  std::string what = cat("fetch manifest `", target, "` from ", where(s));
  KILN_TRY_ASSIGN(HttpResponse r, s.send(
                                      [&]() -> Result<HttpRequest> {
                                        HttpRequest req;
                                        req.url = s.url("/manifests/" + target);
                                        req.headers.emplace_back("Accept", accept_list());
                                        return req;
                                      },
                                      what));
  if (r.status == 404) {
    return Error(ErrorCode::not_found, cat(what, ": not found (", describe_response(r), ")"));
  }
  if (r.status == 401 || r.status == 403) {
    return s.denied(r).wrap(what);
  }
  if (r.status != 200) {
    return Error(ErrorCode::network, cat(what, ": ", describe_response(r)));
  }
  FetchedManifest m;
  m.bytes = std::move(r.body);
  m.digest = oci::Digest::sha256_of(m.bytes);
  m.media_type = std::string(trim(r.header("content-type").value_or("").substr(0, r.header("content-type").value_or("").find(';'))));
  if (!oci::media::is_manifest(m.media_type) && !oci::media::is_index(m.media_type)) {
    auto j = oci::parse_json(m.bytes, what);
    if (j && j->is_object()) {
      m.media_type = j->value("mediaType", std::string());
      if (m.media_type.empty() && j->contains("manifests")) {
        m.media_type = oci::media::k_oci_index;
      } else if (m.media_type.empty() && j->value("schemaVersion", 0) == 2) {
        m.media_type = oci::media::k_oci_manifest;
      }
    }
  }
  if (m.media_type.starts_with(k_schema1) || m.media_type == "application/json") {
    return Error(ErrorCode::unsupported, cat(what, ": Docker schema 1 manifests are not supported"));
  }
  if (expected && *expected != m.digest) {
    return Error(ErrorCode::cache_corrupt,
                 cat(what, ": the manifest does not match its digest (got `", m.digest.str(), "`)"));
  }
  if (auto header = r.header("docker-content-digest"); header && !expected) {
    auto d = oci::Digest::parse(*header);
    if (d && d->algorithm() == "sha256" && *d != m.digest) {
      return Error(ErrorCode::cache_corrupt, cat(what, ": the manifest does not match the digest the registry sent (`",
                                                 *header, "`, got `", m.digest.str(), "`)"));
    }
  }
  return m;
}

}  // namespace detail

namespace {

using detail::BlobDownload;
using detail::FetchedManifest;
using detail::fetch_manifest;
using detail::where;

Result<oci::Descriptor> pick_platform(const oci::Index& index, const oci::Platform& platform, const std::string& what) {
  const oci::Descriptor* best = nullptr;
  std::vector<std::string> offered;
  for (const auto& m : index.manifests) {
    if (!m.platform) {
      continue;
    }
    offered.push_back(m.platform->str());
    if (!m.platform->matches(platform)) {
      continue;
    }
    // An exact variant match beats a normalized one.
    if (best == nullptr || (m.platform->variant == platform.variant && best->platform->variant != platform.variant)) {
      best = &m;
    }
  }
  if (best == nullptr && index.manifests.size() == 1 && !index.manifests[0].platform) {
    best = &index.manifests[0];
  }
  if (best == nullptr) {
    return Error(ErrorCode::not_found, cat(what, ": no image for platform `", platform.str(), "` (the index offers ",
                                           offered.empty() ? "none" : join(offered, ", "), ")"))
        .with_hint("choose another with --platform");
  }
  return *best;
}

Result<PulledImage> pull_from(const cache::Store& store, const PullSource& src, const oci::Reference& ref,
                              const oci::Platform& platform, const RegistryOptions& options) {
  HttpClient http;
  const oci::Reference& at = src.reference;
  KILN_TRY_ASSIGN(auto session, Session::open(http, at.domain, at.path, "pull", src.insecure, options)
                                    .context(cat("pull `", ref.str(), "`")));
  std::string target = at.digest ? at.digest->str() : at.tag;
  KILN_TRY_ASSIGN(FetchedManifest m, fetch_manifest(*session, target, at.digest));
  if (oci::media::is_index(m.media_type)) {
    KILN_TRY_ASSIGN(oci::Index index, oci::parse_index(m.bytes, cat("image index of `", at.str(), "`")));
    KILN_TRY_ASSIGN(oci::Descriptor chosen, pick_platform(index, platform, cat("pull `", ref.str(), "`")));
    KILN_TRY_ASSIGN(m, fetch_manifest(*session, chosen.digest.str(), chosen.digest));
  }
  if (!oci::media::is_manifest(m.media_type)) {
    return Error(ErrorCode::unsupported, cat("pull `", ref.str(), "`: unsupported manifest type `", m.media_type, "`"));
  }
  KILN_TRY_ASSIGN(oci::Manifest manifest, oci::parse_manifest(m.bytes, cat("manifest of `", at.str(), "`")));

  std::vector<std::unique_ptr<BlobDownload>> downloads;
  std::vector<oci::Digest> seen;
  auto want = [&](const oci::Descriptor& d, const char* kind) {
    if (std::find(seen.begin(), seen.end(), d.digest) != seen.end()) {
      return;
    }
    seen.push_back(d.digest);
    if (store.has_blob(d.digest)) {
      session->report({ProgressEvent::Kind::skipped, d.digest.str(), kind, d.size, d.size, "already in the store"});
      return;
    }
    downloads.push_back(std::make_unique<BlobDownload>(*session, store, d, kind));
  };
  want(manifest.config, "config");
  for (const auto& l : manifest.layers) {
    want(l, "layer");
  }
  std::vector<Transfer*> transfers;
  for (auto& d : downloads) {
    transfers.push_back(d.get());
  }
  KILN_TRY(http.run(transfers, options.max_parallel).context(cat("pull `", ref.str(), "`")));

  PulledImage out;
  for (const auto& d : downloads) {
    out.bytes_downloaded += d->received();
  }
  KILN_TRY_ASSIGN(oci::Digest stored, store.put_blob(m.bytes));
  KILN_ASSERT(stored == m.digest);
  out.manifest.media_type = m.media_type;
  out.manifest.digest = m.digest;
  out.manifest.size = static_cast<int64_t>(m.bytes.size());
  out.id = manifest.config.digest;
  out.source = at.name();
  if (ref.tag_given || !ref.digest) {
    out.name = ref.with_tag(ref.tag).str();
  }
  std::vector<std::string> names;
  if (!out.name.empty()) {
    names.push_back(out.name);
  }
  KILN_TRY(store.add_image(out.manifest, names).context(cat("pull `", ref.str(), "`")));
  for (const auto& d : seen) {
    record_blob_source(store, d, at.name());
  }
  return out;
}

}  // namespace

std::string_view strip_transport(std::string_view text) {
  if (text.starts_with("docker://")) {
    text.remove_prefix(9);
  } else if (text.starts_with("docker:")) {
    text.remove_prefix(7);
    while (text.starts_with("/")) {
      text.remove_prefix(1);
    }
  }
  return text;
}

Result<std::vector<oci::Reference>> qualify_reference(std::string_view text, const RegistryOptions& options) {
  KILN_TRY_ASSIGN(RegistriesConfig conf, RegistriesConfig::load(options.registries_conf));
  return conf.qualify(strip_transport(text));
}

Result<PulledImage> pull_image(const cache::Store& store, const oci::Reference& ref, const oci::Platform& platform,
                               const RegistryOptions& options) {
  KILN_TRY_ASSIGN(RegistriesConfig conf, RegistriesConfig::load(options.registries_conf));
  KILN_TRY_ASSIGN(std::vector<PullSource> sources, conf.pull_sources(ref));
  KILN_TRY_ASSIGN(FileLock hold, store.hold_for_write());
  for (size_t i = 0; i < sources.size(); ++i) {
    auto r = pull_from(store, sources[i], ref, platform, options);
    if (r || i + 1 == sources.size()) {
      return r;
    }
    log::warning("pull `", ref.str(), "` from mirror `", sources[i].reference.name(), "` failed (",
                 r.error().render(), "); trying the next source");
  }
  return Error(ErrorCode::internal, "no pull source");
}

}  // namespace kiln::registry
