#include "parser/directives.h"

#include "parser/json_array.h"
#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {
bool go_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::optional<DirectiveMatch> match_directive(std::string_view line, std::string_view prefix) {
  if (line.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  size_t i = prefix.size();
  while (i < line.size() && go_space(line[i])) {
    ++i;
  }
  size_t name_start = i;
  if (i >= line.size() || !alpha(line[i])) {
    return std::nullopt;
  }
  while (i < line.size() && (alpha(line[i]) || digit(line[i]))) {
    ++i;
  }
  std::string_view name = line.substr(name_start, i - name_start);
  while (i < line.size() && go_space(line[i])) {
    ++i;
  }
  if (i >= line.size() || line[i] != '=') {
    return std::nullopt;
  }
  std::string_view after = line.substr(i + 1);
  if (after.empty()) {
    return std::nullopt;
  }
  // `\s*(.+?)\s*$`: the value is the text trimmed of \s; when that leaves
  // nothing, the regexp's backtracking gives the last character.
  size_t b = 0, e = after.size();
  while (b < e && go_space(after[b])) {
    ++b;
  }
  while (e > b && go_space(after[e - 1])) {
    --e;
  }
  std::string_view value = b < e ? after.substr(b, e - b) : after.substr(after.size() - 1);
  return DirectiveMatch{to_lower(name), std::string(value)};
}

Result<void> DirectiveReader::feed(std::string_view line, int line_number) {
  if (m_done) {
    return {};
  }
  std::optional<DirectiveMatch> m = match_directive(line);
  if (!m || (m->name != "escape" && m->name != "syntax" && m->name != "check")) {
    m_done = true;
    return {};
  }
  int* seen = m->name == "escape" ? &m_out.escape_line : m->name == "syntax" ? &m_out.syntax_line : &m_out.check_line;
  if (*seen != 0) {
    return Error(ErrorCode::parse, cat("only one ", m->name, " parser directive can be used"));
  }
  *seen = line_number;
  if (m->name == "escape") {
    if (m->value != "`" && m->value != "\\") {
      return Error(ErrorCode::parse, cat("invalid escape token '", m->value, "' does not match ` or \\"));
    }
    m_out.escape = m->value[0];
  } else if (m->name == "syntax") {
    m_out.syntax = m->value;
  } else {
    m_out.check = m->value;
  }
  return {};
}

namespace {

// Splits at LF, dropping one trailing CR per line (bufio.ScanLines).
std::vector<std::string_view> scan_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') {
      l.remove_suffix(1);
    }
    lines.push_back(l);
    pos = end + 1;
  }
  return lines;
}

Result<std::vector<std::pair<DirectiveMatch, int>>> parse_all(const std::vector<std::string_view>& lines,
                                                              size_t first, std::string_view prefix) {
  std::vector<std::pair<DirectiveMatch, int>> out;
  for (size_t i = first; i < lines.size(); ++i) {
    std::optional<DirectiveMatch> m = match_directive(lines[i], prefix);
    if (!m || (m->name != "escape" && m->name != "syntax" && m->name != "check")) {
      break;
    }
    for (const auto& [seen, line] : out) {
      if (seen.name == m->name) {
        return Error(ErrorCode::parse, cat("only one ", m->name, " parser directive can be used"));
      }
    }
    out.emplace_back(std::move(*m), static_cast<int>(i + 1));
  }
  return out;
}

DetectedDirective make_detected(std::string value, int line) {
  DetectedDirective d;
  d.ref = value.substr(0, value.find(' '));
  d.value = std::move(value);
  d.line = line;
  return d;
}

}  // namespace

Result<std::vector<DirectiveMatch>> all_directives(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  KILN_TRY_ASSIGN(auto found, parse_all(scan_lines(text), 0, "#"));
  std::vector<DirectiveMatch> out;
  for (auto& [m, line] : found) {
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<DetectedDirective> detect_directive(std::string_view text, std::string_view name) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  std::vector<std::string_view> lines = scan_lines(text);
  size_t first = 0;
  if (!lines.empty() && lines[0].substr(0, 2) == "#!") {
    first = 1;
  }
  if (name == "syntax") {
    size_t body = first == 0 ? 0 : text.find('\n') + 1;
    if (std::optional<std::string> v = json_object_string_member(text.substr(body), name)) {
      return make_detected(*v, static_cast<int>(first) + 1);
    }
    Result<std::vector<std::pair<DirectiveMatch, int>>> slashes = parse_all(lines, first, "//");
    if (slashes) {
      for (auto& [m, line] : *slashes) {
        if (m.name == name) {
          return make_detected(m.value, line);
        }
      }
    }
  }
  Result<std::vector<std::pair<DirectiveMatch, int>>> hashes = parse_all(lines, first, "#");
  if (hashes) {
    for (auto& [m, line] : *hashes) {
      if (m.name == name) {
        return make_detected(m.value, line);
      }
    }
  }
  return std::nullopt;
}

bool is_builtin_syntax(std::string_view value) {
  std::string_view ref = value.substr(0, value.find(' '));
  ref = ref.substr(0, ref.find('@'));
  for (std::string_view host : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"}) {
    if (ref.substr(0, host.size()) == host) {
      ref.remove_prefix(host.size());
      break;
    }
  }
  std::string_view tag;
  if (size_t colon = ref.find(':'); colon != std::string_view::npos) {
    tag = ref.substr(colon + 1);
    ref = ref.substr(0, colon);
  }
  if (ref != "docker/dockerfile" && ref != "docker/dockerfile-upstream") {
    return false;
  }
  if (tag.empty() || tag == "latest" || tag == "labs" || tag == "master" || tag == "master-labs") {
    return true;
  }
  return tag[0] == '1' && (tag.size() == 1 || tag[1] == '.' || tag[1] == '-');
}

}  // namespace kiln::parser
