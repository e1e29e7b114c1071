// KILN_DEFER: run a statement at scope exit (ccache util/defer.hpp). For
// one-offs only; a resource used twice deserves a real owner type (R1).
#pragma once

#include <utility>

#include "util/result.h"

namespace kiln {

template <typename F>
class Defer {
 public:
  explicit Defer(F f) : m_f(std::move(f)) {}
  Defer(const Defer&) = delete;
  Defer& operator=(const Defer&) = delete;
  ~Defer() {
    if (m_armed) {
      m_f();
    }
  }
  void dismiss() { m_armed = false; }

 private:
  F m_f;
  bool m_armed = true;
};

}  // namespace kiln

#define KILN_DEFER(...) ::kiln::Defer KILN_CONCAT(kiln_defer_, __LINE__)([&] { __VA_ARGS__; })
