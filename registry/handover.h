// Host files a registry client reads, handed from kiln's outer process to the
// process it re-executes inside kiln's user namespace (DESIGN.md "One user
// namespace"). Inside, the invoking user's files may be out of reach: for
// host root, container root is an unprivileged subordinate id that cannot
// read root's 0600 files or enter its 0700 directories. So before entering,
// the outer process copies what it can read into sealed memfds the
// re-executed process inherits (listed in environment variables that hold
// only descriptor numbers, never the bytes). Secrets never touch the disk;
// RUN steps close every inherited descriptor (executor/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::registry {

/// Copies `data` into a new sealed memfd without FD_CLOEXEC (so it survives
/// exec) and returns the descriptor, which the caller owns. `what` names the
/// content in errors. Errors: syscall.
Result<int> copy_to_inherited_memfd(std::string_view data, const std::string& what);

/// Reads the whole content of descriptor `fd` from offset 0 (pread; the
/// offset is not moved). Errors: syscall, naming `what`.
Result<std::string> read_whole_fd(int fd, const std::string& what);

/// One file of a TLS cert dir (containers-certs.d(5): *.crt CAs, *.cert and
/// *.key client pairs).
struct CertDirFile {
  std::string name;  ///< "ca.crt"
  std::string data;  ///< the bytes
};

/// Hands the *.crt, *.cert and *.key files of `cert_dir` over (above) in
/// $KILN_CERT_DIR and $KILN_CERT_DIR_FDS. No-op for "" or when a cert dir was
/// handed over already. Errors: io for an unreadable file (naming it),
/// syscall.
Result<void> hand_over_cert_dir(const std::string& cert_dir);

/// The *.crt, *.cert and *.key files of `cert_dir`, from the handed-over
/// copy when it is of that directory, else read from it (a missing or
/// unreadable directory gives an empty list: the caller's TLS check then
/// fails with curl's own error naming the certificate problem).
std::vector<CertDirFile> read_cert_dir(const std::string& cert_dir);

}  // namespace kiln::registry
