#include "layers/async_hash.h"

namespace kiln::layers::detail {

AsyncSha256::AsyncSha256() : m_thread([this] { run(); }) {}

AsyncSha256::~AsyncSha256() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void AsyncSha256::run() {
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [&] { return m_stop || m_busy; });
    if (!m_busy) {
      return;
    }
    const void* data = m_data;
    size_t size = m_size;
    lock.unlock();
    m_sha.update(data, size);
    lock.lock();
    m_busy = false;
    m_cv.notify_all();
  }
}

void AsyncSha256::wait_idle(std::unique_lock<std::mutex>& lock) {
  m_cv.wait(lock, [&] { return !m_busy; });
}

void AsyncSha256::submit(const void* data, size_t size) {
  std::unique_lock<std::mutex> lock(m_mutex);
  wait_idle(lock);
  m_data = data;
  m_size = size;
  m_busy = true;
  m_cv.notify_all();
}

std::string AsyncSha256::finish_hex() {
  std::unique_lock<std::mutex> lock(m_mutex);
  wait_idle(lock);
  return m_sha.finish_hex();
}

}  // namespace kiln::layers::detail
