#include "frontend/cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "util/file.h"
#include "util/strings.h"
#include "util/time.h"

namespace kiln::cli {

int exit_status_for(const Error& error) { return error.code() == ErrorCode::usage ? 2 : 1; }

static void write_err(const std::string& s) {
  ssize_t ignored = ::write(2, s.data(), s.size());
  (void)ignored;
}

// Shows the offending Dockerfile lines (C5): "  3 | RUNN x" and a caret.
static std::string source_excerpt(const SourceRange& src) {
  if (src.file.empty() || src.line_begin <= 0) {
    return "";
  }
  auto text = read_file(src.file == "-" ? "/dev/null" : src.file);
  if (!text) {
    return "";
  }
  auto lines = split(*text, '\n');
  std::string out;
  int end = std::max(src.line_end, src.line_begin);
  for (int n = src.line_begin; n <= end && n <= static_cast<int>(lines.size()); ++n) {
    std::string line = lines[static_cast<size_t>(n - 1)];
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    out += cat(" ", n, " | ", line, "\n");
  }
  if (src.column > 0) {
    std::string pad(std::to_string(src.line_begin).size() + 2, ' ');
    out += cat(pad, "| ", std::string(static_cast<size_t>(src.column - 1), ' '), "^\n");
  }
  return out;
}

int report_error(const Error& error) {
  std::string msg = "Error: ";
  if (error.source() && !error.source()->file.empty() &&
      error.render().find(error.source()->file + ":") == std::string::npos) {
    msg += cat(error.source()->file, ":", error.source()->line_begin, ": ");
  }
  msg += error.render() + "\n";
  if (error.source()) {
    msg += source_excerpt(*error.source());
  }
  if (!error.hint().empty()) {
    msg += "Hint: " + error.hint() + "\n";
  }
  write_err(msg);
  return exit_status_for(error);
}

void print_line(const std::string& text) {
  std::string s = text + "\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) {
      width.resize(r.size(), 0);
    }
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) {
        line += std::string(width[i] - r[i].size() + 3, ' ');
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string relative_time(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) {
    return "";
  }
  int64_t d = now().seconds - t->seconds;
  if (d < 0) {
    return "in the future";
  }
  auto plural = [](int64_t n, const char* unit) { return cat(n, " ", unit, n == 1 ? "" : "s", " ago"); };
  if (d < 60) {
    return plural(d, "second");
  }
  if (d < 3600) {
    return plural(d / 60, "minute");
  }
  if (d < 86400) {
    return plural(d / 3600, "hour");
  }
  if (d < 86400 * 14) {
    return plural(d / 86400, "day");
  }
  if (d < 86400 * 60) {
    return plural(d / (86400 * 7), "week");
  }
  if (d < 86400 * 365 * 2) {
    return plural(d / (86400 * 30), "month");
  }
  return plural(d / (86400 * 365), "year");
}

}  // namespace kiln::cli
