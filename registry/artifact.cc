#include "registry/artifact.h"

#include "registry/http.h"
#include "registry/pull_internal.h"
#include "registry/registries_conf.h"
#include "registry/session.h"
#include "util/strings.h"

namespace kiln::registry {

struct ArtifactReader::Impl {
  HttpClient http;
  std::unique_ptr<Session> session;
};

ArtifactReader::ArtifactReader(oci::Reference ref, std::unique_ptr<Impl> impl)
    : m_ref(std::move(ref)), m_impl(std::move(impl)) {}

ArtifactReader::~ArtifactReader() = default;

Result<std::unique_ptr<ArtifactReader>> ArtifactReader::open(const oci::Reference& ref, const RegistryOptions& options) {
  KILN_TRY_ASSIGN(RegistriesConfig conf, RegistriesConfig::load(options.registries_conf));
  if (const RegistryEntry* e = conf.find(ref.name()); e != nullptr && e->blocked) {
    return Error(ErrorCode::invalid_input, cat("registry `", ref.domain, "` is blocked in the registries configuration (prefix `",
                                               e->prefix, "`): cannot read `", ref.str(), "`"));
  }
  auto impl = std::make_unique<Impl>();
  KILN_TRY_ASSIGN(impl->session, Session::open(impl->http, ref.domain, ref.path, "pull", conf.insecure(ref.domain), options)
                                     .context(cat("read `", ref.str(), "`")));
  return std::unique_ptr<ArtifactReader>(new ArtifactReader(ref, std::move(impl)));
}

Result<std::optional<ArtifactManifest>> ArtifactReader::manifest() {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::string target = m_ref.digest ? m_ref.digest->str() : m_ref.tag;
  auto m = detail::fetch_manifest(*m_impl->session, target, m_ref.digest);
  if (!m) {
    if (m.error().code() == ErrorCode::not_found) {
      return std::optional<ArtifactManifest>();
    }
    return std::move(m).error();
  }
  return std::optional<ArtifactManifest>(ArtifactManifest{std::move(m->bytes), std::move(m->media_type), m->digest});
}

Result<int64_t> ArtifactReader::fetch(const cache::Store& store, const std::vector<oci::Descriptor>& blobs) {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<std::unique_ptr<detail::BlobDownload>> downloads;
  std::vector<Transfer*> transfers;
  for (const auto& d : blobs) {
    if (store.has_blob(d.digest)) {
      continue;
    }
    downloads.push_back(std::make_unique<detail::BlobDownload>(*m_impl->session, store, d, "blob"));
    transfers.push_back(downloads.back().get());
  }
  if (transfers.empty()) {
    return int64_t{0};
  }
  KILN_TRY(m_impl->http.run(transfers, m_impl->session->options().max_parallel));
  int64_t bytes = 0;
  for (const auto& d : downloads) {
    bytes += d->received();
  }
  return bytes;
}

}  // namespace kiln::registry
