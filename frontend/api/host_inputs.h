// `--secret` and `--ssh`: build inputs that must be read with the invoking
// user's own rights (issue 11). Inside kiln's user namespace the invoking
// user's files may be out of reach (invoked as root, container root is an
// unprivileged subordinate id: a 0600 secret file or an ssh agent in a 0700
// directory is not readable there), so they are taken before kiln enters it:
//  - each secret is read (from its file or environment variable) into a
//    sealed memfd that the re-executed process inherits and reads once; its
//    bytes never touch the disk, the environment or a log;
//  - each ssh agent socket gets a relay process (util/socket_forward.h)
//    running with the invoking user's rights, listening on a socket in a
//    fresh 0700 directory owned by the id container root maps to; the relay
//    removes it and exits when kiln's outer process does.
// Already inside the namespace (`kiln unshare -- kiln bud ...`) the values
// are read and the sockets used directly.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/api/build.h"
#include "util/result.h"

namespace kiln {

/// One `--secret` flag: `id=ID,src=FILE` (also source=), `id=ID,env=VAR`,
/// with an optional `type=file|env` (src then names the file or the
/// variable, as in BuildKit), or `id=ID` alone (the variable ID if set, else
/// the file ID, like podman).
struct SecretFlag {
  std::string id;
  std::string file;
  std::string env;
};
/// Errors: usage, naming the flag.
Result<SecretFlag> parse_secret_flag(std::string_view text);

/// One `--ssh` flag: `default` ($SSH_AUTH_SOCK), `default=SOCKET`,
/// `ID=SOCKET`. Only agent sockets are supported (BuildKit also accepts key
/// files). Errors: usage, naming the flag (also when $SSH_AUTH_SOCK is unset
/// for `default`).
struct SshFlag {
  std::string id;
  std::string socket;
};
Result<SshFlag> parse_ssh_flag(std::string_view text);

/// What a build gets from --secret and --ssh.
struct HostInputs {
  std::vector<BuildSecret> secrets;
  std::map<std::string, std::string> ssh_agents;  ///< id -> socket reachable inside kiln's namespace
};

/// Call before open_store_in_namespace, with the command's --secret and
/// --ssh values; it runs in both of kiln's processes. Outside the namespace
/// it reads the secrets and starts the ssh relays (above) for the process
/// about to be re-executed, and returns them too. Inside, it returns what the
/// outer process prepared (or reads the flags directly when there was no
/// outer process). Errors: usage for a bad flag, not_found for a missing
/// file, variable or socket (naming the id), io/syscall otherwise.
Result<HostInputs> prepare_host_inputs(const std::vector<std::string>& secret_flags,
                                       const std::vector<std::string>& ssh_flags);

}  // namespace kiln
