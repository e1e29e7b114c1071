// The build graph as data: what frontend/api produces and the solver
// validates and runs (STYLE.md F1, L3). A Definition is a list of ops in
// topological order; an op names its inputs by index. It is machine
// independent: build-context directories, secrets and the store are given
// to the solve, never written here, so a Definition (and the cache keys
// computed from it) is the same on every machine.
//
// Serialized as versioned JSON (`"version": 1`); from_json() validates it as
// if it came from an untrusted client: missing inputs, bad indexes, forward
// references (cycles), unknown kinds and fields of the wrong type are errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "oci/digest.h"
#include "oci/json.h"
#include "util/result.h"

namespace kiln::solver {

inline constexpr int k_definition_version = 1;

/// FROM scratch: an empty filesystem.
struct ScratchSource {};

/// FROM an image already in the store, pinned by manifest digest.
struct ImageSource {
  std::string ref;         ///< as resolved, for messages ("docker.io/library/busybox:latest")
  oci::Digest manifest;    ///< what the key uses
  oci::Digest config;      ///< the image id
};

/// Files of a build context (the main one is "context"; --build-context
/// NAME=DIR adds others). The directory is given to the solve by name.
struct ContextSource {
  std::string name;
  std::vector<std::string> exclude;  ///< .dockerignore patterns, in order
};

/// ADD https://...: one downloaded file.
struct HttpSource {
  std::string url;
  std::string checksum;  ///< "sha256:..." (--checksum) or ""
  std::string filename;  ///< name in the destination ("" = from the URL)
};

/// ADD git URL: a checkout made with the `git` program.
struct GitSource {
  std::string url;
  std::string ref;     ///< branch, tag or commit ("" = default branch)
  std::string subdir;  ///< "" = whole tree
  bool keep_git_dir = false;
};

enum class NetworkMode { host, none };
const char* network_mode_name(NetworkMode m);

/// RUN --mount (the Dockerfile reference's options; issue: RUN mounts).
struct MountSpec {
  std::string type;    ///< bind, cache, tmpfs, secret, ssh
  std::string target;
  std::string source;  ///< path inside the `from` input (bind/cache)
  int from_input = -1; ///< index into Op::inputs of the source state (-1: none)
  bool readonly = false;
  std::string id;      ///< cache/secret/ssh id (cache ids never enter keys)
  std::string sharing; ///< cache: shared|private|locked
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  uint64_t size = 0;   ///< tmpfs bytes (0 = default)
  bool required = false;
  std::string env;     ///< secret: also expose as this env var
  /// bind of a build context bound as it is, never copied (`kiln run`'s host
  /// paths, as buildah run binds them): read-only (keyed by the files it
  /// shows, like any context bind), or rw and written through: writes land
  /// in the host directory (`--volume SRC:DST[:rw]`). A written-through
  /// step's outcome depends on more than its inputs, so `id` then holds a
  /// token unique to the step, which enters the key instead of the files:
  /// the step is never a cache hit for another.
  bool in_place = false;
};

/// RUN: a command in the sandbox over input 0's filesystem.
struct Exec {
  std::vector<std::string> args;
  std::vector<std::string> env;  ///< K=V, image ENV then visible build args
  std::string cwd;               ///< absolute
  std::string user;              ///< as written (resolved in the rootfs at run time)
  NetworkMode network = NetworkMode::host;
  bool insecure = false;         ///< --security=insecure
  std::vector<MountSpec> mounts;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool no_new_privileges = false;
  // Not part of the cache key (K1): host-specific or cosmetic.
  std::vector<std::string> extra_hosts;  ///< "name:ip"
  std::vector<std::string> ulimits;      ///< "nofile=1024:2048"
  std::string hostname;
};

/// COPY/ADD: files from input 1 (or a source op) into input 0 at dest.
struct Copy {
  std::vector<std::string> sources;  ///< paths/wildcards relative to the source root
  std::string dest;                  ///< absolute; trailing '/' = directory
  std::string chown;                 ///< "user[:group]", resolved in the destination; "" = 0:0
  std::string chmod;                 ///< octal or symbolic; "" = keep
  bool link = false;                 ///< --link: the layer does not depend on input 0
  bool parents = false;              ///< --parents
  bool unpack = false;               ///< ADD: extract local tar archives
  bool add = false;                  ///< ADD semantics (vs COPY)
  std::vector<std::string> exclude;  ///< --exclude patterns
};

/// WORKDIR: the directory exists (made with parents, 0755, owned by `user`
/// resolved in the rootfs) in input 0's filesystem.
struct Mkdir {
  std::string path;  ///< absolute
  std::string user;  ///< owner as USER names it ("" = root)
};

using OpAttrs = std::variant<ScratchSource, ImageSource, ContextSource, HttpSource, GitSource, Exec, Copy, Mkdir>;

/// Where an op came from, for progress and errors (not part of keys).
struct OpOrigin {
  std::string description;  ///< "RUN make", "COPY . /src"
  std::string stage;        ///< stage name or index ("" for stepwise)
  int step = 0;             ///< 1-based step within the stage (0 = none)
  int step_count = 0;
  std::string file;         ///< Dockerfile as given to -f
  int line_begin = 0;
  int line_end = 0;
};

struct Op {
  OpAttrs attrs;
  std::vector<int> inputs;  ///< indexes of earlier ops
  OpOrigin origin;
};

struct Definition {
  std::vector<Op> ops;
};

/// Kind name of an op: "scratch", "image", "context", "http", "git", "exec", "copy", "mkdir".
const char* op_kind(const Op& op);

oci::Json definition_to_json(const Definition& d);
/// Canonical bytes: compact JSON with sorted keys (the one allowed canonical
/// JSON producer, K2). Equal definitions give equal bytes.
std::string serialize_definition(const Definition& d);
/// Parses and validates. Errors: parse (wrong types, unknown kind, newer
/// version), invalid_input (bad input index, forward reference).
Result<Definition> parse_definition(std::string_view text);
Result<void> validate_definition(const Definition& d);

}  // namespace kiln::solver
