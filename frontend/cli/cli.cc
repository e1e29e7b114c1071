#include "frontend/cli/cli.h"

#include <cstdio>

namespace kiln::cli {

int run(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::printf("kiln %s\n", KILN_VERSION);
  return 0;
}

}  // namespace kiln::cli
