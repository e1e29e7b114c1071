#include "tests/support/test_env.h"

#include <cstdlib>

#include "util/file.h"

namespace kiln::test {

std::string source_dir() {
  const char* env = std::getenv("KILN_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : KILN_SOURCE_DIR;
}

std::string shared_dir() {
  const char* env = std::getenv("KILN_SHARED_DIR");
  std::string dir = env != nullptr && *env != '\0' ? env : KILN_SHARED_DIR;
  return is_directory(path_join(dir, "conformance")) ? dir : "";
}

std::string binary_dir() {
  const char* env = std::getenv("KILN_BINARY_DIR");
  return env != nullptr && *env != '\0' ? env : KILN_BINARY_DIR;
}

std::string kiln_binary() { return path_join(binary_dir(), "kiln"); }

}  // namespace kiln::test
