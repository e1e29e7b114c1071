// A fault-injecting HTTP proxy on loopback, in front of a test registry
// (plain HTTP). Clients talk to proxy.host() as if it were the registry
// (the Host header is passed through, so Location headers point back at the
// proxy); each connection carries one request (the proxy forces
// `Connection: close`). Faults match a method and a path substring and fire
// a set number of times:
//   - status: answer with an HTTP status (e.g. 503) without asking the registry
//   - cut_body: forward the response but close the connection after N body bytes
//   - corrupt_body: forward the response with one body byte flipped (same size)
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/loopback_server.h"

namespace kiln::test {

struct Fault {
  enum class Kind { status, cut_body, corrupt_body };
  Kind kind = Kind::status;
  std::string method = "GET";   ///< "" matches any method
  std::string path_contains;    ///< e.g. "/blobs/sha256:"
  long arg = 503;               ///< status code, or byte count for cut_body / offset for corrupt_body
  int times = 1;                ///< how often it fires (-1 = always)
};

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();

  std::string host() const { return m_server->host(); }
  void add(Fault fault);
  /// How many times faults fired so far.
  int fired() const { return m_fired; }
  /// Requests seen ("GET /v2/..."), in order.
  std::vector<std::string> requests() const;

 private:
  void handle(int fd);
  bool take_fault(const HttpHead& head, Fault* out);
  int m_upstream;
  mutable std::mutex m_mu;
  std::vector<Fault> m_faults;
  std::vector<std::string> m_requests;
  std::atomic<int> m_fired{0};
  std::unique_ptr<LoopbackServer> m_server;
};

}  // namespace kiln::test
