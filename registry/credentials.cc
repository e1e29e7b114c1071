#include "registry/credentials.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "oci/json.h"
#include "registry/handover.h"
#include "registry/http.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace kiln::registry {

namespace {

constexpr const char* k_auth_fds_env = "KILN_AUTH_FDS";
constexpr const char* k_no_auth_fds = "none";  // KILN_AUTH_FDS when no auth file existed

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string home_dir() {
  std::string h = env("HOME");
  if (h.empty()) {
    if (struct passwd* pw = ::getpwuid(::getuid())) {
      h = pw->pw_dir;
    }
  }
  return h;
}

// "user:password" base64 of an auth.json entry.
std::optional<Credentials> decode_auth(const std::string& b64) {
  auto raw = base64_decode(b64);
  if (!raw) {
    return std::nullopt;
  }
  auto pair = split_once(*raw, ':');
  if (!pair) {
    return std::nullopt;
  }
  return Credentials{pair->first, Redacted<std::string>(pair->second)};
}

// Runs `docker-credential-<helper> get` for a server. nullopt when the helper
// knows no credentials for it.
Result<std::optional<Credentials>> from_helper(const std::string& helper, std::string_view registry) {
  std::string program = "docker-credential-" + helper;
  // Docker stores Docker Hub credentials under its legacy v1 URL.
  std::string server = registry == "docker.io" ? "https://index.docker.io/v1/" : std::string(registry);
  ProgramOptions po;
  po.stdin_data = server;
  auto r = run_program({program, "get"}, po);
  if (!r) {
    return Error(ErrorCode::auth, cat("run credential helper `", program, "` for `", registry, "`"))
        .with_hint(cat("install `", program, "` or remove it from the Docker config"));
  }
  if (r->exit_status != 0) {
    std::string why(trim(r->stdout_data + r->stderr_data));
    if (why.find("not found") != std::string::npos) {
      return std::optional<Credentials>();
    }
    return Error(ErrorCode::auth, cat("credential helper `", program, "` failed for `", registry, "`: ", why));
  }
  auto j = oci::parse_json(r->stdout_data, cat("output of `", program, "`"));
  if (!j || !j->is_object()) {
    return Error(ErrorCode::auth, cat("credential helper `", program, "` printed no JSON credentials"));
  }
  Credentials c;
  c.username = j->value("Username", "");
  c.password = Redacted<std::string>(j->value("Secret", ""));
  return std::optional<Credentials>(std::move(c));
}

// Keys to try for registry/repository, most specific first.
std::vector<std::string> lookup_keys(std::string_view registry, std::string_view repository) {
  std::vector<std::string> keys;
  std::string key = repository.empty() ? std::string(registry) : cat(registry, "/", repository);
  while (true) {
    keys.push_back(key);
    auto slash = key.rfind('/');
    if (slash == std::string::npos) {
      break;
    }
    key.resize(slash);
  }
  return keys;
}

// The text of an auth file handed over as an inherited memfd (its
// "/proc/self/fd/N" name; read through the descriptor, not the path).
Result<std::optional<std::string>> read_auth_text(const std::string& path) {
  constexpr std::string_view prefix = "/proc/self/fd/";
  if (!path.starts_with(prefix)) {
    return read_file_if_exists(path);
  }
  auto fd = parse_int(std::string_view(path).substr(prefix.size()));
  if (!fd) {
    return Error(ErrorCode::invalid_input, cat("bad inherited auth file `", path, "`"));
  }
  KILN_TRY_ASSIGN(std::string text, read_whole_fd(static_cast<int>(*fd), cat("inherited auth file `", path, "`")));
  return std::optional<std::string>(std::move(text));
}

Result<std::optional<Credentials>> lookup_in_file(const std::string& path, std::string_view registry,
                                                  std::string_view repository) {
  KILN_TRY_ASSIGN(auto text, read_auth_text(path));
  if (!text || trim(*text).empty()) {
    return std::optional<Credentials>();
  }
  KILN_TRY_ASSIGN(oci::Json j, oci::parse_json(*text, cat("auth file `", path, "`")));
  if (!j.is_object()) {
    return Error(ErrorCode::parse, cat("auth file `", path, "` is not a JSON object"));
  }
  auto helpers = j.value("credHelpers", oci::Json::object());
  if (helpers.is_object() && helpers.contains(std::string(registry)) && helpers[std::string(registry)].is_string()) {
    return from_helper(helpers[std::string(registry)].get<std::string>(), registry);
  }
  auto auths = j.value("auths", oci::Json::object());
  bool has_entry = false;
  if (auths.is_object()) {
    for (const auto& key : lookup_keys(registry, repository)) {
      for (const auto& [k, v] : auths.items()) {
        if (normalize_auth_key(k) != key || !v.is_object()) {
          continue;
        }
        has_entry = true;
        std::string b64 = v.value("auth", "");
        if (auto c = decode_auth(b64)) {
          return std::optional<Credentials>(std::move(*c));
        }
        if (v.contains("identitytoken") && v["identitytoken"].is_string()) {
          return std::optional<Credentials>(
              Credentials{"<token>", Redacted<std::string>(v["identitytoken"].get<std::string>())});
        }
      }
    }
  }
  if (j.contains("credsStore") && j["credsStore"].is_string()) {
    auto c = from_helper(j["credsStore"].get<std::string>(), registry);
    if (!c && !has_entry) {
      // A store that cannot run is not fatal when the file has no entry.
      log::debug("credential store: ", c.error().render());
      return std::optional<Credentials>();
    }
    return c;
  }
  return std::optional<Credentials>();
}

}  // namespace

