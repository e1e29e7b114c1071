#include "parser/line_parsers.h"

#include <memory>

#include "parser/json_array.h"
#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {

constexpr int k_max_onbuild_depth = 64;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

// Splits at runs of blanks (Go: `[\t\v\f\r ]+`); s has no blanks at its ends.
void split_blanks(std::string_view s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && !is_blank(s[j])) {
      ++j;
    }
    out.emplace_back(s.substr(i, j - i));
    while (j < s.size() && is_blank(s[j])) {
      ++j;
    }
    i = j;
  }
}

// Byte length of the rune at s[pos].
size_t width_at(std::string_view s, size_t pos) { return static_cast<size_t>(unicode::decode(s, pos).width); }

Result<void> parse_json_or(std::string_view rest, Node& node, bool split_plain) {
  if (!rest.empty()) {
    std::vector<std::string> elements;
    JsonArrayStatus st = parse_json_string_array(rest, elements);
    if (st == JsonArrayStatus::ok) {
      node.json_form = true;
      for (std::string& e : elements) {
        node.args.push_back(std::move(e));
      }
      return {};
    }
    if (st == JsonArrayStatus::not_strings) {
      return Error(ErrorCode::parse, "when using JSON array syntax, arrays must be comprised of strings only");
    }
  }
  if (split_plain) {
    split_blanks(rest, node.args);
  } else if (!rest.empty()) {
    node.args.emplace_back(rest);
  }
  return {};
}

Result<void> parse_name_val(std::string_view rest, char escape, Node& node) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) {
    return {};
  }
  std::string upper(keyword_name(node.kind));
  if (words[0].find('=') == std::string::npos) {
    size_t i = 0;
    while (i < rest.size() && !is_blank(rest[i])) {
      ++i;
    }
    size_t j = i;
    while (j < rest.size() && is_blank(rest[j])) {
      ++j;
    }
    if (i == rest.size()) {
      return Error(ErrorCode::parse, upper + " must have two arguments");
    }
    node.args.emplace_back(rest.substr(0, i));
    node.args.emplace_back(rest.substr(j));
    node.args.emplace_back();
    return {};
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos) {
      return Error(ErrorCode::parse, cat("Syntax error - can't find = in ", unicode::quote(w),
                                         ". Must be of the form: name=value"));
    }
    node.args.push_back(w.substr(0, eq));
    node.args.push_back(w.substr(eq + 1));
    node.args.emplace_back("=");
  }
  return {};
}

Result<void> parse_healthcheck(std::string_view rest, Node& node) {
  size_t sep = 0;
  while (sep < rest.size() && unicode::space_at(rest, sep) == 0) {
    sep += width_at(rest, sep);
  }
  if (sep == 0) {
    return {};
  }
  size_t next = sep;
  while (next < rest.size()) {
    size_t w = unicode::space_at(rest, next);
    if (w == 0) {
      break;
    }
    next += w;
  }
  node.args.emplace_back(rest.substr(0, sep));
  return parse_json_or(rest.substr(next), node, false);
}

}  // namespace

SplitLine split_keyword(std::string_view line) {
  std::string_view t = unicode::trim(line);
  size_t i = 0;
  while (i < t.size() && !is_blank(t[i])) {
    ++i;
  }
  SplitLine out{t.substr(0, i), {}};
  while (i < t.size() && is_blank(t[i])) {
    ++i;
  }
  out.rest = t.substr(i);
  return out;
}

