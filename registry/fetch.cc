#include "registry/fetch.h"


#include <chrono>
#include <thread>

#include "registry/curl_lib.h"
#include "registry/http.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

bool retryable(const Result<HttpResponse>& r) {
  if (!r) {
    return r.error().code() == ErrorCode::network;
  }
  return r->status == 429 || r->status >= 500;
}

// One attempt: the body streams into a fresh temp file beside dest.
Result<FetchedFile> fetch_once(HttpClient& http, const std::string& url, const std::string& dest_path, mode_t mode,
                               const FetchOptions& options, bool* retry) {
  KILN_TRY_ASSIGN(AtomicFile file, AtomicFile::create(dest_path, mode));
  Sha256 sha;
  int64_t size = 0;
  HttpRequest req;
  req.url = url;
  req.tls.verify = options.tls_verify;
  req.tls.cert_dir = options.cert_dir;
  req.body_writer = [&](std::string_view bytes) -> Result<void> {
    size += static_cast<int64_t>(bytes.size());
    if (options.max_bytes > 0 && size > options.max_bytes) {
      return Error(ErrorCode::invalid_input, cat("download `", url, "`: larger than ", options.max_bytes, " bytes"));
    }
    sha.update(bytes);
    return write_all(file.fd(), bytes);
  };
  auto resp = http.perform(std::move(req));
  *retry = retryable(resp);
  if (!resp) {
    return std::move(resp).error().wrap(cat("download `", url, "`"));
  }
  if (resp->status < 200 || resp->status >= 300) {
    return Error(resp->status == 404 ? ErrorCode::not_found : ErrorCode::network,
                 cat("download `", url, "`: the server answered HTTP ", resp->status));
  }
  FetchedFile out;
  out.digest = oci::Digest::from_sha256_hex(sha.finish_hex());
  out.size = size;
  out.effective_url = resp->effective_url.empty() ? url : resp->effective_url;
  if (auto lm = resp->header("last-modified")) {
    time_t t = curl().getdate(lm->c_str(), nullptr);
    if (t >= 0) {
      out.mtime = static_cast<int64_t>(t);
    }
  }
  if (options.expected && *options.expected != out.digest) {
    return Error(ErrorCode::cache_corrupt, cat("download `", url, "`: checksum mismatch: expected ",
                                               options.expected->str(), ", got ", out.digest.str()));
  }
  KILN_TRY(file.commit());
  return out;
}

}  // namespace

Result<FetchedFile> fetch_url_to_file(const std::string& url, const std::string& dest_path, mode_t mode,
                                      const FetchOptions& options) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Error(ErrorCode::invalid_input, cat("download `", url, "`: only http and https URLs can be fetched"));
  }
  HttpClient http;
  auto delay = std::chrono::milliseconds(200);
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    auto r = fetch_once(http, url, dest_path, mode, options, &retry);
    if (r || !retry || attempt >= options.retries) {
      return r;
    }
    log::debug("download `", url, "`: ", r.error().render(), "; retrying in ", delay.count(), " ms");
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

}  // namespace kiln::registry
