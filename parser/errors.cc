#include "parser/errors.h"

#include "util/strings.h"

namespace kiln::parser {

Error located_error(ErrorCode code, std::string message, int line_begin, int line_end, int column) {
  SourceRange range;
  range.line_begin = line_begin;
  range.line_end = line_end == 0 ? line_begin : line_end;
  range.column = column;
  return Error(code, std::move(message)).with_source(std::move(range));
}

std::string_view source_line(std::string_view text, int line) {
  if (line <= 0) {
    return {};
  }
  size_t pos = 0;
  for (int i = 1; i < line; ++i) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return {};
    }
    pos = nl + 1;
  }
  size_t end = text.find('\n', pos);
  std::string_view l = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
  if (line == 1 && l.substr(0, 3) == "\xEF\xBB\xBF") {
    l.remove_prefix(3);
  }
  while (!l.empty() && l.back() == '\r') {
    l.remove_suffix(1);
  }
  return l;
}

std::string render_error(const Error& error, std::string_view text, std::string_view display_name) {
  const std::optional<SourceRange>& src = error.source();
  std::string name = src && !src->file.empty() ? src->file : std::string(display_name);
  int line = src ? src->line_begin : 0;
  if (line <= 0) {
    return cat(name, ": ", error.render());
  }
  std::string out = cat(name, ":", line, ": ", error.render());
  std::string_view l = source_line(text, line);
  out += "\n";
  out += l;
  size_t column = src->column > 0 ? static_cast<size_t>(src->column - 1) : l.find_first_not_of(" \t");
  if (column == std::string_view::npos || column > l.size()) {
    column = 0;
  }
  out += "\n";
  for (size_t i = 0; i < column; ++i) {
    char c = l[i];
    if (c == '\t') {
      out.push_back('\t');
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      out.push_back(' ');  // one column per character, not per UTF-8 byte
    }
  }
  out += "^";
  return out;
}

}  // namespace kiln::parser