std::string_view extract_flags(std::string_view line, char escape, std::vector<std::string>& flags) {
  size_t pos = 0;
  while (true) {
    while (pos < line.size()) {
      size_t w = unicode::space_at(line, pos);
      if (w == 0) {
        break;
      }
      pos += w;
    }
    if (pos >= line.size()) {
      return {};
    }
    if (line.substr(pos, 2) != "--") {
      return unicode::trim(line.substr(pos));
    }
    std::string word;
    bool blank_ok = false;
    char quote = 0;
    while (pos < line.size()) {
      char c = line[pos];
      if (quote == 0 && unicode::space_at(line, pos) != 0) {
        break;
      }
      if (quote != 0 && c == quote) {
        quote = 0;
        ++pos;
        continue;
      }
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        blank_ok = true;
        ++pos;
        continue;
      }
      if (c == escape) {
        if (pos + 1 == line.size()) {
          ++pos;  // an escape at the very end is dropped
          continue;
        }
        ++pos;
      }
      size_t w = width_at(line, pos);
      word.append(line.substr(pos, w));
      pos += w;
    }
    if (word == "--") {
      return unicode::trim(line.substr(pos));
    }
    if (blank_ok || !word.empty()) {
      flags.push_back(std::move(word));
    }
  }
}

std::vector<std::string> parse_words(std::string_view rest, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  // Appends the rune at pos (U+FFFD for invalid UTF-8, like Go's
  // string(rune)) and returns its width.
  auto append_rune = [&](size_t pos) {
    unicode::Rune r = unicode::decode(rest, pos);
    if (r.valid) {
      word.append(rest.substr(pos, static_cast<size_t>(r.width)));
    } else {
      unicode::append_utf8(word, unicode::k_replacement);
    }
    return static_cast<size_t>(r.width);
  };
  size_t pos = 0;
  while (pos < rest.size()) {
    char c = rest[pos];
    size_t space = quote == 0 ? unicode::space_at(rest, pos) : 0;
    if (!in_word) {
      if (space != 0) {
        pos += space;
        continue;
      }
      in_word = true;
    }
    if (quote == 0) {
      if (space != 0) {
        if (blank_ok || !word.empty()) {
          words.push_back(std::move(word));
        }
        word.clear();
        in_word = false;
        blank_ok = false;
        pos += space;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        blank_ok = true;
      }
    } else if (c == quote) {
      quote = 0;
      pos += append_rune(pos);
      continue;
    }
    if (c == escape && quote != '\'') {
      if (pos + 1 == rest.size()) {
        quote = 0;  // an escape at the very end is dropped
        ++pos;
        continue;
      }
      word.push_back(c);
      ++pos;
    }
    pos += append_rune(pos);
  }
  if (in_word && (blank_ok || !word.empty())) {
    words.push_back(std::move(word));
  }
  return words;
}

Result<void> parse_line(std::string_view line, char escape, Node& node, int depth) {
  if (depth > k_max_onbuild_depth) {
    return Error(ErrorCode::parse, "ONBUILD instructions nested too deeply");
  }
  SplitLine split = split_keyword(line);
  node.keyword = std::string(split.keyword);
  node.original = std::string(line);
  std::string lower = unicode::to_lower(split.keyword);
  node.kind = keyword_from_lower(lower);
  std::string_view rest = extract_flags(split.rest, escape, node.flags);
  switch (node.kind) {
    case Keyword::from:
    case Keyword::expose:
      split_blanks(rest, node.args);
      return {};
    case Keyword::add:
    case Keyword::copy:
    case Keyword::volume:
      return parse_json_or(rest, node, true);
    case Keyword::run:
    case Keyword::cmd:
    case Keyword::entrypoint:
    case Keyword::shell:
      return parse_json_or(rest, node, false);
    case Keyword::maintainer:
    case Keyword::user:
    case Keyword::workdir:
    case Keyword::stopsignal:
      if (!rest.empty()) {
        node.args.emplace_back(rest);
      }
      return {};
    case Keyword::healthcheck:
      return parse_healthcheck(rest, node);
    case Keyword::arg:
      node.args = parse_words(rest, escape);
      return {};
    case Keyword::env:
    case Keyword::label:
      return parse_name_val(rest, escape, node);
    case Keyword::onbuild:
      if (rest.empty()) {
        return {};
      }
      node.trigger = std::make_unique<Node>();
      return parse_line(rest, escape, *node.trigger, depth + 1);
    case Keyword::unknown:
      node.args.emplace_back();
      return {};
  }
  return {};
}

}  // namespace kiln::parser
