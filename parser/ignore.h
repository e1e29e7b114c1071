// `.dockerignore` / `.containerignore` matching with BuildKit's rules
// (moby/patternmatcher; ../shared/conformance/README.md section 3): patterns
// in order, `!` exceptions, `*` `?` `[...]` `\`, `**`, parents count, last
// match wins. Patterns compile to RE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::parser {

/// Reads an ignore file: `#` lines (first character) are comments, lines are
/// trimmed, empty ones skipped, `!` marks an exception, each pattern is
/// cleaned like a path and loses one leading `/`. A lone `!` is returned as
/// "!" (IgnoreMatcher::create rejects it).
std::vector<std::string> read_ignore_patterns(std::string_view text);

/// Ignore-file names to look for, most specific first: the first that exists
/// wins. `<Dockerfile>.containerignore` and `<Dockerfile>.dockerignore` sit
/// next to the Dockerfile (dockerfile_path as given, "" when none); the other
/// two are relative to the build context. `.containerignore` wins over
/// `.dockerignore` at the same level (buildah).
std::vector<std::string> ignore_file_candidates(std::string_view dockerfile_path);

/// What a context walker does with a directory.
enum class DirAction {
  include,  ///< not excluded: send it and walk it
  skip,     ///< excluded, and no exception can re-include anything inside
  descend,  ///< excluded itself, but walk it: an exception may match inside
};

/// Per-pattern state of a directory, passed down to its entries (BuildKit's
/// MatchInfo) so each entry is matched once, not against all its parents.
struct MatchInfo {
  std::vector<bool> parent_matched;  ///< empty = unknown (the root)
};

class IgnoreMatcher {
 public:
  /// Compiles patterns (as read_ignore_patterns returns them). Errors
  /// (ErrorCode::invalid_input): a lone `!`, a malformed pattern such as `[`.
  static Result<IgnoreMatcher> create(const std::vector<std::string>& patterns);
  /// read_ignore_patterns + create.
  static Result<IgnoreMatcher> from_text(std::string_view text);

  IgnoreMatcher(IgnoreMatcher&&) noexcept;
  IgnoreMatcher& operator=(IgnoreMatcher&&) noexcept;
  ~IgnoreMatcher();

  /// True when path (slash-separated, relative to the context root) is left
  /// out of the context: the last pattern matching it or one of its parent
  /// directories decides.
  bool matches(std::string_view path) const;
  /// As matches(), using the parent's MatchInfo (from the walk) instead of
  /// re-checking every parent; fills *info for path's own entries.
  bool matches(std::string_view path, const MatchInfo& parent, MatchInfo* info) const;
  /// Whether the walker can skip directory dir (relative path) entirely.
  DirAction dir_action(std::string_view dir) const;
  /// Same, with the result of matches(dir, parent, info) already known.
  DirAction dir_action(std::string_view dir, bool excluded) const;

  bool has_exceptions() const;
  size_t size() const;

 private:
  struct Pattern;
  IgnoreMatcher();
  std::vector<std::unique_ptr<Pattern>> m_patterns;
  bool m_exceptions = false;
  bool m_prefix_only_exceptions = true;
};

}  // namespace kiln::parser
