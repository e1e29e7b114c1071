// Push: blobs (HEAD, mount, or upload) in parallel, then the manifest.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "oci/media_types.h"
#include "registry/blob_sources.h"
#include "registry/registries_conf.h"
#include "registry/registry.h"
#include "registry/session.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

std::string where(const Session& s) { return cat("registry `", s.registry(), "` repository `", s.repository(), "`"); }

std::string with_digest(const std::string& location, const oci::Digest& d) {
  return cat(location, location.find('?') == std::string::npos ? "?" : "&", "digest=", url_escape(d.str()));
}

// One blob: HEAD (skip when present), a cross-repository mount when the
// blob is known in another repository of the registry, else an upload: a
// monolithic PUT for small blobs, PATCH chunks and a final PUT for large
// ones. Bytes are read from the store and hashed as they go out; the last
// piece is handed to curl only after the digest matched, so the registry
// never receives a wrong blob in full.
class BlobUpload : public SessionTransfer {
 public:
  enum class Outcome { none, skipped, mounted, uploaded };

  BlobUpload(Session& s, const cache::Store& store, oci::Descriptor d, std::string kind, std::vector<std::string> mounts,
             const PushOptions& o)
      : SessionTransfer(s, cat("push ", kind, " `", d.digest.str(), "` to ", where(s))),
        m_store(store),
        m_desc(std::move(d)),
        m_kind(std::move(kind)),
        m_mounts(std::move(mounts)),
        m_opts(o) {}

  Outcome outcome() const { return m_outcome; }
  int64_t sent() const { return m_outcome == Outcome::uploaded ? m_desc.size : 0; }

 protected:
  Result<std::optional<HttpRequest>> request() override;
  Result<void> response(HttpResponse r) override;
  void before_retry() override {
    if (m_step == Step::put_mono) {
      m_step = Step::post;  // a broken PUT leaves the session in an unknown state: start a new one
    } else if (m_step == Step::patch) {
      m_step = Step::status;  // ask the registry how much it has
    }
  }

 private:
  enum class Step { head, mount, post, put_mono, patch, status, put_final, done };

  Result<void> start_upload(const HttpResponse& r);
  Result<void> finish(Outcome o, ProgressEvent::Kind kind) {
    m_outcome = o;
    m_step = Step::done;
    session().report({kind, m_desc.digest.str(), m_kind, m_desc.size, m_desc.size, ""});
    return {};
  }
  HttpRequest body_request(const std::string& method, const std::string& url, int64_t offset, int64_t length);
  Result<size_t> read_at(int64_t pos, char* buf, size_t n);
  Error unexpected(const HttpResponse& r) {
    if (r.status == 401 || r.status == 403) {
      return session().denied(r).wrap(what());
    }
    return Error(ErrorCode::network, cat(what(), ": ", describe_response(r)));
  }

  const cache::Store& m_store;
  oci::Descriptor m_desc;
  std::string m_kind;
  std::vector<std::string> m_mounts;  // repository paths on this registry
  PushOptions m_opts;
  Step m_step = Step::head;
  Outcome m_outcome = Outcome::none;
  std::string m_location;
  int64_t m_offset = 0;  // bytes the registry has in this upload session
  int64_t m_chunk = 0;   // length of the PATCH in flight
  UniqueFd m_fd;
  Sha256 m_hash;
  int64_t m_hashed = 0;
  bool m_verified = false;
};

HttpRequest BlobUpload::body_request(const std::string& method, const std::string& url, int64_t offset,
                                     int64_t length) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  req.body_size = length;
  auto pos = std::make_shared<int64_t>(offset);
  int64_t end = offset + length;
  req.body_reader = [this, pos, end](char* buf, size_t n) -> Result<size_t> {
    size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), end - *pos));
    KILN_TRY_ASSIGN(size_t got, read_at(*pos, buf, want));
    *pos += static_cast<int64_t>(got);
    session().report({ProgressEvent::Kind::advanced, m_desc.digest.str(), m_kind, m_desc.size, *pos, ""});
    return got;
  };
  return req;
}

Result<size_t> BlobUpload::read_at(int64_t pos, char* buf, size_t n) {
  if (!m_fd) {
    KILN_TRY_ASSIGN(m_fd, m_store.open_blob(m_desc.digest));
  }
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::pread(m_fd.get(), buf + got, n - got, pos + static_cast<int64_t>(got));
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k < 0) {
      return Error(ErrorCode::io, cat(what(), ": read the blob from the store"), errno);
    }
    if (k == 0) {
      return Error(ErrorCode::cache_corrupt, cat(what(), ": the stored blob is shorter than ", m_desc.size, " bytes"));
    }
    got += static_cast<size_t>(k);
  }
  // Hash each byte once, in order, however often a retry re-reads it.
  int64_t end = pos + static_cast<int64_t>(got);
  if (end > m_hashed && pos <= m_hashed) {
    m_hash.update(buf + (m_hashed - pos), static_cast<size_t>(end - m_hashed));
    m_hashed = end;
  }
  if (m_hashed == m_desc.size && !m_verified) {
    std::string hex = m_hash.finish_hex();
    if (hex != m_desc.digest.hex()) {
      return Error(ErrorCode::cache_corrupt, cat(what(), ": the blob in the store does not match its digest (got `sha256:",
                                                 hex, "`); upload abandoned"))
          .with_hint("`kiln fsck` lists damaged blobs");
    }
    m_verified = true;
  }
  return got;
}

