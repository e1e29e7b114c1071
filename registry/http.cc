#include "registry/http.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "registry/curl_lib.h"
#include "registry/handover.h"
#include "util/defer.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

constexpr size_t k_body_cap = 16u << 20;
constexpr const char* k_system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

// One request in flight: the request, the response being assembled, and what
// the curl callbacks need.
struct Xfer {
  HttpRequest req;
  HttpResponse resp;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  size_t body_offset = 0;  // how much of req.body was sent
  bool head_seen = false;
  std::optional<Error> cb_error;
  char errbuf[CURL_ERROR_SIZE] = {};

  ~Xfer() {
    if (headers != nullptr) {
      curl().slist_free_all(headers);
    }
    if (easy != nullptr) {
      curl().easy_cleanup(easy);
    }
  }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Xfer*>(user);
  std::string_view line(data, size * n);
  line = trim(line);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): start over.
    x->resp.headers.clear();
    auto sp = line.find(' ');
    x->resp.http_version = std::string(line.substr(5, sp == std::string_view::npos ? 0 : sp - 5));
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    x->resp.headers.emplace_back(to_lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

// Called before the first body byte (or at the end for an empty body).
bool see_head(Xfer* x) {
  if (x->head_seen) {
    return true;
  }
  x->head_seen = true;
  curl().easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
  if (x->resp.status >= 200 && x->resp.status < 300 && x->req.on_head) {
    auto r = x->req.on_head(x->resp);
    if (!r) {
      x->cb_error = std::move(r).error();
      return false;
    }
  }
  return true;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Xfer*>(user);
  size_t len = size * n;
  if (!see_head(x)) {
    return 0;
  }
  bool ok_status = x->resp.status >= 200 && x->resp.status < 300;
  if (ok_status && x->req.body_writer) {
    auto r = x->req.body_writer(std::string_view(data, len));
    if (!r) {
      x->cb_error = std::move(r).error();
      return 0;
    }
    return len;
  }
  if (x->resp.body.size() + len > k_body_cap) {
    x->cb_error = Error(ErrorCode::network, cat("response body of `", x->req.url, "` is larger than 16 MiB"));
    return 0;
  }
  x->resp.body.append(data, len);
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* x = static_cast<Xfer*>(user);
  size_t len = size * n;
  if (x->req.body_reader) {
    auto r = x->req.body_reader(buf, len);
    if (!r) {
      x->cb_error = std::move(r).error();
      return CURL_READFUNC_ABORT;
    }
    return *r;
  }
  size_t left = x->req.body.size() - x->body_offset;
  size_t take = std::min(left, len);
  std::memcpy(buf, x->req.body.data() + x->body_offset, take);
  x->body_offset += take;
  return take;
}

// The system CAs plus a cert dir's *.crt, as one PEM blob (docker certs.d).
std::string ca_bundle_for(const std::string& cert_dir) {
  std::string pem = read_file(k_system_ca_bundle).value_or("");
  for (const auto& f : read_cert_dir(cert_dir)) {
    if (f.name.ends_with(".crt")) {
      pem += "\n" + f.data;
    }
  }
  return pem;
}

void set_body_options(Xfer& x) {
  CURL* e = x.easy;
  const std::string& m = x.req.method;
  int64_t size = x.req.body_reader ? x.req.body_size : static_cast<int64_t>(x.req.body.size());
  if (m == "GET") {
    return;
  }
  if (m == "HEAD") {
    curl().easy_setopt(e, CURLOPT_NOBODY, 1L);
    return;
  }
  curl().easy_setopt(e, CURLOPT_READFUNCTION, on_read);
  curl().easy_setopt(e, CURLOPT_READDATA, &x);
  if (m == "POST") {
    curl().easy_setopt(e, CURLOPT_POST, 1L);
    curl().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (m == "DELETE") {
    curl().easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl().easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl().easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    if (m != "PUT") {
      curl().easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
    }
  }
  if (size < 0) {
    x.headers = curl().slist_append(x.headers, "Transfer-Encoding: chunked");
  }
}

// Writes ca_bundle_for(cert_dir) to a private temp file; returns its path.
Result<std::string> write_ca_bundle(const std::string& cert_dir) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = path_join(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp", "kiln-ca-XXXXXX");
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno(cat("create a CA bundle for `", cert_dir, "`"));
  }
  UniqueFd owner(fd);
  KILN_TRY(write_all(fd, ca_bundle_for(cert_dir)));
  return path;
}

}  // namespace

struct HttpClient::Impl {
  CURLM* multi = nullptr;
  CURLSH* share = nullptr;
  std::map<std::string, std::string> ca_files;  // cert_dir -> bundle file (removed at exit)
  bool running = false;                          // inside run()

