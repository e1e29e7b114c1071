#include "parser/parser.h"

#include "parser/directives.h"
#include "parser/heredoc.h"
#include "parser/line_parsers.h"
#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {

constexpr size_t k_max_line = 65535;  // bufio.Scanner's 64 KiB buffer, minus the LF

Error parse_error(std::string message, int begin, int end = 0, int column = 0) {
  SourceRange range;
  range.line_begin = begin;
  range.line_end = end == 0 ? begin : end;
  range.column = column;
  return Error(ErrorCode::parse, std::move(message)).with_source(std::move(range));
}

// Physical lines, each with its LF (if any).
class Lines {
 public:
  explicit Lines(std::string_view text) : m_text(text) {}

  // Next line into *line; false at the end or on an overlong line (then
  // too_long() is set and number() is that line's number).
  bool next(std::string_view* line) {
    if (m_pos >= m_text.size()) {
      return false;
    }
    size_t nl = m_text.find('\n', m_pos);
    size_t end = nl == std::string_view::npos ? m_text.size() : nl + 1;
    size_t content = (nl == std::string_view::npos ? m_text.size() : nl) - m_pos;
    ++m_number;
    if (content > k_max_line) {
      m_too_long = true;
      return false;
    }
    *line = m_text.substr(m_pos, end - m_pos);
    if (m_number == 1 && line->substr(0, 3) == "\xEF\xBB\xBF") {
      line->remove_prefix(3);
    }
    m_pos = end;
    return true;
  }
  int number() const { return m_number; }
  bool too_long() const { return m_too_long; }

 private:
  std::string_view m_text;
  size_t m_pos = 0;
  int m_number = 0;
  bool m_too_long = false;
};

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_comment(std::string_view newline_trimmed) {
  std::string_view t = unicode::trim_left(newline_trimmed);
  return !t.empty() && t[0] == '#';
}

// The continuation test of README 1.4: E + spaces/tabs at the end, the E not
// preceded by another E. Removes them and returns true when it continues.
bool trim_continuation(std::string_view& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) {
    --end;
  }
  if (end == 0 || line[end - 1] != escape) {
    return false;
  }
  size_t e = end - 1;
  if (e > 0 && line[e - 1] == escape) {
    return false;
  }
  line = line.substr(0, e);
  return true;
}

bool can_contain_heredoc(const Node& node) {
  const Node* n = &node;
  if (node.kind == Keyword::onbuild && node.trigger) {
    n = node.trigger.get();
  }
  return (n->kind == Keyword::run || n->kind == Keyword::copy || n->kind == Keyword::add) && !n->json_form;
}

Result<void> read_heredoc_bodies(Lines& lines, Node& node, const std::string& logical, int start) {
  Result<std::vector<Heredoc>> docs = heredocs_from_line(logical);
  if (!docs) {
    return parse_error(docs.error().message(), start, lines.number());
  }
  for (Heredoc& h : *docs) {
    bool terminated = false;
    std::string_view raw;
    while (lines.next(&raw)) {
      std::string_view candidate = trim_newline(raw);
      if (h.chomp) {
        while (!candidate.empty() && candidate[0] == '\t') {
          candidate.remove_prefix(1);
        }
      }
      if (candidate == h.name) {
        terminated = true;
        break;
      }
      h.content.append(raw);
    }
    if (lines.too_long()) {
      return parse_error("dockerfile line greater than max allowed size of 65535", lines.number());
    }
    if (!terminated) {
      return parse_error("unterminated heredoc", start, lines.number());
    }
    node.heredocs.push_back(std::move(h));
  }
  return {};
}

}  // namespace

Result<Ast> parse(std::string_view text) {
  Ast ast;
  DirectiveReader directives(ast.directives);
  Lines lines(text);
  std::string logical;
  std::string_view raw;
  while (lines.next(&raw)) {
    std::string_view first = unicode::trim_left(trim_newline(raw));
    if (Result<void> d = directives.feed(first, lines.number()); !d) {
      return parse_error(d.error().message(), lines.number());
    }
    if (!first.empty() && first[0] == '#') {
      first = {};
    }
    const int start = lines.number();
    const char escape = ast.directives.escape;
    bool continues = trim_continuation(first, escape);
    if (!continues && first.empty()) {
      continue;
    }
    logical.assign(first);
    const size_t first_piece = first.size();
    const int column = static_cast<int>(trim_newline(raw).size() - unicode::trim_left(trim_newline(raw)).size()) + 1;
    bool empty_continuation = false;
    while (continues && lines.next(&raw)) {
      std::string_view piece = trim_newline(raw);
      if (Result<void> d = directives.feed(piece, lines.number()); !d) {
        return parse_error(d.error().message(), lines.number());
      }
      if (is_comment(piece)) {
        continue;
      }
      if (unicode::trim_left(piece).empty()) {
        empty_continuation = true;
        continue;
      }
      continues = trim_continuation(piece, escape);
      logical.append(piece);
    }
    if (lines.too_long()) {
      break;
    }
    if (empty_continuation) {
      ast.warnings.push_back({start, cat("Empty continuation line found in: ", logical,
                                         " (empty continuation lines will become errors in a future release)")});
    }
    Node node;
    Result<void> parsed = parse_line(logical, escape, node);
    if (!parsed) {
      return parse_error(parsed.error().message(), start, lines.number());
    }
    if (can_contain_heredoc(node)) {
      KILN_TRY(read_heredoc_bodies(lines, node, logical, start));
    }
    node.start_line = start;
    node.end_line = lines.number();
    node.column = column;
    node.first_piece = first_piece;
    if (node.trigger) {
      node.trigger->start_line = start;
      node.trigger->end_line = node.end_line;
    }
    ast.instructions.push_back(std::move(node));
  }
  if (lines.too_long()) {
    return parse_error("dockerfile line greater than max allowed size of 65535", lines.number());
  }
  if (ast.instructions.empty()) {
    return parse_error("file with no instructions", 0);
  }
  if (ast.directives.syntax && !is_builtin_syntax(*ast.directives.syntax)) {
    ast.warnings.push_back({ast.directives.syntax_line,
                            cat("ignoring `# syntax=", *ast.directives.syntax,
                                "`: kiln runs no frontend images and uses its built-in Dockerfile frontend")});
  }
  return ast;
}

}  // namespace kiln::parser
