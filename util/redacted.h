// Redacted<T>: a secret that prints as ******** (STYLE.md N6). Registry
// credentials, --secret values and Authorization headers travel in it, so
// logging or an error message never shows them by accident.
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace kiln {

inline constexpr const char* k_redacted = "********";

template <typename T>
class Redacted {
 public:
  Redacted() = default;
  explicit Redacted(T value) : m_value(std::move(value)) {}
  /// The secret itself, for the one place that must use it (an HTTP header,
  /// a file written into a sandbox). Never log the result.
  const T& reveal() const { return m_value; }
  bool empty() const { return m_value.empty(); }
  friend std::ostream& operator<<(std::ostream& os, const Redacted&) { return os << k_redacted; }

 private:
  T m_value{};
};

}  // namespace kiln