  // libcurl and the shared handles are set up by the first request
  // (curl_lib.h): a client that never sends one never loads libcurl.
  Result<void> ready() {
    if (multi != nullptr) {
      return {};
    }
    KILN_TRY(load_curl());
    multi = curl().multi_init();
    share = curl().share_init();
    if (multi == nullptr || share == nullptr) {
      return Error(ErrorCode::internal, "set up libcurl's multi and share handles");
    }
    curl().multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl().share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl().share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return {};
  }
  ~Impl() {
    if (multi != nullptr) {
      curl().multi_cleanup(multi);
    }
    if (share != nullptr) {
      curl().share_cleanup(share);
    }
    for (const auto& [dir, file] : ca_files) {
      ::unlink(file.c_str());
    }
  }

  Result<std::unique_ptr<Xfer>> make(HttpRequest req);
  Result<HttpResponse> outcome(Xfer& x, CURLcode code);
};

Result<std::unique_ptr<Xfer>> HttpClient::Impl::make(HttpRequest req) {
  KILN_TRY(ready());
  auto x = std::make_unique<Xfer>();
  x->req = std::move(req);
  x->easy = curl().easy_init();
  if (x->easy == nullptr) {
    return Error(ErrorCode::internal, "curl_easy_init failed");
  }
  CURL* e = x->easy;
  curl().easy_setopt(e, CURLOPT_URL, x->req.url.c_str());
  curl().easy_setopt(e, CURLOPT_SHARE, share);
  curl().easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl().easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // Wait for a connection that may multiplex (HTTP/2 is only negotiated over TLS).
  if (x->req.url.starts_with("https://")) {
    curl().easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  }
  curl().easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (no byte for 60 s) counts as a connection error.
  curl().easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl().easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl().easy_setopt(e, CURLOPT_FOLLOWLOCATION, x->req.follow_redirects ? 1L : 0L);
  curl().easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl().easy_setopt(e, CURLOPT_USERAGENT, "kiln/0.1");
  curl().easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl().easy_setopt(e, CURLOPT_HEADERDATA, x.get());
  curl().easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl().easy_setopt(e, CURLOPT_WRITEDATA, x.get());
  curl().easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024L);
  curl().easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024L * 1024L);
  if (!x->req.tls.verify) {
    curl().easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl().easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!x->req.tls.cert_dir.empty()) {
    // One bundle file per cert dir and process: curl caches the parsed
    // store of a CA file on the multi handle (CURLOPT_CA_CACHE_TIMEOUT),
    // so the system CAs are parsed once, not once per request.
    auto& file = ca_files[x->req.tls.cert_dir];
    if (file.empty()) {
      KILN_TRY_ASSIGN(file, write_ca_bundle(x->req.tls.cert_dir));
    }
    curl().easy_setopt(e, CURLOPT_CAINFO, file.c_str());
    auto files = read_cert_dir(x->req.tls.cert_dir);
    for (const auto& cert : files) {
      std::string key_name = cert.name.substr(0, cert.name.size() - 5) + ".key";
      auto key = std::find_if(files.begin(), files.end(), [&](const CertDirFile& f) { return f.name == key_name; });
      if (cert.name.ends_with(".cert") && key != files.end()) {
        // Blobs, not paths: the files may be handed-over copies (handover.h).
        curl_blob cert_blob{const_cast<char*>(cert.data.data()), cert.data.size(), CURL_BLOB_COPY};
        curl_blob key_blob{const_cast<char*>(key->data.data()), key->data.size(), CURL_BLOB_COPY};
        curl().easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert_blob);
        curl().easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key_blob);
        break;
      }
    }
  }
  for (const auto& [k, v] : x->req.headers) {
    x->headers = curl().slist_append(x->headers, cat(k, ": ", v).c_str());
  }
  x->headers = curl().slist_append(x->headers, "Expect:");
  set_body_options(*x);
  curl().easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  return x;
}

Result<HttpResponse> HttpClient::Impl::outcome(Xfer& x, CURLcode code) {
  if (x.cb_error) {
    return std::move(*x.cb_error);
  }
  if (code != CURLE_OK) {
    std::string why = x.errbuf[0] != '\0' ? std::string(trim(x.errbuf)) : curl().easy_strerror(code);
    return Error(ErrorCode::network, cat(x.req.method, " `", x.req.url, "`: ", why));
  }
  if (!see_head(&x)) {
    return std::move(*x.cb_error);
  }
  char* eff = nullptr;
  curl().easy_getinfo(x.easy, CURLINFO_EFFECTIVE_URL, &eff);
  x.resp.effective_url = eff != nullptr ? eff : x.req.url;
  log::trace("http: ", x.req.method, " ", x.req.url, ": ", x.resp.status, " (HTTP/", x.resp.http_version, ")");
  return std::move(x.resp);
}

