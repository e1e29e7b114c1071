#include "solver/ops/run_mounts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "solver/ops/cache_mount_archive.h"
#include "solver/ops/copy_engine.h"
#include "solver/ops/copy_root.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops {

namespace {

using executor::MountSpec;  // the sandbox's; solver::MountSpec is the definition's

Error invalid_mount(const solver::MountSpec& m, const std::string& why) {
  return Error(ErrorCode::invalid_input, cat("RUN --mount=type=", m.type, ",target=", m.target, ": ", why));
}

// Everything one mount needs to know about the step.
struct StepCtx {
  BuildRunner::Impl& impl;
  const Exec& exec;
  const Op& op;
  const Definition& def;
  const std::vector<const OpResult*>& inputs;
  PreparedMounts& out;
  int ssh_count = 0;
  std::string ssh_auth_sock;  // the first ssh target
};

// The target made absolute against the working directory (BuildKit), clean,
// never the root itself.
Result<std::string> absolute_target(const solver::MountSpec& m, const std::string& cwd, const std::string& fallback) {
  std::string t = m.target.empty() ? fallback : m.target;
  if (t.empty()) {
    return invalid_mount(m, "no target");
  }
  std::string abs = absolute_mount_target(t, cwd);
  if (abs == "/") {
    return invalid_mount(m, "cannot mount on `/`");
  }
  return abs;
}

Result<BuildRunner::Impl::MountRoot> input_root(StepCtx& s, const solver::MountSpec& m) {
  if (m.from_input <= 0 || static_cast<size_t>(m.from_input) >= s.inputs.size()) {
    return invalid_mount(m, "the mount names no source state");
  }
  const Op& src_op = s.def.ops[static_cast<size_t>(s.op.inputs[static_cast<size_t>(m.from_input)])];
  return s.impl.mount_root(src_op, *s.inputs[static_cast<size_t>(m.from_input)]);
}

Result<void> copy_tree(StepCtx& s, const BuildRunner::Impl::MountRoot& root, const std::string& source,
                       const std::string& dest_root, const std::string& dest) {
  CopyRequest req;
  req.src_root = root.dir;
  req.src_is_context = root.is_context;
  req.spec.sources = {source.empty() ? std::string(".") : source};
  req.spec.dest = dest;
  req.dest_root = dest_root;
  req.chown_errors = s.impl.config.ignore_chown_errors ? ChownErrors::ignore : ChownErrors::fail;
  KILN_TRY(copy_files(req));
  return {};
}

// `kiln run`'s host paths: the context directory itself, as buildah run
// binds it (never a copy: rw writes must reach it).
Result<void> add_in_place(StepCtx& s, const solver::MountSpec& m, const std::string& target) {
  if (m.from_input <= 0 || static_cast<size_t>(m.from_input) >= s.inputs.size()) {
    return invalid_mount(m, "the mount names no source state");
  }
  const Op& src_op = s.def.ops[static_cast<size_t>(s.op.inputs[static_cast<size_t>(m.from_input)])];
  const auto* ctx = std::get_if<ContextSource>(&src_op.attrs);
  if (ctx == nullptr || !ctx->exclude.empty()) {
    return invalid_mount(m, "only a host path can be bound in place");
  }
  MountSpec spec;
  spec.type = MountSpec::Type::bind;
  spec.destination = target;
  spec.source = m.source;
  KILN_TRY_ASSIGN(spec.source_root, s.impl.context_dir(ctx->name));
  spec.read_only = m.readonly ? executor::ReadOnly::yes : executor::ReadOnly::no;
  s.out.mounts.push_back(std::move(spec));
  return {};
}

Result<void> add_bind(StepCtx& s, const solver::MountSpec& m, const std::string& target) {
  if (m.in_place) {
    return add_in_place(s, m, target);
  }
  KILN_TRY_ASSIGN(BuildRunner::Impl::MountRoot root, input_root(s, m));
  MountSpec spec;
  spec.type = MountSpec::Type::bind;
  spec.destination = target;
  spec.source = m.source;
  spec.source_root = root.dir;
  if (m.readonly) {
    spec.read_only = executor::ReadOnly::yes;
    s.out.mounts.push_back(std::move(spec));
    return {};
  }
  // rw: writes are discarded after the step, never made in the source.
  KILN_TRY_ASSIGN(detail::RootDir rd, detail::RootDir::open(root.dir));
  KILN_TRY_ASSIGN(detail::Resolved r, rd.resolve(m.source, detail::FollowLast::yes));
  if (!r.exists) {
    return Error(ErrorCode::not_found, cat("RUN --mount: source `", m.source, "` not found"));
  }
  bool dir = S_ISDIR(r.st.st_mode);
  // A throw-away copy. (The executor's copy-on-write overlay bind,
  // MountSpec::copy_on_write_dir, would avoid the copy but its attach fails
  // with EINVAL on some kernels; see tests/executor/sandbox_mounts_test.cc.)
  KILN_TRY_ASSIGN(std::string copy, s.impl.scratch_dir("bind-"));
  std::string name = dir ? "" : detail::rel_basename(r.rel);
  KILN_TRY(copy_tree(s, root, m.source, copy, "/" + name));
  spec.source_root = copy;
  spec.source = name;
  s.out.mounts.push_back(std::move(spec));
  return {};
}

Result<void> add_cache(StepCtx& s, const solver::MountSpec& m, const std::string& target) {
  cache::CacheMountKey key =
      cache_mount_key(m, target, m.from_input > 0 ? s.inputs.at(static_cast<size_t>(m.from_input))->key : "");
  std::optional<BuildRunner::Impl::MountRoot> root;
  if (m.from_input > 0) {
    KILN_TRY_ASSIGN(root, input_root(s, m));
  }
  // A new directory starts from an imported build cache's copy when one
  // carries this cache (RunnerConfig::cache_mounts), else from the seed.
  CacheMountSource* imported = s.impl.config.cache_mounts;
  bool ignore_chown = s.impl.config.ignore_chown_errors;
  cache::SeedFn seed = [&s, &root, &m, &key, imported, ignore_chown](const std::string& dir) -> Result<void> {
    if (imported != nullptr) {
      KILN_TRY_ASSIGN(bool restored, imported->restore(key, dir, ignore_chown));
      if (restored) {
        return {};
      }
    }
    if (root) {
      return copy_tree(s, *root, m.source, dir, "/");
    }
    return {};
  };
  KILN_TRY_ASSIGN(cache::CacheSharing sharing, cache::parse_cache_sharing(m.sharing));
  cache::CacheMounts caches(s.impl.config.store->cache_mounts_dir());
  KILN_TRY_ASSIGN(cache::CacheLease lease, caches.acquire(key, sharing, seed).context(cat("cache `", key.id, "`")));
  MountSpec spec;
  spec.type = MountSpec::Type::bind;
  spec.destination = target;
  spec.source_root = lease.dir;
  spec.source = m.from_input > 0 ? "" : m.source;
  if (!spec.source.empty()) {
    // A subdirectory of the cache, made inside it (a symlink planted there
    // by an earlier step stays confined, as it does for the sandbox).
    KILN_TRY_ASSIGN(detail::RootDir rd, detail::RootDir::open(lease.dir));
    KILN_TRY(rd.make_dirs(spec.source, {}));
  }
  spec.read_only = m.readonly ? executor::ReadOnly::yes : executor::ReadOnly::no;
  s.out.leases.push_back(std::move(lease));
  s.out.mounts.push_back(std::move(spec));
  return {};
}

// The bytes of secret `id`, nullopt when none was given.
Result<std::optional<Redacted<std::string>>> secret_value(const RunnerConfig& c, const std::string& id) {
  for (const auto& sec : c.secrets) {
    if (sec.id != id) {
      continue;
    }
    if (sec.value) {
      return sec.value;
    }
    if (!sec.file.empty()) {
      KILN_TRY_ASSIGN(std::string bytes, read_file(sec.file).context(cat("read secret `", id, "`")));
      return std::optional<Redacted<std::string>>(Redacted<std::string>(std::move(bytes)));
    }
    if (const char* v = sec.env.empty() ? nullptr : std::getenv(sec.env.c_str())) {
      return std::optional<Redacted<std::string>>(Redacted<std::string>(v));
    }
  }
  return std::optional<Redacted<std::string>>();
}

Result<void> add_secret(StepCtx& s, const solver::MountSpec& m) {
  if (m.id.empty()) {
    return invalid_mount(m, "a secret mount needs an id");
  }
  KILN_TRY_ASSIGN(auto value, secret_value(s.impl.config, m.id));
  if (!value) {
    if (!m.required) {
      return {};  // optional and absent: no file, no variable (BuildKit)
    }
    return Error(ErrorCode::not_found, cat("RUN --mount=type=secret: secret `", m.id, "` is required but was not given"))
        .with_hint(cat("pass it to the build with --secret id=", m.id, ",src=FILE or --secret id=", m.id, ",env=VAR"));
  }
  if (value->reveal().size() > k_max_secret_bytes) {
    return invalid_mount(m, cat("secret `", m.id, "` is larger than ", k_max_secret_bytes / 1024, " KiB"));
  }
  if (!m.target.empty() || m.env.empty()) {
    MountSpec spec;
    spec.type = MountSpec::Type::file;
    KILN_TRY_ASSIGN(spec.destination, absolute_target(m, s.exec.cwd, "/run/secrets/" + path_basename(m.id)));
    spec.contents = *value;
    spec.file_mode = m.mode.value_or(0400);
    spec.file_uid = m.uid.value_or(0);
    spec.file_gid = m.gid.value_or(0);
    s.out.mounts.push_back(std::move(spec));
  }
  if (!m.env.empty()) {
    s.out.env.push_back(m.env + "=" + value->reveal());
  }
  return {};
}

Result<void> add_ssh(StepCtx& s, const solver::MountSpec& m) {
  std::string id = m.id.empty() ? "default" : m.id;
  int index = s.ssh_count++;
  auto agent = s.impl.config.ssh_sockets.find(id);
  if (agent == s.impl.config.ssh_sockets.end()) {
    if (!m.required) {
      return {};
    }
    return Error(ErrorCode::not_found, cat("RUN --mount=type=ssh: SSH agent `", id, "` is required but was not given"))
        .with_hint(id == "default" ? "pass your agent with --ssh default (uses $SSH_AUTH_SOCK)"
                                   : cat("pass it with --ssh ", id, "=SOCKET"));
  }
  KILN_TRY_ASSIGN(std::string target, absolute_target(m, s.exec.cwd, cat("/run/buildkit/ssh_agent.", index)));
  // A relay of this step's own, so the socket the command sees has the
  // mount's owner and mode and the agent's own socket is never exposed.
  KILN_TRY_ASSIGN(std::string dir, s.impl.scratch_dir("ssh-"));
  std::string path = path_join(dir, "agent.sock");
  KILN_TRY_ASSIGN(auto relay, SocketForwarder::start(path, agent->second));
  if (::chown(path.c_str(), m.uid.value_or(0), m.gid.value_or(0)) != 0 ||
      ::chmod(path.c_str(), m.mode.value_or(0600) & 07777) != 0) {
    return Error::from_errno(cat("set the owner and mode of the ssh socket for `", target, "`"));
  }
  s.out.relays.push_back(std::move(relay));
  MountSpec spec;
  spec.type = MountSpec::Type::bind;
  spec.source = path;
  spec.destination = target;
  s.out.mounts.push_back(std::move(spec));
  if (s.ssh_auth_sock.empty()) {
    s.ssh_auth_sock = target;
  }
  return {};
}

Result<void> add_mount(StepCtx& s, const solver::MountSpec& m) {
  if (m.type == "secret") {
    return add_secret(s, m);
  }
  if (m.type == "ssh") {
    return add_ssh(s, m);
  }
  KILN_TRY_ASSIGN(std::string target, absolute_target(m, s.exec.cwd, ""));
  if (m.type == "bind") {
    return add_bind(s, m, target);
  }
  if (m.type == "cache") {
    return add_cache(s, m, target);
  }
  if (m.type == "tmpfs") {
    MountSpec spec;
    spec.type = MountSpec::Type::tmpfs;
    spec.destination = target;
    spec.tmpfs_size = m.size;
    s.out.mounts.push_back(std::move(spec));
    return {};
  }
  return invalid_mount(m, "unknown mount type (use bind, cache, tmpfs, secret or ssh)");
}

size_t depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

}  // namespace

Result<PreparedMounts> prepare_run_mounts(BuildRunner::Impl& impl, const Exec& exec, const Op& op,
                                          const Definition& def, const std::vector<const OpResult*>& inputs,
                                          const std::vector<std::string>& step_env) {
  PreparedMounts out;
  StepCtx s{impl, exec, op, def, inputs, out, 0, ""};
  for (const auto& m : exec.mounts) {
    KILN_TRY(add_mount(s, m));
  }
  // Parents before children, whatever the order written (BuildKit sorts too).
  std::stable_sort(out.mounts.begin(), out.mounts.end(), [](const MountSpec& a, const MountSpec& b) {
    return depth(a.destination) < depth(b.destination);
  });
  bool has_sock = std::any_of(step_env.begin(), step_env.end(),
                              [](const std::string& kv) { return kv.starts_with("SSH_AUTH_SOCK="); });
  if (!s.ssh_auth_sock.empty() && !has_sock) {
    out.env.push_back("SSH_AUTH_SOCK=" + s.ssh_auth_sock);
  }
  return out;
}

}  // namespace kiln::solver::ops