Result<std::optional<HttpRequest>> BlobUpload::request() {
  HttpRequest req;
  switch (m_step) {
    case Step::head:
      req.method = "HEAD";
      req.url = session().url("/blobs/" + m_desc.digest.str());
      break;
    case Step::mount:
      req.method = "POST";
      req.url = session().url(cat("/blobs/uploads/?mount=", url_escape(m_desc.digest.str()), "&from=",
                                  url_escape(m_mounts.front())));
      break;
    case Step::post:
      m_offset = 0;
      req.method = "POST";
      req.url = session().url("/blobs/uploads/");
      break;
    case Step::put_mono:
      session().report({ProgressEvent::Kind::started, m_desc.digest.str(), m_kind, m_desc.size, 0, ""});
      req = body_request("PUT", with_digest(m_location, m_desc.digest), 0, m_desc.size);
      break;
    case Step::patch:
      if (m_offset == 0) {
        session().report({ProgressEvent::Kind::started, m_desc.digest.str(), m_kind, m_desc.size, 0, ""});
      }
      m_chunk = std::min(m_opts.chunk_size, m_desc.size - m_offset);
      req = body_request("PATCH", m_location, m_offset, m_chunk);
      req.headers.emplace_back("Content-Range", cat(m_offset, "-", m_offset + m_chunk - 1));
      break;
    case Step::status:
      req.url = m_location;
      break;
    case Step::put_final:
      req.method = "PUT";
      req.url = with_digest(m_location, m_desc.digest);
      break;
    case Step::done:
      return std::optional<HttpRequest>();
  }
  return std::optional<HttpRequest>(std::move(req));
}

Result<void> BlobUpload::start_upload(const HttpResponse& r) {
  auto loc = r.header("location");
  if (!loc) {
    return Error(ErrorCode::network, cat(what(), ": the registry started an upload without a Location"));
  }
  m_location = session().resolve(*loc);
  m_offset = 0;
  m_step = m_desc.size <= m_opts.monolithic_max ? Step::put_mono : Step::patch;
  return {};
}

Result<void> BlobUpload::response(HttpResponse r) {
  switch (m_step) {
    case Step::head:
      if (r.status == 200) {
        return finish(Outcome::skipped, ProgressEvent::Kind::skipped);
      }
      if (r.status == 401 || r.status == 403) {
        return unexpected(r);
      }
      m_step = m_mounts.empty() ? Step::post : Step::mount;
      return {};
    case Step::mount:
      if (r.status == 201) {
        return finish(Outcome::mounted, ProgressEvent::Kind::mounted);
      }
      if (r.status == 202) {
        return start_upload(r);
      }
      m_mounts.erase(m_mounts.begin());
      m_step = m_mounts.empty() ? Step::post : Step::mount;
      return {};
    case Step::post:
      if (r.status != 202) {
        return unexpected(r);
      }
      return start_upload(r);
    case Step::patch:
      if (r.status != 202) {
        return unexpected(r);
      }
      m_location = session().resolve(r.header("location").value_or(m_location));
      m_offset += m_chunk;
      m_step = m_offset >= m_desc.size ? Step::put_final : Step::patch;
      return {};
    case Step::status:
      if (r.status == 404) {
        m_step = Step::post;
        return {};
      }
      if (r.status != 204 && r.status != 200) {
        return unexpected(r);
      }
      {
        // Range: 0-N (inclusive) of the bytes the registry has.
        std::string range = r.header("range").value_or("0--1");
        auto dash = range.rfind('-');
        auto last = parse_int(range.substr(dash + 1));
        m_offset = last ? *last + 1 : 0;
        m_location = session().resolve(r.header("location").value_or(m_location));
        m_step = m_offset >= m_desc.size ? Step::put_final : Step::patch;
      }
      return {};
    case Step::put_mono:
    case Step::put_final:
      if (r.status != 201 && r.status != 204) {
        return unexpected(r);
      }
      return finish(Outcome::uploaded, ProgressEvent::Kind::finished);
    case Step::done:
      break;
  }
  return {};
}

