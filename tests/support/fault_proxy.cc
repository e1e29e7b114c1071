#include "tests/support/fault_proxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace kiln::test {

FaultProxy::FaultProxy(int upstream_port) : m_upstream(upstream_port) {
  m_server = std::make_unique<LoopbackServer>([this](int fd) { handle(fd); });
}

FaultProxy::~FaultProxy() { m_server.reset(); }

void FaultProxy::add(Fault fault) {
  std::lock_guard lock(m_mu);
  m_faults.push_back(std::move(fault));
}

std::vector<std::string> FaultProxy::requests() const {
  std::lock_guard lock(m_mu);
  return m_requests;
}

bool FaultProxy::take_fault(const HttpHead& head, Fault* out) {
  std::lock_guard lock(m_mu);
  m_requests.push_back(head.method + " " + head.target);
  for (auto& f : m_faults) {
    if (f.times == 0 || (!f.method.empty() && f.method != head.method) ||
        head.target.find(f.path_contains) == std::string::npos) {
      continue;
    }
    if (f.times > 0) {
      --f.times;
    }
    *out = f;
    ++m_fired;
    return true;
  }
  return false;
}

namespace {

// Rewrites the head so the upstream closes after one exchange.
std::string close_head(const HttpHead& head) {
  std::string out;
  size_t pos = 0;
  while (pos < head.raw.size()) {
    size_t e = head.raw.find("\r\n", pos);
    std::string line = head.raw.substr(pos, e - pos);
    pos = e + 2;
    if (line.empty()) {
      break;
    }
    std::string lower = line;
    for (auto& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower.rfind("connection:", 0) == 0 || lower.rfind("keep-alive:", 0) == 0) {
      continue;
    }
    out += line + "\r\n";
  }
  return out + "Connection: close\r\n\r\n";
}

}  // namespace

void FaultProxy::handle(int client) {
  auto head = read_http_head(client);
  if (!head) {
    return;
  }
  Fault fault;
  bool faulty = take_fault(*head, &fault);
  if (faulty && fault.kind == Fault::Kind::status) {
    std::string body = "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"injected fault\"}]}";
    write_all_ignoring(client, "HTTP/1.1 " + std::to_string(fault.arg) +
                                   " Injected\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return;
  }
  int up = connect_loopback(m_upstream);
  if (up < 0) {
    return;
  }
  write_all_ignoring(up, close_head(*head) + head->extra);
  // Pump both ways until the upstream closes; watch the response body.
  std::string resp_head;
  bool in_body = false;
  long body_seen = 0;
  char buf[65536];
  bool client_open = true;
  while (true) {
    pollfd p[2] = {{up, POLLIN, 0}, {client, static_cast<short>(client_open ? POLLIN : 0), 0}};
    if (::poll(p, 2, 10000) <= 0) {
      break;
    }
    if ((p[1].revents & (POLLIN | POLLHUP)) != 0) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        client_open = false;
        ::shutdown(up, SHUT_WR);
      } else {
        write_all_ignoring(up, std::string(buf, static_cast<size_t>(n)));
      }
    }
    if ((p[0].revents & (POLLIN | POLLHUP)) == 0) {
      continue;
    }
    ssize_t n = ::recv(up, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    std::string chunk(buf, static_cast<size_t>(n));
    if (!in_body) {
      resp_head += chunk;
      auto end = resp_head.find("\r\n\r\n");
      if (end == std::string::npos) {
        continue;
      }
      // One exchange per connection, so the client never reuses a connection the proxy closes.
      write_all_ignoring(client, resp_head.substr(0, end) + "\r\nConnection: close\r\n\r\n");
      chunk = resp_head.substr(end + 4);
      in_body = true;
    }
    if (faulty && fault.kind == Fault::Kind::corrupt_body && fault.arg >= body_seen &&
        fault.arg < body_seen + static_cast<long>(chunk.size())) {
      chunk[static_cast<size_t>(fault.arg - body_seen)] ^= 0x5a;
    }
    if (faulty && fault.kind == Fault::Kind::cut_body && body_seen + static_cast<long>(chunk.size()) >= fault.arg) {
      write_all_ignoring(client, chunk.substr(0, static_cast<size_t>(fault.arg - body_seen)));
      break;  // cut: close both sides mid-body
    }
    body_seen += static_cast<long>(chunk.size());
    write_all_ignoring(client, chunk);
  }
  ::close(up);
}

}  // namespace kiln::test
