#include "solver/ops/copy_op.h"

#include "executor/user.h"
#include "solver/ops/copy_engine.h"
#include "solver/ops/snapshot.h"
#include "util/strings.h"

namespace kiln::solver::ops {

namespace {

// --chown names resolve in the destination's /etc/passwd and /etc/group.
Result<std::optional<std::pair<uint32_t, uint32_t>>> resolve_owner(const std::string& chown,
                                                                    const std::vector<std::string>& dest_layers) {
  if (chown.empty()) {
    return std::optional<std::pair<uint32_t, uint32_t>>();
  }
  KILN_TRY_ASSIGN(executor::ResolvedUser u, executor::resolve_user(dest_layers, chown).context(cat("--chown=", chown)));
  return std::optional<std::pair<uint32_t, uint32_t>>(std::make_pair(u.uid, u.gid));
}

}  // namespace

Result<OpResult> run_copy(BuildRunner::Impl& impl, const Copy& copy, const Op& op, const Definition& def,
                          const std::vector<const OpResult*>& inputs) {
  const OpResult& dest = *inputs.at(0);
  const OpResult& source = *inputs.at(1);
  const Op& src_op = def.ops[static_cast<size_t>(op.inputs.at(1))];
  CopyRequest req;
  req.spec = copy;
  if (const auto* ctx = std::get_if<ContextSource>(&src_op.attrs)) {
    req.src_root = source.dir;
    req.src_is_context = true;
    req.ignore = ctx->exclude;
  } else if (!source.dir.empty()) {
    req.src_root = source.dir;  // http/git: owned like context files
    req.src_is_context = true;
  } else {
    KILN_TRY_ASSIGN(req.src_root, impl.view_of(source));
  }
  KILN_TRY_ASSIGN(Snapshot snap, prepare_snapshot(impl, dest.layers, !copy.link));
  std::vector<std::string> passwd_layers = snap.lowers;
  if (copy.link && !copy.chown.empty() && !dest.layers.empty()) {
    // --link does not depend on the destination, but names still resolve there.
    KILN_TRY_ASSIGN(passwd_layers, impl.lowers_of(dest.layers));
  }
  KILN_TRY_ASSIGN(req.owner, resolve_owner(copy.chown, passwd_layers));
  req.chown_errors = impl.config.ignore_chown_errors ? ChownErrors::ignore : ChownErrors::fail;
  executor::UniqueMount mount;
  KILN_TRY_ASSIGN(req.dest_root, mount_snapshot(snap, mount));
  KILN_TRY(copy_files(req));
  KILN_TRY(mount.unmount());
  OpResult r;
  r.layers = dest.layers;
  KILN_TRY_ASSIGN(r.new_layer, commit_snapshot(impl, snap));
  if (r.new_layer) {
    r.layers.push_back(*r.new_layer);
  }
  return r;
}

}  // namespace kiln::solver::ops
