// kiln login / logout.
#include "registry/registries_conf.h"
#include "registry/registry.h"
#include "registry/session.h"
#include "util/strings.h"

namespace kiln::registry {

Result<std::string> login(std::string_view registry_text, const Credentials& credentials,
                          const RegistryOptions& options) {
  std::string registry = normalize_auth_key(strip_transport(registry_text));
  if (registry.empty() || registry.find('/') != std::string::npos) {
    return Error(ErrorCode::invalid_input, cat("invalid registry `", registry_text, "`: give a host[:port]"));
  }
  if (credentials.username.empty() || credentials.password.empty()) {
    return Error(ErrorCode::invalid_input, cat("log in to `", registry, "`: a username and a password are required"));
  }
  KILN_TRY_ASSIGN(RegistriesConfig conf, RegistriesConfig::load(options.registries_conf));
  RegistryOptions o = options;
  o.credentials = credentials;
  HttpClient http;
  std::string ctx = cat("log in to `", registry, "`");
  // The ping learns the challenge; with a bearer challenge the token
  // server has already checked the credentials (with no scope).
  KILN_TRY_ASSIGN(auto session, Session::open(http, registry, "", "", conf.insecure(registry), o).context(ctx));
  KILN_TRY_ASSIGN(HttpResponse r, session->send(
                                      [&]() -> Result<HttpRequest> {
                                        HttpRequest req;
                                        req.url = session->resolve("/v2/");
                                        return req;
                                      },
                                      ctx));
  if (r.status == 401 || r.status == 403) {
    return Error(ErrorCode::auth, cat(ctx, ": the registry refused the credentials of user `", credentials.username,
                                      "`: ", describe_response(r)));
  }
  if (r.status != 200) {
    return Error(ErrorCode::network, cat(ctx, ": ", describe_response(r)));
  }
  std::string file = auth_file_for_write(options.auth_file);
  KILN_TRY(store_credentials(file, registry, credentials).context(ctx));
  return file;
}

Result<bool> logout(std::string_view registry, const RegistryOptions& options) {
  std::string file = auth_file_for_write(options.auth_file);
  return remove_credentials(file, normalize_auth_key(strip_transport(registry)));
}

}  // namespace kiln::registry
