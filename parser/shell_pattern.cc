// Patterns of `${v#pat}`, `${v%pat}` and `${v/pat/repl}`: converted to a
// regular expression exactly as BuildKit does (Go's regexp and RE2 share the
// syntax and the leftmost-first semantics), then matched with RE2.
#include <algorithm>
#include <memory>

#include <re2/re2.h>

#include "parser/shell_lex.h"
#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser::detail {

namespace {

std::vector<char32_t> to_runes(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unicode::Rune r = unicode::decode(s, i);
    out.push_back(r.cp);
    i += static_cast<size_t>(r.width);
  }
  return out;
}

std::string from_runes(const std::vector<char32_t>& runes) {
  std::string out;
  out.reserve(runes.size());
  for (char32_t c : runes) {
    unicode::append_utf8(out, c);
  }
  return out;
}

// Reverses a pattern but keeps escape pairs in order: a\*c -> c\*a.
std::string reverse_pattern(std::string_view pattern) {
  std::vector<char32_t> in = to_runes(pattern);
  std::vector<char32_t> out(in.size());
  if (in.empty()) {
    return {};
  }
  size_t last = in.size() - 1;
  for (size_t i = 0; i <= last;) {
    size_t o = last - i;
    if (in[i] == '\\' && i != last) {
      out[o - 1] = in[i];
      out[o] = in[i + 1];
      i += 2;
    } else {
      out[o] = in[i];
      ++i;
    }
  }
  return from_runes(out);
}

std::string reverse_string(std::string_view s) {
  std::vector<char32_t> runes = to_runes(s);
  std::reverse(runes.begin(), runes.end());
  return from_runes(runes);
}

Result<std::unique_ptr<RE2>> compile(std::string_view pattern, bool greedy, bool anchored) {
  std::string error;
  std::optional<std::string> re = shell_pattern_to_regex(pattern, greedy, anchored, &error);
  if (!re) {
    return Error(ErrorCode::invalid_input, cat("invalid pattern (", pattern, ") in substitution: ", error));
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  auto compiled = std::make_unique<RE2>(*re, opts);
  if (!compiled->ok()) {
    return Error(ErrorCode::invalid_input,
                 cat("invalid pattern (", pattern, ") in substitution: ", compiled->error()));
  }
  return compiled;
}

// Go's Regexp.Expand for a regexp without groups: `$$` is `$`, `$0` /
// `${0}` the match, any other `$name` nothing, a malformed `$` itself.
void expand_template(std::string& out, std::string_view tmpl, std::string_view match) {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) {
      break;
    }
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    bool brace = !tmpl.empty() && tmpl[0] == '{';
    std::string_view rest = brace ? tmpl.substr(1) : tmpl;
    size_t i = 0;
    while (i < rest.size()) {
      unicode::Rune r = unicode::decode(rest, i);
      if (!unicode::is_letter(r.cp) && !unicode::is_digit(r.cp) && r.cp != '_') {
        break;
      }
      i += static_cast<size_t>(r.width);
    }
    if (i == 0 || (brace && (i >= rest.size() || rest[i] != '}'))) {
      out.push_back('$');
      continue;
    }
    std::string_view name = rest.substr(0, i);
    tmpl = rest.substr(brace ? i + 1 : i);
    if (name == "0") {
      out.append(match);
    }
  }
  out.append(tmpl);
}

}  // namespace

std::optional<std::string> shell_pattern_to_regex(std::string_view pattern, bool greedy, bool anchored,
                                                  std::string* error) {
  if (pattern.substr(0, 3) == "\xEF\xBB\xBF") {
    pattern.remove_prefix(3);  // text/scanner skips a leading BOM
  }
  std::vector<char32_t> runes = to_runes(pattern);
  std::string out;
  out.reserve(pattern.size() + 4);
  if (anchored) {
    out.push_back('^');
  }
  for (size_t i = 0; i < runes.size(); ++i) {
    char32_t tok = runes[i];
    switch (tok) {
      case '*':
        out += greedy ? ".*" : ".*?";
        continue;
      case '?':
        out.push_back('.');
        continue;
      case '\\': {
        char32_t next = i + 1 < runes.size() ? runes[i + 1] : 0;
        if (i + 1 < runes.size() && (next == '}' || next == '/')) {
          continue;  // `\}` and `\/` are escapes of ${}, not of the pattern
        }
        if (i + 1 >= runes.size() || (next != '*' && next != '?' && next != '\\')) {
          if (error != nullptr) {
            std::string shown;
            if (i + 1 < runes.size()) {
              unicode::append_utf8(shown, next);
            }
            *error = cat("invalid escape '\\", shown, "'");
          }
          return std::nullopt;
        }
        out.push_back('\\');
        tok = next;
        ++i;
        break;
      }
      case '[': case ']': case '{': case '}': case '.': case '+': case '(': case ')': case '|': case '^': case '$':
        out.push_back('\\');
        break;
      default:
        break;
    }
    unicode::append_utf8(out, tok);
  }
  return out;
}

Result<std::string> trim_pattern(std::string_view pattern, std::string_view value, bool greedy, bool suffix) {
  std::string pat, val;
  if (suffix) {
    // RE2 cannot search for the shortest rightmost match; reverse both.
    pat = reverse_pattern(pattern);
    val = reverse_string(value);
  } else {
    pat = std::string(pattern);
    val = std::string(value);
  }
  KILN_TRY_ASSIGN(std::unique_ptr<RE2> re, compile(pat, greedy, true));
  re2::StringPiece m;
  std::string result = val;
  if (re->Match(val, 0, val.size(), RE2::UNANCHORED, &m, 1)) {
    result = val.substr(static_cast<size_t>(m.data() - val.data()) + m.size());
  }
  return suffix ? reverse_string(result) : result;
}

Result<std::string> replace_pattern(std::string_view pattern, std::string_view value, std::string_view repl,
                                    bool all) {
  KILN_TRY_ASSIGN(std::unique_ptr<RE2> re, compile(pattern, true, false));
  re2::StringPiece text(value.data(), value.size());
  re2::StringPiece m;
  if (!all) {
    if (!re->Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1)) {
      return std::string(value);
    }
    size_t begin = static_cast<size_t>(m.data() - text.data());
    return cat(value.substr(0, begin), repl, value.substr(begin + m.size()));
  }
  // Go's Regexp.ReplaceAllString loop, including its handling of empty matches.
  std::string out;
  size_t last_end = 0, search = 0;
  while (search <= value.size()) {
    if (!re->Match(text, search, text.size(), RE2::UNANCHORED, &m, 1)) {
      break;
    }
    size_t a0 = static_cast<size_t>(m.data() - text.data());
    size_t a1 = a0 + m.size();
    out.append(value.substr(last_end, a0 - last_end));
    if (a1 > last_end || a0 == 0) {
      expand_template(out, repl, value.substr(a0, a1 - a0));
    }
    last_end = a1;
    size_t width = search < value.size() ? static_cast<size_t>(unicode::decode(value, search).width) : 0;
    if (search + width > a1) {
      search += width;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  out.append(value.substr(last_end));
  return out;
}

}  // namespace kiln::parser::detail
