// Heredoc markers (`<<EOF`, `<<-'EOF'`, `3<<EOF`) as BuildKit recognises
// them; ../shared/conformance/README.md section 1.8.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

/// Inspects one shell word: optional decimal fd, `<<`, optional `-`, then a
/// delimiter without `<`. Returns nullopt when the word is no heredoc marker
/// (or its delimiter is not exactly one word), the heredoc (without content)
/// otherwise. Errors: a delimiter with an unterminated quote (`<<'EOF`).
Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word);

/// The heredoc markers of a logical RUN/COPY/ADD line, in order. A line that
/// cannot be split into shell words (an unbalanced quote) has none.
Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line);

/// Removes the leading tabs of every line (what `<<-` asks a consumer to do).
std::string chomp_heredoc(std::string_view content);

}  // namespace kiln::parser
