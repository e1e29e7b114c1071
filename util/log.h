// Logging to a sink the CLI installs. The library never writes to
// stdout/stderr directly (STYLE.md F4); the default sink writes "kiln: ..."
// lines to stderr so tools and tests work without setup.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/strings.h"

namespace kiln::log {

enum class Level { error = 0, warning = 1, info = 2, debug = 3, trace = 4 };

/// Parses "error|warn|warning|info|debug|trace"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view name);
void set_level(Level level);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

using Sink = std::function<void(Level, std::string_view message)>;
/// Replaces the sink (thread-safe); an empty function restores the default.
void set_sink(Sink sink);

void write(Level level, std::string_view message);

template <typename... Args>
void error(const Args&... args) {
  write(Level::error, cat(args...));
}
template <typename... Args>
void warning(const Args&... args) {
  if (enabled(Level::warning)) {
    write(Level::warning, cat(args...));
  }
}
template <typename... Args>
void info(const Args&... args) {
  if (enabled(Level::info)) {
    write(Level::info, cat(args...));
  }
}
template <typename... Args>
void debug(const Args&... args) {
  if (enabled(Level::debug)) {
    write(Level::debug, cat(args...));
  }
}
template <typename... Args>
void trace(const Args&... args) {
  if (enabled(Level::trace)) {
    write(Level::trace, cat(args...));
  }
}

}  // namespace kiln::log
