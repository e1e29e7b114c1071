#include "tests/support/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kiln::test {

namespace {

int listen_loopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

LoopbackServer::LoopbackServer(std::function<void(int)> handler) : m_handler(std::move(handler)) {
  m_listen_fd = listen_loopback(&m_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() {
  m_stop = true;
  ::shutdown(m_listen_fd, SHUT_RDWR);
  m_acceptor.join();
  ::close(m_listen_fd);
  {
    std::lock_guard lock(m_mu);
    for (int fd : m_open) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& t : m_threads) {
    t.join();
  }
}

std::string LoopbackServer::host() const { return "127.0.0.1:" + std::to_string(m_port); }

void LoopbackServer::accept_loop() {
  while (!m_stop) {
    pollfd p{m_listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    std::lock_guard lock(m_mu);
    m_open.push_back(fd);
    m_threads.emplace_back([this, fd] {
      m_handler(fd);
      std::lock_guard inner(m_mu);
      m_open.erase(std::remove(m_open.begin(), m_open.end(), fd), m_open.end());
      ::close(fd);
    });
  }
}

std::optional<HttpHead> read_http_head(int fd) {
  std::string buf;
  char tmp[4096];
  size_t end = std::string::npos;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) {
      return std::nullopt;
    }
    buf.append(tmp, static_cast<size_t>(n));
    if (buf[0] == 0x16) {
      return std::nullopt;  // a TLS handshake: this is a plain HTTP server
    }
  }
  HttpHead h;
  h.raw = buf.substr(0, end + 4);
  h.extra = buf.substr(end + 4);
  size_t line_end = h.raw.find("\r\n");
  std::string first = h.raw.substr(0, line_end);
  size_t sp1 = first.find(' ');
  size_t sp2 = first.find(' ', sp1 + 1);
  h.method = first.substr(0, sp1);
  h.target = first.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
  size_t pos = line_end + 2;
  while (pos < end) {
    size_t e = h.raw.find("\r\n", pos);
    std::string line = h.raw.substr(pos, e - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t v = line.find_first_not_of(' ', colon + 1);
      h.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = e + 2;
  }
  return h;
}

void write_all_ignoring(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int free_port() {
  int port = 0;
  int fd = listen_loopback(&port);
  if (fd >= 0) {
    ::close(fd);
  }
  return port;
}

}  // namespace kiln::test
