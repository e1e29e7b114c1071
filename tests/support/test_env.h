// Where tests find the source tree, the shared conformance data, the built
// kiln binary and fixtures; and small helpers every test uses.
#pragma once

#include <string>

namespace kiln::test {

/// The repository root (testdata/ lives there).
std::string source_dir();
/// ../shared beside the checkout, or $KILN_SHARED_DIR; "" when absent.
std::string shared_dir();
/// The build directory (the kiln binary is build/kiln).
std::string binary_dir();
/// Path of the built kiln binary.
std::string kiln_binary();

/// Skips the current test with a message when the shared conformance data is
/// absent. Use: KILN_REQUIRE_SHARED();
#define KILN_REQUIRE_SHARED()                                                         \
  do {                                                                                \
    if (::kiln::test::shared_dir().empty()) {                                         \
      GTEST_SKIP() << "../shared is absent (conformance data); skipping this test"; \
    }                                                                                 \
  } while (0)

}  // namespace kiln::test
