// The real registry for tests: `docker-registry serve CONFIG` (the Debian
// package of the reference distribution server) on 127.0.0.1 with a free
// port and a temp storage directory. start() waits until `/v2/` answers;
// the destructor stops the process by its pid (SIGTERM, then SIGKILL) and
// removes the directory.
//
// Variants: plain HTTP, anonymous (the default); htpasswd basic auth behind
// a self-signed TLS certificate made with `openssl` (its CA in cert_dir(),
// for `--cert-dir`); bearer-token auth (the registry's `auth: token` config)
// with a small token server (TokenServer below) that signs RS256 JWTs with
// an openssl-made key whose certificate the registry trusts.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/support/loopback_server.h"
#include "util/result.h"

namespace kiln::test {

enum class RegistryAuth { none, htpasswd_tls, token };

struct RegistryServerOptions {
  RegistryAuth auth = RegistryAuth::none;
  std::string user = "kiln";
  std::string password = "s3cret-pw";
};

class TokenServer;

class RegistryServer {
 public:
  /// Whether /usr/bin/docker-registry (and for auth variants openssl and
  /// htpasswd) exist; tests skip with the reason otherwise.
  static std::string unavailable_reason(RegistryAuth auth = RegistryAuth::none);

  /// Starts a registry. Errors: io/syscall when the process cannot start or
  /// /v2/ does not answer within 10 s (the log is in the message).
  static Result<std::unique_ptr<RegistryServer>> start(const RegistryServerOptions& options = {});
  ~RegistryServer();

  /// "127.0.0.1:PORT"
  std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
  int port() const { return m_port; }
  pid_t pid() const { return m_pid; }
  /// Directory with the CA certificate (`ca.crt`) for --cert-dir ("" without TLS).
  const std::string& cert_dir() const { return m_cert_dir; }
  const std::string& storage_dir() const { return m_storage; }
  const std::string& dir() const { return m_dir; }
  const RegistryServerOptions& options() const { return m_options; }
  /// Number of token requests the token server answered (token variant).
  int token_requests() const;

 private:
  RegistryServer() = default;
  Result<void> launch();
  Result<void> write_config();
  RegistryServerOptions m_options;
  std::string m_dir;
  std::string m_storage;
  std::string m_cert_dir;
  int m_port = 0;
  pid_t m_pid = -1;
  std::unique_ptr<TokenServer> m_token;
};

/// Skips the test with the reason when the registry cannot be started here.
#define KILN_REQUIRE_REGISTRY(auth)                                                   \
  do {                                                                                \
    std::string kiln_why_ = ::kiln::test::RegistryServer::unavailable_reason(auth);  \
    if (!kiln_why_.empty()) {                                                         \
      GTEST_SKIP() << kiln_why_;                                                      \
    }                                                                                 \
  } while (0)

}  // namespace kiln::test
