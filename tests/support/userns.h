// Tests that need kiln's user namespace (label `userns`) link
// kiln_test_userns_main: its main() enters the namespace before running the
// tests (re-executing the test binary, like kiln does), except when only
// listing tests. When user namespaces are unavailable the tests skip with the
// reason (STYLE.md T5) instead of failing.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace kiln::test {

/// "" when the test process runs inside kiln's user namespace, else why not.
const std::string& userns_unavailable_reason();

#define KILN_REQUIRE_USERNS()                                                            \
  do {                                                                                   \
    if (!::kiln::test::userns_unavailable_reason().empty()) {                            \
      GTEST_SKIP() << "user namespaces unavailable: " << ::kiln::test::userns_unavailable_reason(); \
    }                                                                                    \
  } while (0)

}  // namespace kiln::test
