#include "util/socket_forward.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/strings.h"

namespace kiln {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error(ErrorCode::invalid_input, cat("use socket `", path, "`: the path is empty or longer than ",
                                               sizeof addr.sun_path - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

int connect_unix(const std::string& path) {
  auto addr = unix_address(path);
  if (!addr) {
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Pair {
  UniqueFd client;
  UniqueFd upstream;
};

// Copies what is readable on `from` to `to`; false when the connection is over.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) {
    return n < 0 && (errno == EINTR || errno == EAGAIN);
  }
  size_t done = 0;
  while (done < static_cast<size_t>(n)) {
    ssize_t w = ::send(to, buf + done, static_cast<size_t>(n) - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return false;
    }
    done += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<UniqueFd> listen_unix(const std::string& path) {
  KILN_TRY_ASSIGN(sockaddr_un addr, unix_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error::from_errno(cat("create socket `", path, "`"));
  }
  mode_t old = ::umask(077);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  if (rc != 0) {
    return Error(ErrorCode::syscall, cat("bind socket `", path, "`"), err);
  }
  if (::listen(fd.get(), 64) != 0) {
    return Error::from_errno(cat("listen on socket `", path, "`"));
  }
  return fd;
}

void relay_unix_connections(int listen_fd, const std::string& upstream, int stop_fd) {
  std::vector<Pair> pairs;
  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({listen_fd, POLLIN, 0});
    fds.push_back({stop_fd, POLLIN, 0});
    for (const auto& p : pairs) {
      fds.push_back({p.client.get(), POLLIN, 0});
      fds.push_back({p.upstream.get(), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (stop_fd >= 0 && fds[1].revents != 0) {
      return;  // closing `pairs` closes every connection
    }
    std::vector<bool> over(pairs.size(), false);
    for (size_t i = 0; i < pairs.size(); ++i) {
      const pollfd& c = fds[2 + 2 * i];
      const pollfd& u = fds[3 + 2 * i];
      if ((c.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !pump(c.fd, u.fd)) {
        over[i] = true;
      }
      if (!over[i] && (u.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !pump(u.fd, c.fd)) {
        over[i] = true;
      }
    }
    for (size_t i = pairs.size(); i-- > 0;) {
      if (over[i]) {
        pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      UniqueFd client(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (client) {
        UniqueFd up(connect_unix(upstream));
        if (up) {
          pairs.push_back({std::move(client), std::move(up)});
        }
      }
    }
  }
}

Result<std::unique_ptr<SocketForwarder>> SocketForwarder::start(const std::string& listen_path,
                                                                const std::string& upstream) {
  std::unique_ptr<SocketForwarder> f(new SocketForwarder());
  KILN_TRY_ASSIGN(f->m_listen, listen_unix(listen_path));
  f->m_path = listen_path;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    ::unlink(listen_path.c_str());
    return Error::from_errno("create a pipe for the socket relay");
  }
  f->m_stop_read.reset(p[0]);
  f->m_stop_write.reset(p[1]);
  int listen_fd = f->m_listen.get();
  int stop_fd = f->m_stop_read.get();
  f->m_thread = std::thread([listen_fd, upstream, stop_fd] { relay_unix_connections(listen_fd, upstream, stop_fd); });
  return f;
}

SocketForwarder::~SocketForwarder() {
  m_stop_write.reset();  // the relay sees the hang-up and returns
  if (m_thread.joinable()) {
    m_thread.join();
  }
  if (!m_path.empty()) {
    ::unlink(m_path.c_str());
  }
}

}  // namespace kiln
