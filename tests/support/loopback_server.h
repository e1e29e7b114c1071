// A tiny TCP server on 127.0.0.1 with a free port, for test doubles that
// speak HTTP (the token server, the fault-injecting proxy). Each accepted
// connection is handled on its own thread; the destructor stops accepting,
// shuts the open connections down and joins every thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kiln::test {

class LoopbackServer {
 public:
  /// handler(fd) serves one connection; it owns nothing (the server closes fd).
  explicit LoopbackServer(std::function<void(int fd)> handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return m_port; }
  /// "127.0.0.1:PORT"
  std::string host() const;

 private:
  void accept_loop();
  std::function<void(int)> m_handler;
  int m_listen_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::mutex m_mu;
  std::vector<int> m_open;
  std::vector<std::thread> m_threads;
  std::thread m_acceptor;
};

/// One HTTP/1.1 request head read from a socket.
struct HttpHead {
  std::string method;
  std::string target;  ///< path and query as sent
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string raw;     ///< the head bytes as received (through the blank line)
  std::string extra;   ///< bytes read past the head (start of the body)
};

/// Reads a request or response head (up to "\r\n\r\n"); nullopt on EOF/error.
std::optional<HttpHead> read_http_head(int fd);
/// Writes all bytes (ignoring errors: the peer may be gone).
void write_all_ignoring(int fd, const std::string& data);
/// Connects to 127.0.0.1:port; -1 on failure.
int connect_loopback(int port);
/// Picks a currently free TCP port on 127.0.0.1.
int free_port();

}  // namespace kiln::test
