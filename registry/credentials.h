// Registry credentials: where they are read from and where `kiln login`
// writes them, in the formats podman/buildah (containers-auth.json(5)) and
// Docker (config.json, including credHelpers/credsStore through
// `docker-credential-NAME get`) use.
//
// Files, in lookup order (the first that has an entry wins):
//   1. --authfile, else $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json
//      (when XDG_RUNTIME_DIR is unset: ~/.config/containers/auth.json)
//   2. ~/.config/containers/auth.json
//   3. ~/.docker/config.json ($DOCKER_CONFIG/config.json when set)
// Keys are `registry` or `registry/namespace[/repo]` (the most specific match
// wins); Docker's legacy keys such as `https://index.docker.io/v1/` are
// normalized to `docker.io`. Secrets travel as Redacted<std::string>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/redacted.h"
#include "util/result.h"

namespace kiln::registry {

struct Credentials {
  std::string username;
  Redacted<std::string> password;  ///< a password or an identity token
};

/// The files consulted, in order (auth_file = --authfile or "").
std::vector<std::string> auth_file_candidates(const std::string& auth_file);
/// For a process about to re-execute itself inside kiln's user namespace,
/// where the invoking user's auth files may be out of reach (host root's
/// 0600 files: container root is a subordinate id there): copies each
/// existing file of auth_file_candidates(auth_file) into a sealed memfd the
/// re-executed process inherits and lists them in $KILN_AUTH_FDS, which
/// auth_file_candidates() then returns (as /proc/self/fd/N, read through the
/// descriptor) instead of the files. The secrets never touch the disk or the
/// environment; RUN steps close every inherited descriptor. When no file
/// exists, $KILN_AUTH_FDS is "none" and auth_file_candidates() returns no
/// file (inside, the standard paths may give EACCES instead of ENOENT). No-op
/// when $KILN_AUTH_FDS is set already. Errors: io for an
/// unreadable file (naming it), syscall when a memfd cannot be made.
Result<void> hand_over_auth_files(const std::string& auth_file);
/// The file `kiln login` writes and `kiln logout` edits.
std::string auth_file_for_write(const std::string& auth_file);

/// Credentials for `registry` ("reg:5000", "docker.io") and, when given, a
/// repository path in it ("team/app"). nullopt when no file has any.
/// Errors: parse for a malformed file (naming it), auth when a credential
/// helper fails for another reason than "not found".
Result<std::optional<Credentials>> lookup_credentials(std::string_view registry, std::string_view repository,
                                                      const std::string& auth_file);

/// Sets `key`'s entry in the auth.json `file` (created 0600, its directory
/// 0700), keeping the other entries.
Result<void> store_credentials(const std::string& file, std::string_view key, const Credentials& creds);
/// Removes `key` (or every entry when key is ""). Returns false when there
/// was nothing to remove.
Result<bool> remove_credentials(const std::string& file, std::string_view key);

/// Normalizes an auth file key or a `kiln login` argument:
/// "https://index.docker.io/v1/" -> "docker.io", "http://reg:5000/" -> "reg:5000".
std::string normalize_auth_key(std::string_view key);

}  // namespace kiln::registry