// Repositories of dest's registry the blob is known in (mount sources).
std::vector<std::string> mount_candidates(const cache::Store& store, const oci::Digest& d, const oci::Reference& dest) {
  std::vector<std::string> out;
  std::string prefix = dest.domain + "/";
  for (const auto& repo : blob_sources(store, d)) {
    if (repo.starts_with(prefix) && repo != dest.name()) {
      out.push_back(repo.substr(prefix.size()));
    }
  }
  std::reverse(out.begin(), out.end());  // newest first
  return out;
}

Result<oci::Digest> put_manifest(Session& s, const cache::LoadedImage& image, const oci::Reference& dest) {
  std::string target = dest.tag_given || !dest.digest ? dest.tag : dest.digest->str();
  std::string media_type = image.manifest.media_type.empty() ? image.record.manifest.media_type : image.manifest.media_type;
  if (media_type.empty()) {
    media_type = oci::media::k_oci_manifest;
  }
  std::string what = cat("push manifest `", target, "` to ", where(s));
  KILN_TRY_ASSIGN(HttpResponse r, s.send(
                                      [&]() -> Result<HttpRequest> {
                                        HttpRequest req;
                                        req.method = "PUT";
                                        req.url = s.url("/manifests/" + target);
                                        req.headers.emplace_back("Content-Type", media_type);
                                        req.body = image.manifest_bytes;
                                        return req;
                                      },
                                      what));
  if (r.status == 401 || r.status == 403) {
    return s.denied(r).wrap(what);
  }
  if (r.status != 201 && r.status != 200 && r.status != 202) {
    return Error(ErrorCode::network, cat(what, ": ", describe_response(r)));
  }
  oci::Digest digest = oci::Digest::sha256_of(image.manifest_bytes);
  if (auto header = r.header("docker-content-digest")) {
    auto d = oci::Digest::parse(*header);
    if (d && d->algorithm() == "sha256" && *d != digest) {
      return Error(ErrorCode::network, cat(what, ": the registry stored digest `", *header, "`, expected `", digest.str(), "`"));
    }
  }
  return digest;
}

}  // namespace

Result<PushedImage> push_image(const cache::Store& store, const cache::LoadedImage& image, const oci::Reference& dest,
                               const RegistryOptions& options, const PushOptions& push_options) {
  KILN_TRY_ASSIGN(RegistriesConfig conf, RegistriesConfig::load(options.registries_conf));
  if (const RegistryEntry* e = conf.find(dest.name()); e != nullptr && e->blocked) {
    return Error(ErrorCode::invalid_input, cat("registry `", dest.domain, "` is blocked in the registries configuration (prefix `",
                                               e->prefix, "`): cannot push `", dest.str(), "`"));
  }
  std::string ctx = cat("push `", dest.str(), "`");
  HttpClient http;
  KILN_TRY_ASSIGN(auto session, Session::open(http, dest.domain, dest.path, "pull,push", conf.insecure(dest.domain),
                                              options)
                                    .context(ctx));
  std::vector<std::unique_ptr<BlobUpload>> uploads;
  std::vector<std::string> scopes;
  std::vector<oci::Digest> seen;
  auto add = [&](const oci::Descriptor& d, const char* kind) {
    if (std::find(seen.begin(), seen.end(), d.digest) != seen.end()) {
      return;
    }
    seen.push_back(d.digest);
    auto mounts = mount_candidates(store, d.digest, dest);
    for (const auto& m : mounts) {
      scopes.push_back(cat("repository:", m, ":pull"));
    }
    uploads.push_back(std::make_unique<BlobUpload>(*session, store, d, kind, std::move(mounts), push_options));
  };
  // Layers first: the config is small and last, as other clients do.
  for (const auto& l : image.manifest.layers) {
    add(l, "layer");
  }
  add(image.manifest.config, "config");
  if (!scopes.empty()) {
    auto r = session->add_scopes(scopes);
    if (!r) {
      log::debug("no token for mount sources (", r.error().render(), "); uploading instead");
    }
  }
  std::vector<Transfer*> transfers;
  for (auto& u : uploads) {
    transfers.push_back(u.get());
  }
  KILN_TRY(http.run(transfers, options.max_parallel).context(ctx));
  PushedImage out;
  for (const auto& u : uploads) {
    out.bytes_uploaded += u->sent();
    out.blobs_uploaded += u->outcome() == BlobUpload::Outcome::uploaded ? 1 : 0;
    out.blobs_skipped += u->outcome() == BlobUpload::Outcome::skipped ? 1 : 0;
    out.blobs_mounted += u->outcome() == BlobUpload::Outcome::mounted ? 1 : 0;
  }
  KILN_TRY_ASSIGN(out.manifest_digest, put_manifest(*session, image, dest).context(ctx));
  out.reference = dest.str();
  for (const auto& d : image.manifest.layers) {
    record_blob_source(store, d.digest, dest.name());
  }
  record_blob_source(store, image.manifest.config.digest, dest.name());
  return out;
}

}  // namespace kiln::registry
