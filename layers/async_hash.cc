#include "layers/async_hash.h"

namespace kiln::layers::detail {

namespace {
constexpr size_t k_ring = 16;  // 2 MiB
}  // namespace

HashAndCompress::HashAndCompress(Compressor& compressor) : m_compressor(compressor), m_buffers(k_ring) {
  for (auto& b : m_buffers) {
    b.reserve(k_buffer_size);
  }
  m_thread = std::thread([this] { run(); });
}

HashAndCompress::~HashAndCompress() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void HashAndCompress::run() {
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [&] { return m_stop || m_queued > 0; });
    if (m_queued == 0) {
      return;  // stopping, and everything queued was processed
    }
    std::vector<uint8_t>& b = m_buffers[m_next];
    bool failed = m_error.has_value() || m_stop;  // stopping early: only release
    lock.unlock();
    std::optional<Error> error;
    if (!failed) {  // after an error, buffers are only released
      m_sha.update(b.data(), b.size());
      auto r = m_compressor.write(b.data(), b.size());
      if (!r) {
        error = std::move(r).error();
      }
    }
    lock.lock();
    if (error && !m_error) {
      m_error = std::move(error);
    }
    b.clear();
    m_next = (m_next + 1) % m_buffers.size();
    --m_queued;
    m_cv.notify_all();
  }
}

Result<std::vector<uint8_t>*> HashAndCompress::acquire() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait(lock, [&] { return m_queued < m_buffers.size() || m_error.has_value(); });
  if (m_error) {
    return *m_error;
  }
  return &m_buffers[m_fill];
}

void HashAndCompress::submit() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_fill = (m_fill + 1) % m_buffers.size();
    ++m_queued;
  }
  m_cv.notify_all();
}

Result<std::string> HashAndCompress::finish() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait(lock, [&] { return m_queued == 0; });
  if (m_error) {
    return *m_error;
  }
  return m_sha.finish_hex();
}

}  // namespace kiln::layers::detail
