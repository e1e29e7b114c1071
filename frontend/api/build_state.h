// kiln::BuildState: the public build API (STYLE.md F1), in the style of
// BuildKit's llb.State. An immutable value holding two things together, as
// BuildKit's dispatchState does: a node of the filesystem graph (what ops
// make the filesystem) and the OCI image config with its history.
//
// Every way of building goes through it: the Dockerfile lowering
// (frontend/dockerfile) and the stepwise CLI (`kiln from/run/copy/config`)
// call the same methods, so a Dockerfile step and the equivalent stepwise
// call give the same Definition bytes and the same cache key.
//
//   auto base = kiln::BuildState::image(resolved);          // FROM
//   auto s = base.with_workdir("/src")
//                .copy(kiln::BuildState::context(), {.sources = {"."}, .dest = "."})
//                .run({.args = {"/bin/sh", "-c", "make"}});
//   auto def = s.to_definition();                           // versioned JSON
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/image_config.h"
#include "solver/definition.h"
#include "util/result.h"

namespace kiln {

/// An image already in the store, as FROM needs it (frontend/api's image
/// resolution produces it).
struct ResolvedImage {
  std::string ref;             ///< the full name it was found by ("" for an id)
  oci::Digest manifest;
  oci::Digest id;              ///< config digest
  oci::ImageConfig config;
};

/// One RUN --mount whose source is another state.
struct RunMount {
  solver::MountSpec spec;      ///< from_input is filled by run()
  std::shared_ptr<const class BuildState> from;  ///< source state (bind/cache `from=`), or null
};

struct RunOptions {
  std::vector<std::string> args;       ///< argv as executed (shell form already wrapped)
  std::vector<std::string> extra_env;  ///< build args visible to the step (K=V), after the image env
  solver::NetworkMode network = solver::NetworkMode::host;
  bool insecure = false;
  std::vector<RunMount> mounts;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool no_new_privileges = false;
  std::vector<std::string> extra_hosts;
  std::vector<std::string> ulimits;
  /// Overrides of the image config for this step only (stepwise `run --user`).
  std::optional<std::string> user;
  std::optional<std::string> workdir;
  std::vector<std::string> env_override;  ///< K=V replacing image env entries for this step
  std::string created_by;  ///< history text ("" = no history entry)
  solver::OpOrigin origin;
};

struct CopyOptions {
  std::vector<std::string> sources;
  std::string dest;        ///< relative paths are resolved against the working dir
  std::string chown;
  std::string chmod;
  bool link = false;
  bool parents = false;
  bool add = false;        ///< ADD semantics
  bool unpack = false;     ///< ADD: extract local tar archives
  std::vector<std::string> exclude;
  std::string created_by;
  solver::OpOrigin origin;
};

class BuildState {
 public:
  /// An empty filesystem and an empty config for the host platform.
  static BuildState scratch();
  /// FROM an image in the store.
  static BuildState image(const ResolvedImage& image);
  /// Files of a build context, as a COPY/ADD source ("context" = the main one).
  static BuildState context(const std::string& name = "context", std::vector<std::string> exclude = {});
  /// ADD URL and ADD git sources.
  static BuildState http(const solver::HttpSource& source);
  static BuildState git(const solver::GitSource& source);

  /// RUN: a new state whose filesystem is this one after the command.
  BuildState run(const RunOptions& options) const;
  /// COPY/ADD from `source` (a context, another stage, an image).
  BuildState copy(const BuildState& source, const CopyOptions& options) const;
  /// WORKDIR's directory: made (with parents, owned by the current USER)
  /// when missing; changes nothing when it exists. Does not change the
  /// working directory (with_workdir does).
  BuildState mkdir(const std::string& path, const std::string& created_by = "", solver::OpOrigin origin = {}) const;

  // Image config changes (no filesystem change). The with_* methods only
  // change the config; add_history() records the instruction.
  BuildState with_env(const std::string& key, const std::string& value) const;
  BuildState without_env(const std::string& key) const;
  BuildState with_workdir(const std::string& dir) const;  ///< relative: against the current one
  BuildState with_user(const std::string& user) const;
  BuildState with_label(const std::string& key, const std::string& value) const;
  BuildState without_label(const std::string& key) const;
  BuildState with_cmd(std::optional<std::vector<std::string>> cmd) const;
  /// Sets the entrypoint; like Docker, an entrypoint change resets an inherited CMD.
  BuildState with_entrypoint(std::optional<std::vector<std::string>> entrypoint) const;
  BuildState with_exposed_port(const std::string& port) const;  ///< "80/tcp"
  BuildState with_volume(const std::string& path) const;
  BuildState with_stop_signal(const std::string& signal) const;
  BuildState with_healthcheck(std::optional<oci::Healthcheck> healthcheck) const;
  BuildState with_onbuild(std::vector<std::string> triggers) const;
  BuildState with_shell(std::vector<std::string> shell) const;
  BuildState with_author(const std::string& author) const;
  BuildState with_args_escaped(bool escaped) const;
  /// Appends a history entry for a metadata-only instruction.
  BuildState add_history(const std::string& created_by, const std::string& comment = "") const;

  const oci::ImageConfig& config() const { return m_config; }
  /// The working directory the next step runs in ("/" when unset).
  std::string workdir() const;
  bool is_context() const;

  /// The serialized build: {"version":1,"graph":{solver Definition},"target":N,
  /// "config":{image config without history/rootfs},"history":[...]}. Canonical
  /// bytes: equal states give equal text.
  std::string to_definition() const;
  static Result<BuildState> from_definition(std::string_view text);

  /// The solver's graph and the op that is this state's filesystem.
  struct Graph {
    solver::Definition definition;
    int target = -1;
  };
  Graph graph() const;

  /// New history entries (after the base image's), each tied to the op that
  /// made its layer (index into graph().definition.ops), or -1 for
  /// metadata-only entries.
  struct PendingHistory {
    oci::HistoryEntry entry;
    int op = -1;
  };
  std::vector<PendingHistory> pending_history() const;

  struct Node;

 private:
  BuildState() = default;
  BuildState with_node(std::shared_ptr<const Node> node, const std::string& created_by) const;

  std::shared_ptr<const Node> m_node;
  oci::ImageConfig m_config;  ///< history holds only the base image's entries
  struct Pending {
    oci::HistoryEntry entry;
    std::shared_ptr<const Node> node;
  };
  std::vector<Pending> m_pending;
};

}  // namespace kiln
