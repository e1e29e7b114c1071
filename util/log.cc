#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>

#include "util/result.h"

namespace kiln::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::warning)};
std::mutex g_sink_mutex;
Sink& sink_ref() {
  static Sink s;
  return s;
}
const char* level_prefix(Level l) {
  switch (l) {
    case Level::error: return "error: ";
    case Level::warning: return "warning: ";
    case Level::info: return "";
    case Level::debug: return "debug: ";
    case Level::trace: return "trace: ";
  }
  return "";
}
}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "error") {
    return Level::error;
  }
  if (name == "warn" || name == "warning") {
    return Level::warning;
  }
  if (name == "info") {
    return Level::info;
  }
  if (name == "debug") {
    return Level::debug;
  }
  if (name == "trace") {
    return Level::trace;
  }
  return std::nullopt;
}

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  sink_ref() = std::move(sink);
}

void write(Level l, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  if (sink_ref()) {
    sink_ref()(l, message);
    return;
  }
  std::string line = cat("kiln: ", level_prefix(l), message, "\n");
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace kiln::log

namespace kiln {
void log_warning_and_drop(const Error& error) { log::warning(error.render()); }
}  // namespace kiln
