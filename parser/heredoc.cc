#include "parser/heredoc.h"

#include <algorithm>

#include "parser/shell_lex.h"

namespace kiln::parser {

namespace {
const MapEnv& empty_env() {
  static const MapEnv env;
  return env;
}
size_t count_quotes(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return c == '\'' || c == '"'; }));
}
}  // namespace

Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word) {
  size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9') {
    ++i;
  }
  if (word.substr(i, 2) != "<<") {
    return std::optional<Heredoc>();
  }
  std::string_view digits = word.substr(0, i);
  i += 2;
  bool chomp = i < word.size() && word[i] == '-';
  if (chomp) {
    ++i;
  }
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) {
    return std::optional<Heredoc>();
  }
  ShellOptions opts;
  opts.skip_unset_env = true;
  KILN_TRY_ASSIGN(std::vector<std::string> words, ShellLex(opts).process_words(rest, empty_env()));
  if (words.size() != 1) {
    return std::optional<Heredoc>();
  }
  opts.raw_quotes = true;
  KILN_TRY_ASSIGN(std::vector<std::string> raw, ShellLex(opts).process_words(rest, empty_env()));
  if (raw.size() != 1) {
    return Error(ErrorCode::parse, "internal lexing of heredoc produced inconsistent results: " + std::string(rest));
  }
  Heredoc h;
  h.name = std::move(words[0]);
  h.expand = count_quotes(h.name) == count_quotes(raw[0]);
  h.chomp = chomp;
  unsigned long fd = 0;
  for (char c : digits) {
    fd = fd * 10 + static_cast<unsigned long>(c - '0');
    if (fd > 0xFFFFFFFFUL) {  // Go's ParseUint fails: the fd is then 0
      fd = 0;
      break;
    }
  }
  h.fd = static_cast<unsigned>(fd);
  return std::optional<Heredoc>(std::move(h));
}

Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line) {
  std::vector<Heredoc> docs;
  if (line.find("<<") == std::string_view::npos) {
    return docs;
  }
  ShellOptions opts;
  opts.raw_quotes = true;
  opts.raw_escapes = true;
  opts.skip_unset_env = true;
  Result<std::vector<std::string>> words = ShellLex(opts).process_words(line, empty_env());
  if (!words) {
    return docs;  // BuildKit ignores the lexing error: no heredocs
  }
  for (const std::string& w : *words) {
    KILN_TRY_ASSIGN(std::optional<Heredoc> h, parse_heredoc_word(w));
    if (h) {
      docs.push_back(std::move(*h));
    }
  }
  return docs;
}

std::string chomp_heredoc(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') {
      continue;
    }
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

}  // namespace kiln::parser
