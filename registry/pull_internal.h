// Pieces of pull shared with the lazy build-cache reader (artifact.cc):
// fetching one manifest and streaming one blob into the store. Internal to
// registry/.
#pragma once

#include <optional>
#include <string>

#include "cache/store.h"
#include "oci/descriptor.h"
#include "registry/session.h"

namespace kiln::registry::detail {

/// "registry `R` repository `P`", for messages.
std::string where(const Session& s);

struct FetchedManifest {
  std::string bytes;
  std::string media_type;
  oci::Digest digest;
};

/// GET /manifests/<target> (a tag or digest), accepting OCI and Docker
/// manifests and indexes; verified against `expected` (or the registry's
/// Docker-Content-Digest header). Errors: not_found, auth, network,
/// unsupported (schema 1), cache_corrupt (digest mismatch).
Result<FetchedManifest> fetch_manifest(Session& s, const std::string& target, const std::optional<oci::Digest>& expected);

/// One blob streamed into the store, resumed with Range after a broken
/// connection, verified against its digest before it is kept (a blob that
/// does not match is not kept: cache_corrupt naming it).
class BlobDownload : public SessionTransfer {
 public:
  BlobDownload(Session& s, const cache::Store& store, oci::Descriptor d, std::string kind);

  bool finished() const { return m_finished; }
  int64_t received() const { return m_received; }
  const oci::Descriptor& descriptor() const { return m_desc; }

 protected:
  Result<std::optional<HttpRequest>> request() override;
  Result<void> response(HttpResponse r) override;

 private:
  Result<void> on_head(const HttpResponse& r);
  Result<void> on_data(std::string_view data);
  Result<void> flush();

  static constexpr size_t k_write_chunk = 1 << 20;
  const cache::Store& m_store;
  oci::Descriptor m_desc;
  std::string m_kind;
  std::optional<cache::BlobWriter> m_writer;
  std::string m_buffer;  // received bytes not yet written (part of m_received)
  int64_t m_received = 0;
  bool m_finished = false;
};

}  // namespace kiln::registry::detail
