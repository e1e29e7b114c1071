// The kiln command line (CLI11). main() calls run() and nothing else.
#pragma once

namespace kiln::cli {

/// Parses argv, runs the subcommand and returns the process exit status:
/// 0 success, 1 failure, 2 usage error; `kiln run` passes the command's
/// status through. argv[0] named `bud` behaves as `kiln bud`.
int run(int argc, char** argv);

}  // namespace kiln::cli
