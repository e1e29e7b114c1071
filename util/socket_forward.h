// Relaying connections from one unix socket to another: how kiln hands an
// ssh agent (`bud --ssh`) to RUN --mount=type=ssh without exposing the
// agent's own socket. Each connection to the listening socket gets a fresh
// connection to the upstream socket and bytes are copied both ways until
// either side closes (BuildKit's sshforward does the same over its session).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "util/fd.h"
#include "util/result.h"

namespace kiln {

/// Creates a listening unix stream socket at `path` (which must not exist),
/// mode 0600. Errors: invalid_input when the path is too long for
/// sockaddr_un; syscall naming the path otherwise.
Result<UniqueFd> listen_unix(const std::string& path);

/// Relays every connection accepted on `listen_fd` to `upstream` (a socket
/// path, connected anew per client) until `stop_fd` becomes readable or is
/// hung up (-1 = never). Single-threaded (poll); a client whose upstream
/// connect fails is closed at once. Used by SocketForwarder's thread and by
/// a forked helper process.
void relay_unix_connections(int listen_fd, const std::string& upstream, int stop_fd);

/// A relay on its own thread, from a socket it creates to `upstream`.
class SocketForwarder {
 public:
  /// Listens on `listen_path` (listen_unix) and starts relaying. The caller
  /// sets the socket's owner and mode afterwards (chown/chmod on the path).
  static Result<std::unique_ptr<SocketForwarder>> start(const std::string& listen_path, const std::string& upstream);
  /// Stops the thread, closes every connection and removes the socket file.
  ~SocketForwarder();
  SocketForwarder(const SocketForwarder&) = delete;
  SocketForwarder& operator=(const SocketForwarder&) = delete;

  const std::string& path() const { return m_path; }

 private:
  SocketForwarder() = default;
  std::string m_path;
  UniqueFd m_listen;
  UniqueFd m_stop_write;
  UniqueFd m_stop_read;
  std::thread m_thread;
};

}  // namespace kiln
