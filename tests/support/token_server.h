// A token server for the registry's `auth: token` mode (Docker token
// authentication, distribution docs/spec/auth/token.md): GET
// /token?service=S&scope=repository:NAME:ACTIONS... with basic credentials
// answers {"token": JWT} where the JWT is RS256-signed and carries the
// signing certificate in its x5c header (the registry trusts that
// certificate through `rootcertbundle`). Wrong credentials get 401;
// anonymous requests get a token without access.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "tests/support/loopback_server.h"

namespace kiln::test {

class TokenServer {
 public:
  /// key_pem: the RSA private key file; cert_der_b64: the certificate (DER,
  /// standard base64) for x5c.
  TokenServer(std::string key_pem, std::string cert_der_b64, std::string user, std::string password,
              std::string service, std::string issuer);
  ~TokenServer();

  std::string realm() const { return "http://" + m_server->host() + "/token"; }
  int requests() const { return m_requests; }

 private:
  void handle(int fd);
  std::string make_token(const std::string& subject, const std::vector<std::string>& scopes) const;
  std::string m_key_pem;
  std::string m_cert;
  std::string m_user;
  std::string m_password;
  std::string m_service;
  std::string m_issuer;
  std::atomic<int> m_requests{0};
  std::unique_ptr<LoopbackServer> m_server;
};

}  // namespace kiln::test
