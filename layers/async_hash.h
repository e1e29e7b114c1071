// Internal: SHA-256 on a thread of its own, so hashing the tar stream (the
// diffID) overlaps with producing and compressing it instead of adding to the
// serial work of the thread that walks the snapshot.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "util/hasher.h"

namespace kiln::layers::detail {

class AsyncSha256 {
 public:
  AsyncSha256();
  ~AsyncSha256();
  AsyncSha256(const AsyncSha256&) = delete;
  AsyncSha256& operator=(const AsyncSha256&) = delete;

  /// Hashes [data, data+size) next. Waits until the previously submitted
  /// buffer is hashed, so the caller may reuse that one afterwards; `data`
  /// must stay unchanged until the next submit() or finish_hex().
  void submit(const void* data, size_t size);
  /// Waits for the last buffer and returns the hex digest of everything.
  std::string finish_hex();

 private:
  void run();
  void wait_idle(std::unique_lock<std::mutex>& lock);

  Sha256 m_sha;
  const void* m_data = nullptr;
  size_t m_size = 0;
  bool m_busy = false;
  bool m_stop = false;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

}  // namespace kiln::layers::detail
