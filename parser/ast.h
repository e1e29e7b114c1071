// The raw Dockerfile parse: one Node per instruction with its keyword as
// written, flag words, raw arguments, heredocs and line range. Nothing is
// validated or expanded here (that is instructions.h and shell_lex.h); the
// rules are BuildKit's, written down in ../shared/conformance/README.md
// section 1, which this parse and its dump follow byte for byte.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::parser {

/// The instructions of the Dockerfile reference. `unknown` is any other word:
/// the raw parse keeps it (with one empty argument); typing rejects it.
enum class Keyword {
  add, arg, cmd, copy, entrypoint, env, expose, from, healthcheck, label,
  maintainer, onbuild, run, shell, stopsignal, user, volume, workdir, unknown,
};

/// Keyword for a lower-cased instruction word ("copy" -> Keyword::copy).
Keyword keyword_from_lower(std::string_view lower);
/// Upper-case name ("COPY"); "" for unknown.
std::string_view keyword_name(Keyword k);

/// A heredoc attached to RUN/COPY/ADD (or ONBUILD of one of those).
struct Heredoc {
  std::string name;     ///< delimiter after shell unquoting ("EOF")
  unsigned fd = 0;      ///< file-descriptor prefix (`3<<EOF`), 0 when absent
  bool expand = true;   ///< false when any part of the delimiter was quoted
  bool chomp = false;   ///< `<<-`: strip leading tabs when the content is used
  std::string content;  ///< body lines exactly as read, newlines included
};

/// One instruction of the raw parse.
struct Node {
  std::string keyword;             ///< as written ("Run")
  Keyword kind = Keyword::unknown; ///< keyword matched case-insensitively
  std::vector<std::string> flags;  ///< flag words after unquoting ("--from=a")
  std::vector<std::string> args;   ///< raw arguments (README 1.6)
  bool json_form = false;          ///< arguments came from a JSON array
  std::unique_ptr<Node> trigger;   ///< ONBUILD's nested instruction, if any
  std::vector<Heredoc> heredocs;   ///< for ONBUILD, those of its trigger
  std::string original;            ///< the logical line as joined
  int start_line = 0;              ///< 1-based physical line of the keyword
  int end_line = 0;                ///< last physical line consumed (heredocs included)
  int column = 1;                  ///< 1-based byte column of the keyword on start_line
  size_t first_piece = 0;          ///< bytes of `original` that come from start_line
};

/// Parser directives found at the top of the file (README 1.3).
struct Directives {
  char escape = '\\';
  std::optional<std::string> syntax;  ///< the whole value of `# syntax=`
  std::optional<std::string> check;   ///< the whole value of `# check=`
  int escape_line = 0, syntax_line = 0, check_line = 0;  ///< 0 when absent
};

/// A non-fatal finding of the parse (empty continuation lines, an ignored
/// `# syntax=` frontend).
struct Warning {
  int line = 0;
  std::string message;
};

/// The parse of a whole Dockerfile.
struct Ast {
  Directives directives;
  std::vector<Node> instructions;  ///< never empty for a successful parse
  std::vector<Warning> warnings;
};

/// The conformance dump of one instruction, without the surrounding
/// parentheses: `copy ["--from=a"] "x" "/y"` (README 1.7).
std::string dump_node(const Node& node);
/// The whole dump: one `(...)` line per instruction, joined with "\n", no
/// final newline (the conformance `result` files add one).
std::string dump(const Ast& ast);

/// As dump(), plus one indented line per heredoc after its instruction:
/// `  (heredoc "EOF" fd=0 expand=true chomp=false "body\n")`. Used by the
/// golden tests, where bodies matter.
std::string dump_with_heredocs(const Ast& ast);

}  // namespace kiln::parser
