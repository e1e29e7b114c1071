// What --cache-from/--cache-to need from the host, taken with the invoking
// user's rights before kiln enters its user namespace (build_cache.h,
// prepare_cache_access).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "executor/user_namespace.h"
#include "frontend/api/build_cache.h"
#include "frontend/api/registry_internal.h"
#include "oci/json.h"
#include "oci/reference.h"
#include "registry/credentials.h"
#include "registry/registry.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln {

namespace {

constexpr const char* k_credentials_env = "KILN_CACHE_CREDENTIALS_FD";

// A sealed memfd holding `bytes`, inherited across exec (no CLOEXEC).
Result<int> sealed_memfd(std::string_view bytes) {
  int fd = ::memfd_create("kiln-cache-credentials", MFD_ALLOW_SEALING);
  if (fd < 0) {
    return Error::from_errno("create a memfd for registry credentials");
  }
  KILN_TRY(write_all(fd, bytes));
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    int e = errno;
    ::close(fd);
    return Error(ErrorCode::syscall, "seal the registry credentials' memfd", e);
  }
  return fd;
}

Result<std::string> read_fd_from_start(int fd) {
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::from_errno("read the registry credentials' memfd");
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// The credentials the outer process found, by cache reference (read once).
struct Prepared {
  bool present = false;
  std::map<std::string, registry::Credentials> by_ref;
};

const Prepared& prepared() {
  static Prepared p;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* v = std::getenv(k_credentials_env);
    auto fd = v != nullptr ? parse_int(v) : std::nullopt;
    if (!fd || *fd < 0) {
      return;
    }
    auto text = read_fd_from_start(static_cast<int>(*fd));
    auto j = text ? oci::parse_json(*text, "cache credentials") : Result<oci::Json>(text.error());
    if (!j || !j->is_object()) {
      log::warning("ignoring the registry credentials prepared for the build cache: ",
                   j ? "not an object" : j.error().render());
      return;
    }
    p.present = true;
    for (const auto& [ref, c] : j->items()) {
      if (c.is_object()) {
        p.by_ref[ref] = registry::Credentials{c.value("username", ""), Redacted<std::string>(c.value("password", ""))};
      }
    }
  });
  return p;
}

Result<void> prepare_credentials(const std::vector<const CacheSpec*>& specs, const RegistryOptions& options) {
  if (!options.creds.empty()) {
    return {};  // --creds travels with the arguments
  }
  oci::Json j = oci::Json::object();
  for (const CacheSpec* s : specs) {
    KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(registry::strip_transport(s->ref)));
    KILN_TRY_ASSIGN(auto creds, registry::lookup_credentials(ref.domain, ref.path, options.auth_file)
                                    .context(cat("look up credentials for `", s->ref, "`")));
    if (creds) {
      j[s->ref] = {{"username", creds->username}, {"password", creds->password.reveal()}};
    }
  }
  KILN_TRY_ASSIGN(int fd, sealed_memfd(oci::dump_json(j)));
  ::setenv(k_credentials_env, std::to_string(fd).c_str(), 1);
  return {};
}

// A type=local export directory the id container root maps to can write.
Result<void> prepare_dest_dir(const CacheSpec& spec) {
  if (is_directory(spec.dir) || ::geteuid() != 0) {
    return {};  // an ordinary user's container root is that user
  }
  KILN_TRY(make_dirs(spec.dir));
  KILN_TRY_ASSIGN(executor::IdMapping mapping, executor::compute_id_mapping());
  if (::chown(spec.dir.c_str(), mapping.host_root_uid(), mapping.host_root_gid()) != 0) {
    return Error(ErrorCode::io, cat("hand `", spec.dir, "` to kiln's container root"), errno);
  }
  return {};
}

}  // namespace

Result<void> prepare_cache_access(const std::vector<CacheSpec>& from, const std::vector<CacheSpec>& to,
                                  const RegistryOptions& options) {
  if (executor::in_kiln_namespace()) {
    return {};
  }
  std::vector<const CacheSpec*> registries;
  for (const auto* list : {&from, &to}) {
    for (const auto& s : *list) {
      if (s.type == CacheSpec::Type::registry) {
        registries.push_back(&s);
      } else if (list == &to) {
        KILN_TRY(prepare_dest_dir(s));
      }
    }
  }
  if (!registries.empty()) {
    KILN_TRY(prepare_credentials(registries, options));
  }
  return {};
}

namespace detail {

Result<registry::RegistryOptions> cache_registry_options(const RegistryOptions& options, const std::string& ref) {
  KILN_TRY_ASSIGN(registry::RegistryOptions ro, to_registry_options(options));
  ro.progress = nullptr;  // blob-by-blob progress would interleave with the build's
  const Prepared& p = prepared();
  if (p.present && !ro.credentials) {
    ro.read_auth_files = false;  // looked up outside kiln's namespace already
    if (auto it = p.by_ref.find(ref); it != p.by_ref.end()) {
      ro.credentials = it->second;
    }
  }
  return ro;
}

}  // namespace detail

}  // namespace kiln
