// HTTP for the distribution client, over libcurl (private to registry/: no
// curl type appears here, STYLE.md L1). One HttpClient owns a curl multi
// handle and a share handle, so every request of one pull or push reuses
// connections, DNS answers and TLS sessions; HTTP/2 is negotiated over TLS
// where the server offers it and parallel transfers are multiplexed on it.
//
// Two ways to send: perform() runs one request to completion; run() drives
// many Transfers (each a small state machine that yields one request after
// another) concurrently on the multi handle, which is how blobs move in
// parallel without threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace kiln::registry {

/// TLS settings for one registry.
struct TlsOptions {
  bool verify = true;     ///< false: accept any certificate (and plain HTTP, decided by the caller)
  std::string cert_dir;   ///< "" or a directory of CA `*.crt` and client `*.cert`/`*.key` (docker certs.d)
};

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  ///< sent as given (may hold secrets: never logged)
  std::string body;  ///< request body when body_reader is empty
  /// Streaming upload: fills up to n bytes of buf, returns the count (0 at
  /// the end). An error aborts the transfer and becomes its outcome.
  std::function<Result<size_t>(char* buf, size_t n)> body_reader;
  int64_t body_size = -1;  ///< with body_reader: Content-Length; -1 sends chunked
  /// Streaming download of a 2xx body; an error aborts the transfer. Without
  /// it the body is kept in HttpResponse::body (capped at 16 MiB).
  std::function<Result<void>(std::string_view)> body_writer;
  /// Called once with the final response's status and headers, before
  /// body_writer sees any byte (only for 2xx responses).
  std::function<Result<void>(const HttpResponse&)> on_head;
  bool follow_redirects = true;
  TlsOptions tls;
};

struct HttpResponse {
  long status = 0;
  /// Headers of the final response, names lower-cased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< see HttpRequest::body_writer (error bodies are always kept, capped)
  std::string effective_url;
  std::string http_version;  ///< "1.1", "2"

  /// First header with this (lower-case) name.
  std::optional<std::string> header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
};

/// One logical exchange (a blob download with resumes, an upload's
/// POST/PATCH/PUT sequence) as seen by HttpClient::run.
class Transfer {
 public:
  virtual ~Transfer() = default;
  /// The next request to send; nullopt when this transfer is finished.
  virtual Result<std::optional<HttpRequest>> next() = 0;
  /// The outcome of the request next() gave: a response (any status) or a
  /// transport error (code network). An error returned here stops run().
  virtual Result<void> done(Result<HttpResponse> outcome) = 0;
  /// next() is not called before this time (retry backoff).
  std::chrono::steady_clock::time_point not_before{};
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request and waits. Errors: network for connection, TLS and
  /// transfer failures (naming the URL and curl's reason); errors from the
  /// request's callbacks pass through. Any HTTP status is a response.
  Result<HttpResponse> perform(HttpRequest request);

  /// Runs the transfers concurrently, at most max_parallel requests at once,
  /// until each one's next() gives nullopt. The first error from a
  /// transfer's next() or done() aborts the others and is returned.
  Result<void> run(const std::vector<Transfer*>& transfers, size_t max_parallel);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// "https://host/path?q" -> "host" (with port); used to compare hosts.
std::string url_host(std::string_view url);
/// Percent-encodes a query value (RFC 3986 unreserved kept).
std::string url_escape(std::string_view s);
/// Base64 (RFC 4648, with padding) and its inverse (nullopt when malformed).
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kiln::registry
