// A small JSON reader with Go's encoding/json acceptance rules, for the
// exec form (`CMD ["a", "b"]`) and the JSON `syntax` directive. parser/ may
// not use nlohmann (STYLE.md section 2); the grammar is tiny and this is on the
// hot path of every RUN/CMD line. Iterative, so hostile nesting cannot
// overflow the stack (Go's limit of 10000 levels is kept).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::parser {

enum class JsonArrayStatus {
  not_json,     ///< not a valid JSON array: the plain form applies
  not_strings,  ///< valid JSON, but an element is not a string: a parse error
  ok,
};

/// Parses text (leading Unicode whitespace skipped) as a JSON array of
/// strings into out (decoded; invalid UTF-8 and lone surrogates become
/// U+FFFD as in Go).
JsonArrayStatus parse_json_string_array(std::string_view text, std::vector<std::string>& out);

/// If text is exactly one JSON object (JSON whitespace around it allowed),
/// returns the decoded value of its member `key` when that member is a string.
std::optional<std::string> json_object_string_member(std::string_view text, std::string_view key);

}  // namespace kiln::parser
