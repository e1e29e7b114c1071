// Internal to solver/ops: COPY/ADD source wildcards with Go's path/filepath
// Match syntax, which BuildKit (fsutil copy.ResolveWildcards) uses:
//   `*`      any run of non-'/' characters
//   `?`      one non-'/' character (one UTF-8 code point)
//   `[...]`  a class: ranges `a-z`, negation with a leading `^`, `\` escapes
//   `\c`     the character c
// A malformed pattern (an unclosed class, a trailing `\`) matches nothing, as
// BuildKit ignores filepath.Match's ErrBadPattern.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace kiln::solver::ops::detail {

/// Whether name matches pattern (Go filepath.Match on Linux). `*` and `?`
/// never match '/'. *bad (optional) is set when the pattern is malformed.
bool glob_match(std::string_view pattern, std::string_view name, bool* bad = nullptr);

/// Whether a path component holds `*`, `?` or `[` not escaped by `\`.
bool has_wildcards(std::string_view component);

/// Splits a cleaned relative path at its first component with wildcards or
/// a `\` escape: ("a/b", "c*/d") for "a/b/c*/d"; ("a/b", "") when there is
/// none. An escaped component is matched rather than taken literally, so
/// `star\*` names the file `star*` (BuildKit hashes it so but then looks
/// for a file named `star\*`).
std::pair<std::string, std::string> split_wildcards(std::string_view path);

}  // namespace kiln::solver::ops::detail
