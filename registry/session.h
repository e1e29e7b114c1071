// A session with one repository on one registry: the endpoint (https, or
// http for an insecure registry), authentication (anonymous, basic, bearer
// tokens from the WWW-Authenticate challenge, cached per scope for the
// process) and retries with backoff. Internal to registry/.
//
// Spec: OCI distribution-spec (the /v2/ API), Docker's token authentication
// (docs/spec/auth/token.md in distribution): a 401 carries
// `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`; the client
// GETs realm?service=..&scope=.. (with basic credentials when it has them)
// and sends `Authorization: Bearer <token>`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "registry/http.h"
#include "registry/options.h"

namespace kiln::registry {

struct Challenge {
  std::string scheme;  ///< lower-case: "basic", "bearer"
  std::map<std::string, std::string> params;
};
/// Parses a WWW-Authenticate value (RFC 7235: comma-separated challenges
/// with auth-params, quoted strings with backslash escapes).
std::vector<Challenge> parse_challenges(std::string_view header);

/// "HTTP 404: MANIFEST_UNKNOWN: manifest unknown" from a registry's JSON error
/// body (distribution-spec "Error Codes"), else the status and a short body.
std::string describe_response(const HttpResponse& response);

class Session {
 public:
  /// Opens a session for `repository` ("team/app") on `registry` (a
  /// reference's domain) with `actions` ("pull" or "pull,push"), pinging
  /// /v2/ to learn the endpoint and the auth challenge. `insecure` (from
  /// registries.conf) allows plain HTTP and unverified TLS unless
  /// options.tls_verify says otherwise. Errors: network naming the registry.
  static Result<std::unique_ptr<Session>> open(HttpClient& http, const std::string& registry,
                                               const std::string& repository, const std::string& actions,
                                               bool insecure, const RegistryOptions& options);

  const std::string& registry() const { return m_registry; }
  const std::string& repository() const { return m_repository; }
  const RegistryOptions& options() const { return m_options; }
  HttpClient& http() { return m_http; }
  /// "https://host/v2/<repository><path>".
  std::string url(std::string_view path) const;
  /// "https://host" + an absolute path or a full URL (a Location header).
  std::string resolve(std::string_view location) const;

  /// Asks for more scopes too (a mount's source: "repository:x:pull"),
  /// getting one new token for all of them.
  Result<void> add_scopes(const std::vector<std::string>& scopes);
  /// Adds the Authorization header and TLS settings.
  void authorize(HttpRequest& request) const;
  /// After a 401: gets a new token (or gives up). Errors: auth naming the
  /// registry and repository, with the server's answer.
  Result<void> reauthorize(const HttpResponse& unauthorized);
  /// An auth error for a 401/403 that persisted.
  Error denied(const HttpResponse& response) const;

  /// Sends one request (made fresh for each attempt), with auth and
  /// retries. Returns the final response, whatever its status.
  Result<HttpResponse> send(const std::function<Result<HttpRequest>()>& make, const std::string& what);

  /// Delay before retry number `attempt` (0-based) of `outcome`, or nullopt
  /// when it is not retryable (or retries are used up).
  std::optional<std::chrono::milliseconds> retry_delay(const Result<HttpResponse>& outcome, int attempt) const;

  void report(const ProgressEvent& event) const {
    if (m_options.progress) {
      m_options.progress(event);
    }
  }

 private:
  Session(HttpClient& http, const RegistryOptions& options) : m_http(http), m_options(options) {}
  Result<void> ping();
  Result<HttpResponse> perform_retrying(const HttpRequest& request, const std::string& what);
  Result<void> fetch_token();

  HttpClient& m_http;
  RegistryOptions m_options;
  std::string m_registry;
  std::string m_repository;
  std::string m_base;  // "https://host"
  TlsOptions m_tls;
  bool m_insecure = false;
  std::optional<Credentials> m_creds;
  std::vector<std::string> m_scopes;
  std::optional<Challenge> m_challenge;
  Redacted<std::string> m_authorization;  // the Authorization header value
};

/// A Transfer run through a Session: adds auth to each request, reauthorizes
/// once after a 401, retries network errors, 429 and 5xx with backoff, and
/// hands every other response to response().
class SessionTransfer : public Transfer {
 public:
  SessionTransfer(Session& session, std::string what) : m_session(session), m_what(std::move(what)) {}
  Result<std::optional<HttpRequest>> next() final;
  Result<void> done(Result<HttpResponse> outcome) final;

 protected:
  /// The current step's request (auth is added); nullopt when finished.
  virtual Result<std::optional<HttpRequest>> request() = 0;
  /// A response that is not retried; advance or fail.
  virtual Result<void> response(HttpResponse r) = 0;
  /// Before the current step is sent again after an error.
  virtual void before_retry() {}
  Session& session() { return m_session; }
  const std::string& what() const { return m_what; }

 private:
  Session& m_session;
  std::string m_what;
  int m_attempt = 0;
  bool m_reauthorized = false;
};

}  // namespace kiln::registry
