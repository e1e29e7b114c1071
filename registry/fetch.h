// Downloading one URL to a file: what `ADD https://...` needs (Dockerfile
// reference, "ADD" with a URL source; BuildKit's http source). Uses the same
// libcurl client as the distribution code (http.h), so proxies, TLS and
// redirects behave the same way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "oci/digest.h"
#include "util/result.h"

namespace kiln::registry {

struct FetchOptions {
  bool tls_verify = true;   ///< false: accept any certificate
  std::string cert_dir;     ///< extra CA certificates (`*.crt`), as --cert-dir
  int retries = 2;          ///< extra attempts after a connection error or a 5xx/429
  /// When set, the downloaded bytes must have this digest ("sha256:<hex>",
  /// ADD --checksum); a mismatch is an error and the file is removed.
  std::optional<oci::Digest> expected;
  int64_t max_bytes = 0;    ///< 0 = no limit; larger bodies are an error
};

struct FetchedFile {
  oci::Digest digest;             ///< sha256 of the bytes written
  int64_t size = 0;
  std::optional<int64_t> mtime;   ///< the Last-Modified header (seconds), when sent and valid
  std::string effective_url;      ///< after redirects
};

/// GETs `url` (http or https, following redirects) into `dest_path`
/// (created with `mode`, replaced when present; written under a temp name
/// and renamed, so a failed download leaves nothing at dest_path). The
/// digest is computed while the bytes stream to disk. Errors: invalid_input
/// for another scheme or a bad checksum form; network (after retries)
/// naming the URL and curl's reason or the HTTP status; cache_corrupt when
/// the bytes do not match `expected` (naming both digests); io for the file.
Result<FetchedFile> fetch_url_to_file(const std::string& url, const std::string& dest_path, mode_t mode,
                                      const FetchOptions& options = {});

}  // namespace kiln::registry
