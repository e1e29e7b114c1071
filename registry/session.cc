#include "registry/session.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "oci/json.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

// Bearer tokens for the whole process, per (registry, user, scopes): a pull
// and a later push in one kiln run reuse them until they expire.
struct TokenCache {
  struct Entry {
    Redacted<std::string> token;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu;
  std::map<std::string, Entry> entries;
};

TokenCache& token_cache() {
  static TokenCache cache;
  return cache;
}

std::string api_host(const std::string& registry) {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

std::string default_cert_dir(const std::string& host) {
  for (const char* base : {"/etc/containers/certs.d", "/etc/docker/certs.d"}) {
    std::string d = path_join(base, host);
    if (is_directory(d)) {
      return d;
    }
  }
  return "";
}

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) {
      ++i;
    }
  };
  while (true) {
    skip_ws();
    if (i >= h.size()) {
      break;
    }
    size_t start = i;
    while (i < h.size() && h[i] != ' ' && h[i] != '=' && h[i] != ',') {
      ++i;
    }
    std::string token(h.substr(start, i - start));
    size_t save = i;
    while (i < h.size() && h[i] == ' ') {
      ++i;
    }
    if (i < h.size() && h[i] == '=' && !out.empty()) {
      // auth-param of the current challenge
      ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        for (++i; i < h.size() && h[i] != '"'; ++i) {
          if (h[i] == '\\' && i + 1 < h.size()) {
            ++i;
          }
          value.push_back(h[i]);
        }
        ++i;
      } else {
        size_t vs = i;
        while (i < h.size() && h[i] != ',') {
          ++i;
        }
        value = std::string(trim(h.substr(vs, i - vs)));
      }
      out.back().params[to_lower(token)] = value;
    } else {
      i = save;
      out.push_back(Challenge{to_lower(token), {}});
    }
  }
  return out;
}

std::string describe_response(const HttpResponse& r) {
  std::string out = cat("HTTP ", r.status);
  auto j = oci::parse_json(r.body, "error body");
  if (j && j->is_object() && j->contains("errors") && (*j)["errors"].is_array()) {
    for (const auto& e : (*j)["errors"]) {
      if (e.is_object()) {
        out += cat(": ", e.value("code", std::string("?")), ": ", e.value("message", std::string()));
      }
    }
    return out;
  }
  std::string body(trim(r.body));
  if (!body.empty()) {
    out += ": " + body.substr(0, 200);
  }
  return out;
}

Result<std::unique_ptr<Session>> Session::open(HttpClient& http, const std::string& registry,
                                               const std::string& repository, const std::string& actions,
                                               bool insecure, const RegistryOptions& options) {
  std::unique_ptr<Session> s(new Session(http, options));
  s->m_registry = registry;
  s->m_repository = repository;
  s->m_insecure = options.tls_verify ? !*options.tls_verify : insecure;
  std::string host = api_host(registry);
  s->m_tls.verify = !s->m_insecure;
  s->m_tls.cert_dir = options.cert_dir.empty() ? default_cert_dir(host) : options.cert_dir;
  s->m_base = "https://" + host;
  if (!repository.empty()) {
    s->m_scopes.push_back(cat("repository:", repository, ":", actions));
  }
  if (options.credentials) {
    s->m_creds = options.credentials;
  } else {
    KILN_TRY_ASSIGN(s->m_creds, lookup_credentials(registry, repository, options.auth_file));
  }
  KILN_TRY(s->ping().context(cat("connect to registry `", registry, "`")));
  return s;
}

std::string Session::url(std::string_view path) const { return cat(m_base, "/v2/", m_repository, path); }

std::string Session::resolve(std::string_view location) const {
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return std::string(location);
  }
  return cat(m_base, location.starts_with("/") ? "" : "/", location);
}

Result<HttpResponse> Session::perform_retrying(const HttpRequest& request, const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    auto out = m_http.perform(request);
    auto delay = retry_delay(out, attempt);
    if (!delay) {
      return std::move(out).context(what);
    }
    log::debug(what, ": retrying in ", delay->count(), " ms");
    std::this_thread::sleep_for(*delay);
  }
}

