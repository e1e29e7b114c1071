// One blob streamed from a registry into the store (pull and the lazy
// build-cache reader share it).
#include "registry/pull_internal.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry::detail {

BlobDownload::BlobDownload(Session& s, const cache::Store& store, oci::Descriptor d, std::string kind)
    : SessionTransfer(s, cat("fetch ", kind, " `", d.digest.str(), "` from ", where(s))),
      m_store(store),
      m_desc(std::move(d)),
      m_kind(std::move(kind)) {}

Result<std::optional<HttpRequest>> BlobDownload::request() {
  if (m_finished) {
    return std::optional<HttpRequest>();
  }
  if (!m_writer) {
    KILN_TRY_ASSIGN(auto w, m_store.begin_blob());
    m_writer.emplace(std::move(w));
    m_received = 0;
    session().report({ProgressEvent::Kind::started, m_desc.digest.str(), m_kind, m_desc.size, 0, ""});
  }
  HttpRequest req;
  req.url = session().url("/blobs/" + m_desc.digest.str());
  if (m_received > 0) {
    req.headers.emplace_back("Range", cat("bytes=", m_received, "-"));
    log::debug(what(), ": resuming at byte ", m_received);
  }
  req.on_head = [this](const HttpResponse& r) { return on_head(r); };
  req.body_writer = [this](std::string_view data) { return on_data(data); };
  return std::optional<HttpRequest>(std::move(req));
}

Result<void> BlobDownload::response(HttpResponse r) {
  if (r.status == 200 || r.status == 206) {
    KILN_TRY(flush());
    auto committed = m_writer->commit(m_desc.digest);
    m_writer.reset();
    if (!committed) {
      return Error(ErrorCode::cache_corrupt, cat(what(), ": the blob does not match its digest (",
                                                 committed.error().message(), "); nothing was kept"));
    }
    m_finished = true;
    session().report({ProgressEvent::Kind::finished, m_desc.digest.str(), m_kind, m_desc.size, m_received, ""});
    return {};
  }
  if (r.status == 404) {
    return Error(ErrorCode::not_found, cat(what(), ": not found (", describe_response(r), ")"));
  }
  if (r.status == 401 || r.status == 403) {
    return session().denied(r).wrap(what());
  }
  return Error(ErrorCode::network, cat(what(), ": ", describe_response(r)));
}

Result<void> BlobDownload::on_head(const HttpResponse& r) {
  if (m_received > 0 && r.status == 200) {
    // The server ignored Range: start over.
    KILN_TRY_ASSIGN(auto w, m_store.begin_blob());
    m_writer.emplace(std::move(w));
    m_received = 0;
    m_buffer.clear();
  } else if (r.status == 206) {
    std::string range = r.header("content-range").value_or("");
    if (!range.starts_with(cat("bytes ", m_received, "-"))) {
      return Error(ErrorCode::network, cat(what(), ": resumed at the wrong offset (Content-Range `", range, "`)"));
    }
  }
  return {};
}

Result<void> BlobDownload::on_data(std::string_view data) {
  if (m_received + static_cast<int64_t>(data.size()) > m_desc.size) {
    return Error(ErrorCode::cache_corrupt,
                 cat(what(), ": the registry sent more than the ", m_desc.size, " bytes the manifest lists"));
  }
  // curl hands over at most 16 KiB at a time: write in 1 MiB pieces.
  m_buffer.append(data);
  if (m_buffer.size() >= k_write_chunk) {
    KILN_TRY(flush());
  }
  m_received += static_cast<int64_t>(data.size());
  session().report({ProgressEvent::Kind::advanced, m_desc.digest.str(), m_kind, m_desc.size, m_received, ""});
  return {};
}

Result<void> BlobDownload::flush() {
  KILN_TRY(m_writer->write(m_buffer));
  m_buffer.clear();
  return {};
}

}  // namespace kiln::registry::detail
