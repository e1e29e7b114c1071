#include "executor/deferred_teardown.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "executor/mounts.h"
#include "executor/sandbox.h"
#include "util/log.h"

namespace kiln::executor {

namespace {

struct Item {
  UniqueFd ns;
  std::string work;
};

// One detached worker for the whole process; it lives as long as kiln does
// (at exit the kernel closes whatever is left).
class TeardownQueue {
 public:
  void push(Item item) {
    std::lock_guard<std::mutex> lock(m_mutex);
    adopt_after_fork();
    if (!m_started) {
      std::thread([this] { run(); }).detach();
      m_started = true;
    }
    m_items.push_back(std::move(item));
    m_cv.notify_all();
  }

  void wait_for(const std::string& work) {
    std::unique_lock<std::mutex> lock(m_mutex);
    adopt_after_fork();
    m_cv.wait(lock, [&] { return !pending(work); });
  }

 private:
  // A forked child inherits the queue but not the worker thread: it tears
  // the inherited items down itself and starts its own worker when needed.
  void adopt_after_fork() {
    pid_t self = ::getpid();
    if (m_owner == self) {
      return;
    }
    m_owner = self;
    m_started = false;
    m_busy = false;
    m_busy_work.clear();
    m_items.clear();  // closes the inherited fds here, synchronously
  }

  bool pending(const std::string& work) const {
    if (m_busy_work == work && m_busy) {
      return true;
    }
    for (const auto& i : m_items) {
      if (i.work == work) {
        return true;
      }
    }
    return false;
  }

  void run() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true) {
      m_cv.wait(lock, [&] { return !m_items.empty(); });
      Item item = std::move(m_items.front());
      m_items.pop_front();
      m_busy = true;
      m_busy_work = item.work;
      lock.unlock();
      item.ns.reset();  // the kernel unmounts the sandbox's tree here
      if (!item.work.empty()) {
        log_warning_and_drop(remove_volatile_marker(item.work));
      }
      lock.lock();
      m_busy = false;
      m_busy_work.clear();
      m_cv.notify_all();
    }
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Item> m_items;
  pid_t m_owner = ::getpid();
  bool m_started = false;
  bool m_busy = false;
  std::string m_busy_work;
};

TeardownQueue& queue() {
  static auto* q = new TeardownQueue;  // never destroyed: the worker may still use it at exit
  return *q;
}

}  // namespace

void defer_teardown(UniqueFd mount_ns, std::string volatile_work) {
  queue().push({std::move(mount_ns), std::move(volatile_work)});
}

void wait_for_teardown(const std::string& work) { queue().wait_for(work); }

void wait_for_sandbox_teardown(const std::string& work) { wait_for_teardown(work); }

}  // namespace kiln::executor