std::string normalize_auth_key(std::string_view key) {
  std::string k(trim(key));
  for (std::string_view scheme : {"https://", "http://"}) {
    if (k.starts_with(scheme)) {
      k = k.substr(scheme.size());
      // A URL key names a host only (Docker's legacy "https://host/v1/").
      k = k.substr(0, k.find('/'));
    }
  }
  while (!k.empty() && k.back() == '/') {
    k.pop_back();
  }
  if (k == "index.docker.io" || k == "registry-1.docker.io") {
    k = "docker.io";
  }
  return k;
}

std::vector<std::string> auth_file_candidates(const std::string& auth_file) {
  std::vector<std::string> out;
  if (std::string fds = env(k_auth_fds_env); !fds.empty()) {
    if (fds == k_no_auth_fds) {
      return out;  // handed over, and there was none: do not look (host root's files are out of reach here)
    }
    for (const auto& fd : split(fds, ',')) {
      out.push_back(cat("/proc/self/fd/", fd));
    }
    return out;
  }
  out.push_back(auth_file_for_write(auth_file));
  std::string home = home_dir();
  std::string user_file = path_join(home, ".config/containers/auth.json");
  if (out.front() != user_file) {
    out.push_back(user_file);
  }
  std::string docker_dir = env("DOCKER_CONFIG");
  out.push_back(path_join(docker_dir.empty() ? path_join(home, ".docker") : docker_dir, "config.json"));
  return out;
}

Result<void> hand_over_auth_files(const std::string& auth_file) {
  if (!env(k_auth_fds_env).empty()) {
    return {};
  }
  std::vector<std::string> fds;
  for (const auto& path : auth_file_candidates(auth_file)) {
    KILN_TRY_ASSIGN(auto text, read_file_if_exists(path));
    if (!text) {
      continue;
    }
    KILN_TRY_ASSIGN(int fd, copy_to_inherited_memfd(*text, cat("auth file `", path, "`")));
    fds.push_back(std::to_string(fd));
  }
  ::setenv(k_auth_fds_env, fds.empty() ? k_no_auth_fds : join(fds, ",").c_str(), 1);
  return {};
}

std::string auth_file_for_write(const std::string& auth_file) {
  if (!auth_file.empty()) {
    return auth_file;
  }
  if (std::string f = env("REGISTRY_AUTH_FILE"); !f.empty()) {
    return f;
  }
  if (std::string run = env("XDG_RUNTIME_DIR"); !run.empty()) {
    return path_join(run, "containers/auth.json");
  }
  return path_join(home_dir(), ".config/containers/auth.json");
}

Result<std::optional<Credentials>> lookup_credentials(std::string_view registry, std::string_view repository,
                                                      const std::string& auth_file) {
  for (const auto& path : auth_file_candidates(auth_file)) {
    KILN_TRY_ASSIGN(auto c, lookup_in_file(path, registry, repository));
    if (c) {
      log::debug("credentials for `", registry, "` from `", path, "`");
      return c;
    }
  }
  return std::optional<Credentials>();
}

namespace {

Result<oci::Json> read_auth_json(const std::string& file) {
  KILN_TRY_ASSIGN(auto text, read_file_if_exists(file));
  oci::Json j = oci::Json::object();
  if (text && !trim(*text).empty()) {
    KILN_TRY_ASSIGN(j, oci::parse_json(*text, cat("auth file `", file, "`")));
  }
  if (!j.is_object()) {
    return Error(ErrorCode::parse, cat("auth file `", file, "` is not a JSON object"));
  }
  if (!j.contains("auths") || !j["auths"].is_object()) {
    j["auths"] = oci::Json::object();
  }
  return j;
}

}  // namespace

Result<void> store_credentials(const std::string& file, std::string_view key, const Credentials& creds) {
  KILN_TRY_ASSIGN(oci::Json j, read_auth_json(file));
  j["auths"][normalize_auth_key(key)] = {{"auth", base64_encode(cat(creds.username, ":", creds.password.reveal()))}};
  KILN_TRY(make_dirs(path_dirname(file), 0700));
  return write_file_atomic(file, j.dump(1, '\t') + "\n", 0600).context(cat("write auth file `", file, "`"));
}

Result<bool> remove_credentials(const std::string& file, std::string_view key) {
  if (!path_exists(file)) {
    return false;
  }
  KILN_TRY_ASSIGN(oci::Json j, read_auth_json(file));
  auto& auths = j["auths"];
  bool removed = false;
  std::string want = normalize_auth_key(key);
  for (auto it = auths.begin(); it != auths.end();) {
    if (key.empty() || normalize_auth_key(it.key()) == want) {
      it = auths.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (!removed) {
    return false;
  }
  KILN_TRY(write_file_atomic(file, j.dump(1, '\t') + "\n", 0600).context(cat("write auth file `", file, "`")));
  return true;
}

}  // namespace kiln::registry
