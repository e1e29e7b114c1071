// Running helper programs (git, newuidmap, docker-credential-*) and
// collecting their output. Not for build steps: those run in executor/.
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace kiln {

enum class Capture { yes, no };

struct ProgramOptions {
  std::string stdin_data;                 ///< written to the child's stdin, then closed
  Capture capture_stdout = Capture::yes;  ///< else inherited
  Capture capture_stderr = Capture::yes;  ///< else inherited
  std::vector<std::string> env;           ///< "K=V"; empty = inherit kiln's environment
  std::string cwd;                        ///< "" = kiln's cwd
};

struct ProgramResult {
  int exit_status = 0;  ///< exit code, or 128+signal when killed
  std::string stdout_data;
  std::string stderr_data;
};

/// Runs argv (argv[0] looked up in PATH) and waits. A non-zero exit is not an
/// error here; callers judge exit_status. Errors: not_found when the program
/// does not exist, syscall when it cannot be started.
Result<ProgramResult> run_program(const std::vector<std::string>& argv, const ProgramOptions& options = {});

/// Full path of a program found in PATH, or "" when absent.
std::string find_program(const std::string& name);

}  // namespace kiln
