#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "executor/user_namespace.h"
#include "tests/support/test_env.h"
#include "tests/support/userns.h"
#include "util/file.h"

namespace kiln::test {

namespace {
std::string& reason() {
  static std::string r = "not entered";
  return r;
}
}  // namespace

const std::string& userns_unavailable_reason() { return reason(); }

}  // namespace kiln::test

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    listing = listing || std::strncmp(argv[i], "--gtest_list_tests", 18) == 0;
  }
  // Tests find the helper in the build tree unless told otherwise.
  ::setenv("KILN_SANDBOX_HELPER", kiln::path_join(kiln::test::binary_dir(), "kiln-sandbox").c_str(), 0);
  if (!listing) {
    // Never returns outside the namespace: the re-executed copy runs the tests.
    auto entered = kiln::executor::enter_user_namespace(argc, argv);
    if (entered) {
      kiln::test::reason().clear();
    } else {
      kiln::test::reason() = entered.error().render() + " " + entered.error().hint();
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
