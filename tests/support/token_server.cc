#include "tests/support/token_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {

namespace {

std::string b64(std::string_view in, bool url) {
  static const char* std_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static const char* url_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* t = url ? url_chars : std_chars;
  std::string out;
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63]};
    if (rest == 2) {
      out += t[(v >> 6) & 63];
    }
    if (!url) {
      out += rest == 2 ? "=" : "==";
    }
  }
  return out;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

TokenServer::TokenServer(std::string key_pem, std::string cert_der_b64, std::string user, std::string password,
                         std::string service, std::string issuer)
    : m_key_pem(std::move(key_pem)),
      m_cert(std::move(cert_der_b64)),
      m_user(std::move(user)),
      m_password(std::move(password)),
      m_service(std::move(service)),
      m_issuer(std::move(issuer)) {
  m_server = std::make_unique<LoopbackServer>([this](int fd) { handle(fd); });
}

TokenServer::~TokenServer() { m_server.reset(); }

std::string TokenServer::make_token(const std::string& subject, const std::vector<std::string>& scopes) const {
  std::string access = "[";
  for (const auto& s : scopes) {
    auto parts = split(s, ':');
    if (parts.size() < 3 || subject.empty()) {
      continue;
    }
    std::string actions;
    for (const auto& a : split(parts[2], ',')) {
      actions += (actions.empty() ? "" : ",") + json_str(a);
    }
    access += cat(access.size() > 1 ? "," : "", "{\"type\":", json_str(parts[0]), ",\"name\":", json_str(parts[1]),
                  ",\"actions\":[", actions, "]}");
  }
  access += "]";
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string header = cat("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[", json_str(m_cert), "]}");
  std::string claims = cat("{\"iss\":", json_str(m_issuer), ",\"sub\":", json_str(subject), ",\"aud\":", json_str(m_service),
                           ",\"exp\":", now + 300, ",\"nbf\":", now - 10, ",\"iat\":", now, ",\"jti\":\"", now, "-",
                           m_requests.load(), "\",\"access\":", access, "}");
  std::string signing_input = b64(header, true) + "." + b64(claims, true);
  std::FILE* f = std::fopen(m_key_pem.c_str(), "r");
  EVP_PKEY* key = f != nullptr ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) {
    std::fclose(f);
  }
  std::string sig(512, '\0');
  size_t sig_len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  sig.resize(ok ? sig_len : 0);
  return signing_input + "." + b64(sig, true);
}

void TokenServer::handle(int fd) {
  auto head = read_http_head(fd);
  if (!head) {
    return;
  }
  ++m_requests;
  std::vector<std::string> scopes;
  auto q = head->target.find('?');
  if (q != std::string::npos) {
    for (const auto& kv : split(head->target.substr(q + 1), '&')) {
      auto pair = split_once(kv, '=');
      if (pair && pair->first == "scope") {
        for (const auto& s : split(url_decode(pair->second), ' ')) {
          scopes.push_back(s);
        }
      }
    }
  }
  std::string subject;
  auto auth = head->headers.find("authorization");
  if (auth != head->headers.end()) {
    if (auth->second != "Basic " + b64(m_user + ":" + m_password, false)) {
      std::string body = "{\"details\":\"incorrect username or password\"}";
      write_all_ignoring(fd, cat("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ",
                                 body.size(), "\r\nConnection: close\r\n\r\n", body));
      return;
    }
    subject = m_user;
  }
  std::string body = cat("{\"token\":\"", make_token(subject, scopes), "\",\"expires_in\":300}");
  write_all_ignoring(fd, cat("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                             "\r\nConnection: close\r\n\r\n", body));
}

}  // namespace kiln::test
