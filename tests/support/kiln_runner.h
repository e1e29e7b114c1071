// Running the real kiln binary (and other programs) from tests, and the
// fixtures they share (STYLE.md T2, T7).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::test {

struct CmdResult {
  int status = -1;  ///< exit code, or 128+signal
  std::string out;  ///< stdout
  std::string err;  ///< stderr
  /// "status=N\nstdout:...\nstderr:..." for assertion messages.
  std::string describe() const;
};

/// Runs argv with extra environment variables (added to the test's own).
CmdResult run_cmd(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                  const std::string& stdin_data = "");

/// Runs the built kiln with --root root.
CmdResult run_kiln(const std::string& root, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {}, const std::string& stdin_data = "");

/// The busybox fixture (testdata/fixtures/make-busybox-image), built once per
/// test process into a temp dir removed at exit. Layout dir / oci-archive.
const std::string& busybox_layout();
const std::string& busybox_archive();
/// The fixture's image id (config digest, "sha256:...").
const std::string& busybox_image_id();

/// True when `program` is in PATH.
bool have_program(const std::string& program);

/// Trimmed last line of text (for "print the id at the end" outputs).
std::string last_line(const std::string& text);

}  // namespace kiln::test
