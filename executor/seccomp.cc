#include "executor/seccomp.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "executor/defaults.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/log.h"
#include "util/strings.h"

#ifndef KILN_VERSION
#define KILN_VERSION "dev"
#endif

namespace kiln::executor {

namespace {

using defaults::SeccompAction;
using defaults::SeccompArg;
using defaults::SeccompRule;

// Owner of a libseccomp filter context (R1).
class SeccompContext {
 public:
  explicit SeccompContext(uint32_t def_action) : m_ctx(seccomp_init(def_action)) {}
  ~SeccompContext() {
    if (m_ctx != nullptr) {
      seccomp_release(m_ctx);
    }
  }
  SeccompContext(const SeccompContext&) = delete;
  SeccompContext& operator=(const SeccompContext&) = delete;
  scmp_filter_ctx get() const { return m_ctx; }

 private:
  scmp_filter_ctx m_ctx;
};

bool rule_applies(const SeccompRule& rule, CapabilitySet caps) {
  if (rule.requires_cap >= 0 && !caps.contains(rule.requires_cap)) {
    return false;
  }
  if (rule.excludes_cap >= 0 && caps.contains(rule.excludes_cap)) {
    return false;
  }
  return true;
}

scmp_arg_cmp to_cmp(const SeccompArg& a) {
  scmp_arg_cmp cmp {};
  cmp.arg = a.index;
  cmp.datum_a = a.value;
  switch (a.op) {
    case SeccompArg::Op::eq: cmp.op = SCMP_CMP_EQ; break;
    case SeccompArg::Op::ne: cmp.op = SCMP_CMP_NE; break;
    case SeccompArg::Op::masked_eq:
      cmp.op = SCMP_CMP_MASKED_EQ;
      cmp.datum_b = a.value_two;
      break;
  }
  return cmp;
}

Result<void> add_rule(scmp_filter_ctx ctx, const SeccompRule& rule) {
  uint32_t action = rule.action == SeccompAction::allow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(ENOSYS);
  std::vector<scmp_arg_cmp> cmps;
  for (const auto& a : rule.args) {
    cmps.push_back(to_cmp(a));
  }
  for (const char* name : rule.names) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      continue;  // not a syscall on any architecture in this filter
    }
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.data());
    if (rc != 0 && rc != -EEXIST) {
      return Error(ErrorCode::internal, cat("add the seccomp rule for `", name, "`"), -rc);
    }
  }
  return {};
}

// The architectures Docker adds next to the native one (archMap).
Result<void> add_arches(scmp_filter_ctx ctx) {
#if defined(__x86_64__)
  const uint32_t extra[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
#elif defined(__aarch64__)
  const uint32_t extra[] = {SCMP_ARCH_ARM};
#else
  const uint32_t extra[] = {SCMP_ARCH_NATIVE};
#endif
  for (uint32_t arch : extra) {
    int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST) {
      return Error(ErrorCode::internal, "add an architecture to the seccomp filter", -rc);
    }
  }
  return {};
}

Result<std::string> export_bpf(scmp_filter_ctx ctx) {
  int fd = ::memfd_create("kiln-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno("create a memfd for the seccomp program");
  }
  UniqueFd owner(fd);
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc != 0) {
    return Error(ErrorCode::internal, "export the seccomp program", -rc);
  }
  if (::lseek(fd, 0, SEEK_SET) < 0) {
    return Error::from_errno("rewind the seccomp program");
  }
  return read_all(fd);
}

Result<std::string> compile(CapabilitySet caps) {
  SeccompContext ctx(SCMP_ACT_ERRNO(defaults::k_seccomp_default_errno));
  if (ctx.get() == nullptr) {
    return Error(ErrorCode::internal, "initialize libseccomp");
  }
  // A binary tree of syscall numbers instead of a linear list: the filter
  // runs on every syscall of every build step.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  KILN_TRY(add_arches(ctx.get()));
  for (const auto& rule : defaults::k_seccomp_rules) {
    if (rule_applies(rule, caps)) {
      KILN_TRY(add_rule(ctx.get(), rule));
    }
  }
  return export_bpf(ctx.get());
}

std::string policy_fingerprint() {
  std::string text;
  for (const auto& rule : defaults::k_seccomp_rules) {
    text += cat(static_cast<int>(rule.action), ",", rule.requires_cap, ",", rule.excludes_cap, ":");
    for (const char* n : rule.names) {
      text += n;
      text += ' ';
    }
    for (const auto& a : rule.args) {
      text += cat("(", a.index, " ", static_cast<int>(a.op), " ", a.value, " ", a.value_two, ")");
    }
    text += '\n';
  }
  return text;
}

}  // namespace

std::string seccomp_cache_key(CapabilitySet caps) {
  static const std::string fingerprint = policy_fingerprint();
  const scmp_version* v = seccomp_version();
  Hasher h("kiln.seccomp.v1");
  h.field("policy", fingerprint);
  h.field("caps", static_cast<int64_t>(caps.bits()));
  h.field("libseccomp", cat(v->major, ".", v->minor, ".", v->micro));
  h.field("kiln", KILN_VERSION);
  h.field("arch", static_cast<int64_t>(seccomp_arch_native()));
  return h.finish_hex();
}

Result<std::string> default_seccomp_program(CapabilitySet caps, const std::string& cache_dir) {
  static std::mutex mutex;
  static std::map<uint64_t, std::string> memo;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = memo.find(caps.bits()); it != memo.end()) {
    return it->second;
  }
  std::string path;
  if (!cache_dir.empty()) {
    path = path_join(cache_dir, cat("seccomp-", seccomp_cache_key(caps), ".bpf"));
    auto cached = read_file_if_exists(path);
    if (cached && *cached && !(*cached)->empty() && (*cached)->size() % 8 == 0) {
      log::debug("seccomp: loaded the compiled policy from `", path, "`");
      return memo.emplace(caps.bits(), std::move(**cached)).first->second;
    }
  }
  KILN_TRY_ASSIGN(std::string program, compile(caps));
  log::debug("seccomp: compiled Docker's default policy (", program.size() / 8, " instructions)");
  if (!path.empty()) {
    auto stored = [&]() -> Result<void> {
      KILN_TRY(make_dirs(cache_dir));
      KILN_TRY_ASSIGN(auto file, AtomicFile::create(path));
      KILN_TRY(file.write(program));
      return file.commit();
    }();
    log_warning_and_drop(std::move(stored).context("cache the seccomp program"));
  }
  return memo.emplace(caps.bits(), std::move(program)).first->second;
}

}  // namespace kiln::executor