Result<void> Session::ping() {
  HttpRequest req;
  req.url = m_base + "/v2/";
  req.tls = m_tls;
  // An insecure registry may speak plain HTTP: one HTTPS attempt, then HTTP.
  auto r = m_insecure ? m_http.perform(req) : perform_retrying(req, "ping");
  if (!r && m_insecure && r.error().code() == ErrorCode::network) {
    log::debug("registry `", m_registry, "`: HTTPS failed (", r.error().render(), "); trying HTTP");
    m_base = "http://" + api_host(m_registry);
    req.url = m_base + "/v2/";
    r = perform_retrying(req, "ping");
  }
  if (!r) {
    auto err = std::move(r).error();
    if (!m_insecure && err.message().find("SSL") != std::string::npos) {
      err.with_hint("for a registry without a trusted certificate use --cert-dir DIR (its CA as DIR/*.crt), or "
                    "--tls-verify=false");
    }
    return err;
  }
  if (r->status == 401) {
    for (auto& c : parse_challenges(r->header("www-authenticate").value_or(""))) {
      if (c.scheme == "bearer" || (c.scheme == "basic" && !m_challenge)) {
        m_challenge = std::move(c);
      }
    }
  }
  if (!m_challenge) {
    return {};
  }
  if (m_challenge->scheme == "basic") {
    if (m_creds) {
      m_authorization = Redacted<std::string>(
          "Basic " + base64_encode(cat(m_creds->username, ":", m_creds->password.reveal())));
    }
    return {};
  }
  return fetch_token();
}

Result<void> Session::fetch_token() {
  std::string realm = m_challenge->params["realm"];
  if (realm.empty()) {
    return Error(ErrorCode::auth, cat("registry `", m_registry, "` sent a bearer challenge without a realm"));
  }
  std::sort(m_scopes.begin(), m_scopes.end());
  m_scopes.erase(std::unique(m_scopes.begin(), m_scopes.end()), m_scopes.end());
  std::string key = cat(m_registry, "|", m_creds ? m_creds->username : "", "|", join(m_scopes, " "));
  {
    auto& cache = token_cache();
    std::lock_guard lock(cache.mu);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end() && it->second.expires > std::chrono::steady_clock::now()) {
      m_authorization = Redacted<std::string>("Bearer " + it->second.token.reveal());
      return {};
    }
  }
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  url += "service=" + url_escape(m_challenge->params["service"]);
  for (const auto& s : m_scopes) {
    url += "&scope=" + url_escape(s);
  }
  HttpRequest req;
  req.url = url;
  req.tls = m_tls;
  if (m_creds) {
    req.headers.emplace_back("Authorization",
                             "Basic " + base64_encode(cat(m_creds->username, ":", m_creds->password.reveal())));
  }
  KILN_TRY_ASSIGN(HttpResponse r, perform_retrying(req, cat("get a token from `", url_host(realm), "`")));
  if (r.status != 200) {
    return Error(ErrorCode::auth, cat("registry `", m_registry, "`: the token server refused ",
                                      m_creds ? cat("the credentials of user `", m_creds->username, "`") : "anonymous access",
                                      " for repository `", m_repository, "`: ", describe_response(r)))
        .with_hint(cat("check the credentials with `kiln login ", m_registry, "`"));
  }
  auto j = oci::parse_json(r.body, "token response");
  std::string token;
  int64_t expires_in = 60;
  if (j && j->is_object()) {
    token = j->value("token", j->value("access_token", std::string()));
    expires_in = std::max<int64_t>(j->value("expires_in", int64_t{60}), 10);
  }
  if (token.empty()) {
    return Error(ErrorCode::auth, cat("registry `", m_registry, "`: the token server answered without a token"));
  }
  {
    auto& cache = token_cache();
    std::lock_guard lock(cache.mu);
    cache.entries[key] = {Redacted<std::string>(token),
                          std::chrono::steady_clock::now() + std::chrono::seconds(expires_in - 5)};
  }
  m_authorization = Redacted<std::string>("Bearer " + token);
  return {};
}

Result<void> Session::add_scopes(const std::vector<std::string>& scopes) {
  bool added = false;
  for (const auto& scope : scopes) {
    if (std::find(m_scopes.begin(), m_scopes.end(), scope) == m_scopes.end()) {
      m_scopes.push_back(scope);
      added = true;
    }
  }
  if (added && m_challenge && m_challenge->scheme == "bearer") {
    return fetch_token();
  }
  return {};
}

void Session::authorize(HttpRequest& request) const {
  request.tls = m_tls;
  // Only to the registry itself: a redirect to a blob store gets no credentials.
  if (!m_authorization.empty() && url_host(request.url) == url_host(m_base)) {
    request.headers.emplace_back("Authorization", m_authorization.reveal());
  }
}

