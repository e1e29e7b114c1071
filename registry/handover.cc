#include "registry/handover.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include "util/fd.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

constexpr const char* k_cert_dir_env = "KILN_CERT_DIR";
constexpr const char* k_cert_fds_env = "KILN_CERT_DIR_FDS";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

bool is_cert_file(const std::string& name) {
  return (name.ends_with(".crt") || name.ends_with(".cert") || name.ends_with(".key")) &&
         name.find_first_of(":,") == std::string::npos;
}

}  // namespace

Result<int> copy_to_inherited_memfd(std::string_view data, const std::string& what) {
  int fd = ::memfd_create("kiln-handover", MFD_ALLOW_SEALING);  // inherited: no MFD_CLOEXEC
  if (fd < 0) {
    return Error::from_errno(cat("create a memfd for ", what));
  }
  UniqueFd owned(fd);
  KILN_TRY(write_all(fd, data).context(cat("copy ", what)));
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    return Error::from_errno(cat("seal the copy of ", what));
  }
  return owned.release();
}

Result<std::string> read_whole_fd(int fd, const std::string& what) {
  std::string text;
  char buf[8192];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      return Error::from_errno(cat("read ", what));
    }
    if (n == 0) {
      return text;
    }
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

Result<void> hand_over_cert_dir(const std::string& cert_dir) {
  if (cert_dir.empty() || !env(k_cert_dir_env).empty()) {
    return {};
  }
  std::string dir = absolute_path(cert_dir);
  std::vector<std::string> entries;
  auto names = list_dir(dir);
  if (!names) {
    return {};  // read_cert_dir's rule: curl reports the certificate problem
  }
  for (const auto& n : *names) {
    if (!is_cert_file(n)) {
      continue;
    }
    KILN_TRY_ASSIGN(std::string data, read_file(path_join(dir, n)));
    KILN_TRY_ASSIGN(int fd, copy_to_inherited_memfd(data, cat("`", path_join(dir, n), "`")));
    entries.push_back(cat(n, ":", fd));
  }
  ::setenv(k_cert_fds_env, join(entries, ",").c_str(), 1);
  ::setenv(k_cert_dir_env, dir.c_str(), 1);
  return {};
}

std::vector<CertDirFile> read_cert_dir(const std::string& cert_dir) {
  std::vector<CertDirFile> out;
  std::string handed = env(k_cert_dir_env);
  if (!handed.empty() && handed == absolute_path(cert_dir)) {
    for (const auto& entry : split(env(k_cert_fds_env), ',')) {
      size_t colon = entry.rfind(':');
      auto fd = colon == std::string::npos ? std::nullopt : parse_int(std::string_view(entry).substr(colon + 1));
      if (!fd) {
        continue;
      }
      auto data = read_whole_fd(static_cast<int>(*fd), cat("the copy of `", entry.substr(0, colon), "`"));
      if (data) {
        out.push_back({entry.substr(0, colon), std::move(*data)});
      }
    }
    return out;
  }
  for (const auto& n : list_dir(cert_dir).value_or(std::vector<std::string>{})) {
    if (is_cert_file(n)) {
      if (auto data = read_file(path_join(cert_dir, n))) {
        out.push_back({n, std::move(*data)});
      }
    }
  }
  return out;
}

}  // namespace kiln::registry
