#include "frontend/dockerfile/run_mount.h"

#include <memory>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::dockerfile {

namespace {

constexpr const char* k_type_names[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
constexpr const char* k_sharing_names[] = {"shared", "private", "locked"};

Error invalid(const parser::Mount& m, const std::string& why) {
  return Error(ErrorCode::invalid_input,
               cat("invalid --mount type=", k_type_names[static_cast<int>(m.type)], ": ", why));
}

Result<std::string> absolute_target(const parser::Mount& m, const std::string& workdir) {
  if (m.target.empty()) {
    return std::string();
  }
  std::string t = path_clean(m.target[0] == '/' ? m.target : path_join(workdir.empty() ? "/" : workdir, m.target));
  if (t == "/") {
    return invalid(m, cat("invalid mount target `", m.target, "`"));
  }
  return t;
}

Result<std::shared_ptr<const BuildState>> source_state(const parser::Mount& m, const RunMountContext& ctx) {
  if (!m.from.empty()) {
    if (!ctx.resolve_from) {
      return invalid(m, cat("from=", m.from, " is not available here"));
    }
    KILN_TRY_ASSIGN(BuildState st, ctx.resolve_from(m.from));
    return std::make_shared<const BuildState>(std::move(st));
  }
  if (m.type != parser::MountType::bind) {
    return std::shared_ptr<const BuildState>();  // a cache starts empty
  }
  if (!ctx.default_source) {
    return invalid(m, "a bind mount needs from= here");
  }
  KILN_TRY_ASSIGN(BuildState st, ctx.default_source());
  return std::make_shared<const BuildState>(std::move(st));
}

}  // namespace

Result<RunMount> to_run_mount(const parser::Mount& m, const RunMountContext& ctx) {
  RunMount rm;
  solver::MountSpec& spec = rm.spec;
  spec.type = k_type_names[static_cast<int>(m.type)];
  KILN_TRY_ASSIGN(spec.target, absolute_target(m, ctx.workdir));
  spec.readonly = m.readonly;
  spec.id = m.id;
  spec.mode = m.mode;
  spec.uid = m.uid;
  spec.gid = m.gid;
  spec.required = m.required;
  switch (m.type) {
    case parser::MountType::bind:
    case parser::MountType::cache: {
      spec.source = m.source;
      if (m.type == parser::MountType::cache) {
        spec.sharing = k_sharing_names[static_cast<int>(m.sharing)];
        if (spec.id.empty()) {
          spec.id = path_clean(m.target);  // BuildKit: the target as written
        }
      }
      KILN_TRY_ASSIGN(rm.from, source_state(m, ctx));
      break;
    }
    case parser::MountType::tmpfs:
      spec.size = m.size ? static_cast<uint64_t>(*m.size) : 0;
      break;
    case parser::MountType::secret:
      spec.env = m.env.value_or("");
      if (spec.id.empty()) {
        spec.id = !m.source.empty() ? m.source : path_basename(m.target);
      }
      if (spec.id.empty()) {
        return invalid(m, "a secret needs one of id, source or target");
      }
      if (spec.target.empty() && !m.env) {
        spec.target = "/run/secrets/" + path_basename(spec.id);
      }
      break;
    case parser::MountType::ssh:
      if (!m.source.empty()) {
        return invalid(m, "ssh does not support source");
      }
      if (spec.id.empty()) {
        spec.id = "default";
      }
      break;
  }
  return rm;
}

Result<RunMount> parse_run_mount(std::string_view text, const RunMountContext& ctx) {
  KILN_TRY_ASSIGN(parser::Mount m, parser::parse_mount_value(text).context(cat("--mount ", text)));
  return to_run_mount(m, ctx).context(cat("--mount ", text));
}

}  // namespace kiln::dockerfile
