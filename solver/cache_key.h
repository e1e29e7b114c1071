// Cache keys (STYLE.md K1-K4; DESIGN.md "Cache keys are content-addressed").
//
// key(op) = SHA-256 over tagged, length-delimited fields (util/hasher.h):
//   scheme salt k_key_scheme,
//   the op's versioned tag ("kiln.exec.v1", ...),
//   the op's whitelisted canonical fields (below), in a fixed order,
//   for each input i: (input key, selector, content digest).
// Whitelists, per op kind (anything else never enters a key):
//   image   : manifest digest                       (not the name it was found by)
//   scratch : nothing
//   context : the context's name and ignore patterns (its files enter through COPY's content digest)
//   http    : url, checksum, filename
//   git     : url, ref, subdir, keep_git_dir
//   exec    : args, env minus proxy variables, cwd, user, network, insecure, cap add/drop,
//             no_new_privileges, mounts (type, target, source, readonly, from input; never cache-mount
//             ids, secret values or tmpfs sizes); never extra hosts, ulimits, hostname
//   mkdir   : path, user
//   copy    : sources, dest, chown, chmod, link, parents, unpack, add, exclude; the source input's
//             selector is the source list and its content digest is the digest of the selected files
//             (paths, bytes, modes, ownership after --chown, link targets; not mtimes) when the
//             source is a build context, else that input's key. With --link the destination input
//             does not enter the key.
// Changing what goes into a key means bumping the op's tag or k_key_scheme (a release-note item).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "solver/definition.h"

namespace kiln::solver {

inline constexpr std::string_view k_key_scheme = "kiln-cache-v1";

struct KeyInput {
  std::string key;             ///< the input op's cache key
  std::string selector;        ///< what of the input is used ("" = all)
  std::string content_digest;  ///< digest of the selected content ("" = none)
};

/// The named fields a key is made of; also what --explain-cache compares.
struct KeyParts {
  std::string tag;
  std::vector<std::pair<std::string, std::string>> fields;  ///< (name, value), in hashing order
  std::vector<KeyInput> inputs;

  /// The hex key.
  std::string key() const;
  /// Human-readable lines "name: value", for KILN_DEBUG_KEYS and explanations.
  std::string describe() const;
};

/// The op's whitelisted fields (inputs not filled: the solver adds them).
KeyParts op_key_parts(const Op& op);

/// Proxy variables excluded from exec keys (BuildKit's list).
bool is_proxy_env(std::string_view env_entry);

/// Why `now` differs from `before` (same step of an earlier build), one
/// reason per line: "env FOO changed", "base image digest changed", ...
std::vector<std::string> explain_key_change(const KeyParts& before, const KeyParts& now);

oci::Json key_parts_to_json(const KeyParts& p);
Result<KeyParts> key_parts_from_json(const oci::Json& j);

}  // namespace kiln::solver