HttpClient::HttpClient() : m_impl(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

namespace {

// perform() through run(): one request on the multi handle, so it reuses the
// connections the parallel transfers opened.
class OneShot : public Transfer {
 public:
  explicit OneShot(HttpRequest r) : m_request(std::move(r)) {}
  Result<std::optional<HttpRequest>> next() override {
    if (m_sent) {
      return std::optional<HttpRequest>();
    }
    m_sent = true;
    return std::optional<HttpRequest>(std::move(m_request));
  }
  Result<void> done(Result<HttpResponse> outcome) override {
    m_outcome = std::move(outcome);
    return {};
  }
  Result<HttpResponse> take() { return std::move(m_outcome); }

 private:
  HttpRequest m_request;
  bool m_sent = false;
  Result<HttpResponse> m_outcome = Error(ErrorCode::internal, "request not sent");
};

}  // namespace

Result<HttpResponse> HttpClient::perform(HttpRequest request) {
  if (m_impl->running) {
    // Called from a transfer's callback (a token refresh): the multi handle
    // is busy, so this request gets its own (sharing DNS and TLS sessions).
    log::trace("http: ", request.method, " ", request.url);
    KILN_TRY_ASSIGN(auto x, m_impl->make(std::move(request)));
    CURLcode code = curl().easy_perform(x->easy);
    return m_impl->outcome(*x, code);
  }
  OneShot one(std::move(request));
  KILN_TRY(run({&one}, 1));
  return one.take();
}

namespace {

struct Slot {
  Transfer* t = nullptr;
  std::unique_ptr<Xfer> x;
  bool finished = false;
};

}  // namespace

Result<void> HttpClient::run(const std::vector<Transfer*>& transfers, size_t max_parallel) {
  std::vector<Slot> slots;
  for (auto* t : transfers) {
    slots.push_back(Slot{t, nullptr, false});
  }
  KILN_TRY(m_impl->ready());
  CURLM* multi = m_impl->multi;
  m_impl->running = true;
  Defer not_running([this] { m_impl->running = false; });
  // On any error: detach the handles still in flight before they are freed.
  auto abort_all = [&] {
    for (auto& s : slots) {
      if (s.x) {
        curl().multi_remove_handle(multi, s.x->easy);
        s.x.reset();
      }
    }
  };
  max_parallel = std::max<size_t>(max_parallel, 1);
  while (true) {
    size_t active = 0;
    bool pending = false;
    auto now = std::chrono::steady_clock::now();
    auto wake = now + std::chrono::seconds(1);
    for (auto& s : slots) {
      active += s.x ? 1 : 0;
    }
    for (auto& s : slots) {
      if (s.finished || s.x) {
        pending = pending || s.x != nullptr;
        continue;
      }
      if (active >= max_parallel) {
        pending = true;
        continue;
      }
      if (s.t->not_before > now) {
        pending = true;
        wake = std::min(wake, s.t->not_before);
        continue;
      }
      auto req = s.t->next();
      if (!req) {
        abort_all();
        return std::move(req).error();
      }
      if (!*req) {
        s.finished = true;
        continue;
      }
      log::trace("http: ", (*req)->method, " ", (*req)->url);
      auto x = m_impl->make(std::move(**req));
      if (!x) {
        abort_all();
        return std::move(x).error();
      }
      s.x = std::move(*x);
      curl().multi_add_handle(multi, s.x->easy);
      ++active;
      pending = true;
    }
    if (!pending) {
      return {};
    }
    int running = 0;
    if (CURLMcode mc = curl().multi_perform(multi, &running); mc != CURLM_OK) {
      abort_all();  // never spin on a broken multi handle
      return Error(ErrorCode::internal, cat("drive HTTP transfers: curl_multi_perform: code ", static_cast<int>(mc)));
    }
    int left = 0;
    bool completed = false;
    while (CURLMsg* msg = curl().multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      auto it = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.x && s.x->easy == msg->easy_handle; });
      if (it == slots.end()) {
        continue;
      }
      CURLcode code = msg->data.result;
      curl().multi_remove_handle(multi, it->x->easy);
      auto out = m_impl->outcome(*it->x, code);
      it->x.reset();
      completed = true;
      auto r = it->t->done(std::move(out));
      if (!r) {
        abort_all();
        return std::move(r).error();
      }
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - std::chrono::steady_clock::now());
    int timeout = static_cast<int>(std::clamp<int64_t>(wait_ms.count(), 0, 1000));
    if (!completed) {
      curl().multi_poll(multi, nullptr, 0, timeout, nullptr);
    }
  }
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) {
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace kiln::registry