Error Session::denied(const HttpResponse& r) const {
  std::string who = m_creds ? cat("the credentials of user `", m_creds->username, "`") : "anonymous access";
  return Error(ErrorCode::auth, cat("registry `", m_registry, "` refused ", who, " for repository `", m_repository,
                                    "`: ", describe_response(r)))
      .with_hint(m_creds ? cat("check the credentials (`kiln login ", m_registry, "`)")
                         : cat("log in first: `kiln login ", m_registry, "`"));
}

Result<void> Session::reauthorize(const HttpResponse& r) {
  std::optional<Challenge> bearer;
  for (auto& c : parse_challenges(r.header("www-authenticate").value_or(""))) {
    if (c.scheme == "bearer") {
      bearer = std::move(c);
    }
  }
  if (!bearer) {
    return denied(r);
  }
  m_challenge = bearer;
  if (auto it = bearer->params.find("scope"); it != bearer->params.end()) {
    for (const auto& s : split(it->second, ' ')) {
      if (!s.empty() && std::find(m_scopes.begin(), m_scopes.end(), s) == m_scopes.end()) {
        m_scopes.push_back(s);
      }
    }
  }
  // Forget the cached token for this scope set: it was just refused.
  {
    auto& cache = token_cache();
    std::lock_guard lock(cache.mu);
    cache.entries.clear();
  }
  return fetch_token();
}

std::optional<std::chrono::milliseconds> Session::retry_delay(const Result<HttpResponse>& out, int attempt) const {
  if (attempt >= m_options.retries) {
    return std::nullopt;
  }
  // TLS failures (a certificate, plain HTTP on an HTTPS port) do not heal
  // with time: only connection and transfer errors are retried.
  bool tls_failure = !out && (out.error().message().find("SSL") != std::string::npos ||
                              out.error().message().find("certificate") != std::string::npos);
  bool retry = out ? (out->status == 429 || out->status >= 500)
                   : out.error().code() == ErrorCode::network && !tls_failure;
  if (!retry) {
    return std::nullopt;
  }
  if (out) {
    if (auto after = out->header("retry-after")) {
      if (auto secs = parse_uint(*after)) {
        return std::chrono::milliseconds(std::min<uint64_t>(*secs, 60) * 1000);
      }
    }
  }
  return m_options.retry_delay * (1LL << std::min(attempt, 10));
}

Result<HttpResponse> Session::send(const std::function<Result<HttpRequest>()>& make, const std::string& what) {
  bool reauthorized = false;
  for (int attempt = 0;;) {
    KILN_TRY_ASSIGN(HttpRequest req, make());
    authorize(req);
    auto out = m_http.perform(std::move(req));
    if (out && (out->status == 401 || out->status == 403) && !reauthorized) {
      reauthorized = true;
      KILN_TRY(reauthorize(*out).context(what));
      continue;
    }
    auto delay = retry_delay(out, attempt);
    if (!delay) {
      return std::move(out).context(what);
    }
    std::string why = out ? describe_response(*out) : out.error().render();
    log::debug(what, ": ", why, "; retrying in ", delay->count(), " ms");
    report(ProgressEvent{ProgressEvent::Kind::retrying, "", what, 0, 0, why});
    std::this_thread::sleep_for(*delay);
    ++attempt;
  }
}

Result<std::optional<HttpRequest>> SessionTransfer::next() {
  KILN_TRY_ASSIGN(auto req, request());
  if (req) {
    m_session.authorize(*req);
  }
  return req;
}

Result<void> SessionTransfer::done(Result<HttpResponse> outcome) {
  if (outcome && (outcome->status == 401 || outcome->status == 403) && !m_reauthorized) {
    m_reauthorized = true;
    KILN_TRY(m_session.reauthorize(*outcome).context(m_what));
    before_retry();
    return {};
  }
  if (auto delay = m_session.retry_delay(outcome, m_attempt)) {
    std::string why = outcome ? describe_response(*outcome) : outcome.error().render();
    log::debug(m_what, ": ", why, "; retrying in ", delay->count(), " ms");
    m_session.report(ProgressEvent{ProgressEvent::Kind::retrying, "", m_what, 0, 0, why});
    ++m_attempt;
    not_before = std::chrono::steady_clock::now() + *delay;
    before_retry();
    return {};
  }
  if (!outcome) {
    return std::move(outcome).error().wrap(m_what);
  }
  m_attempt = 0;
  m_reauthorized = false;
  return response(std::move(*outcome));
}

}  // namespace kiln::registry
