// What the CLI prints: errors (with hints and Dockerfile source lines),
// tables and results. stdout carries only results; everything else goes to
// stderr (DESIGN.md "Streams and exit codes").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::cli {

/// Exit status for an error: 2 for usage errors, else 1 (C3: one place).
int exit_status_for(const Error& error);

/// Prints "Error: ..." (and "Hint: ...", and the Dockerfile lines an error's
/// source range names, with a caret) to stderr; returns exit_status_for().
int report_error(const Error& error);

/// Writes to stdout: text followed by a newline.
void print_line(const std::string& text);

/// Aligned columns with a header row.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

/// "3 minutes ago", "2 days ago", "About an hour ago" for an RFC 3339 time.
std::string relative_time(const std::string& rfc3339);

}  // namespace kiln::cli
