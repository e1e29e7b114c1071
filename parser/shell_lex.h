// Shell-style word expansion, identical to BuildKit's shell lexer
// (frontend/dockerfile/shell/lex.go): `$v`, `${v}` and the modifiers
// `:- - :+ + :? ? # ## % %% / //`, single and double quotes, the escape
// character, and word splitting. Rules: ../shared/conformance/README.md
// section 2.3 and buildkit-inline-cases.md section 7.
//
// Usage (the lowering expands an instruction's arguments with its stage's
// ARG/ENV scope; see expansion.h for which arguments):
//   MapEnv env({{"VERSION", "1.2"}});
//   ShellLex lex(ShellOptions{.escape = ast.directives.escape});
//   KILN_TRY_ASSIGN(std::string v, lex.process_word("app-${VERSION}", env));
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::parser {

/// Where the expander looks variables up. The build implements it over a
/// stage's scope (ARGs and ENV); tests use MapEnv.
class EnvLookup {
 public:
  virtual ~EnvLookup() = default;
  /// The value of name, or nullopt when it is not set (set-but-empty is "").
  /// Names are case-sensitive (kiln builds Linux images only).
  virtual std::optional<std::string_view> lookup(std::string_view name) const = 0;
};

/// An EnvLookup over a map.
class MapEnv : public EnvLookup {
 public:
  MapEnv() = default;
  explicit MapEnv(std::map<std::string, std::string, std::less<>> vars) : m_vars(std::move(vars)) {}
  /// From `NAME=VALUE` strings; an entry without `=` sets NAME to ""; a later
  /// entry for the same name wins (BuildKit's BuildEnvs).
  static MapEnv from_list(const std::vector<std::string>& entries);

  void set(std::string name, std::string value) { m_vars[std::move(name)] = std::move(value); }
  void unset(std::string_view name);
  std::optional<std::string_view> lookup(std::string_view name) const override;
  const std::map<std::string, std::string, std::less<>>& vars() const { return m_vars; }

 private:
  std::map<std::string, std::string, std::less<>> m_vars;
};

/// Lexer switches, named after BuildKit's Lex fields.
struct ShellOptions {
  char escape = '\\';             ///< the Dockerfile's escape character
  bool raw_quotes = false;        ///< keep quote characters in the output
  bool raw_escapes = false;       ///< keep escape characters in the output
  bool skip_process_quotes = false;  ///< quotes are ordinary characters (heredoc bodies)
  bool skip_unset_env = false;    ///< leave `$UNSET` / `${UNSET...}` as written
};

/// Everything one expansion produces.
struct ExpandResult {
  std::string word;                ///< single-word result (ProcessWord)
  std::vector<std::string> words;  ///< after word splitting (ProcessWords)
  std::set<std::string> matched;   ///< names looked up and found
  std::set<std::string> unmatched; ///< names looked up and not set
};

/// The expander. Cheap to construct; const and thread-safe to use.
class ShellLex {
 public:
  explicit ShellLex(ShellOptions options = {}) : m_options(options) {}
  const ShellOptions& options() const { return m_options; }

  /// Expands word into one string: variables substituted, quotes and escapes
  /// removed, inner spaces kept. Errors (ErrorCode::invalid_input): an
  /// unterminated quote or `${`, a bad or unsupported substitution, `${v?msg}`
  /// on an unset variable; the message reads `failed to process "WORD": ...`.
  Result<std::string> process_word(std::string_view word, const EnvLookup& env) const;
  /// Expands and splits into words at unquoted whitespace; text from quotes
  /// or escapes never splits, text from unquoted `$` expansions does.
  Result<std::vector<std::string>> process_words(std::string_view word, const EnvLookup& env) const;
  /// Both forms plus the names looked up (for unused/undefined-ARG warnings).
  Result<ExpandResult> process(std::string_view word, const EnvLookup& env) const;

 private:
  ShellOptions m_options;
};

namespace detail {
/// Converts a `${v#pat}` / `${v/pat/r}` pattern to an RE2 pattern (`*`, `?`,
/// `\*`, `\?`, `\\`; `\}` and `\/` drop the backslash). nullopt + message in
/// *error for an invalid escape. Exposed for tests.
std::optional<std::string> shell_pattern_to_regex(std::string_view pattern, bool greedy, bool anchored,
                                                  std::string* error);
/// `${v#pat}` (suffix=false) and `${v%pat}` (suffix=true).
Result<std::string> trim_pattern(std::string_view pattern, std::string_view value, bool greedy, bool suffix);
/// `${v/pat/repl}` and `${v//pat/repl}`.
Result<std::string> replace_pattern(std::string_view pattern, std::string_view value, std::string_view repl,
                                    bool all);
}  // namespace detail

}  // namespace kiln::parser
