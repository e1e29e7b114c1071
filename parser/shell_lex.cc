#include "parser/shell_lex.h"

#include "parser/unicode.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {

constexpr int k_eof = -1;
// ${...} nesting deeper than this is refused: each level is a C++ stack
// frame, and no real Dockerfile comes near it.
constexpr int k_max_depth = 200;

// Accumulates the word-splitting view of the expansion (BuildKit's
// wordsStruct).
class Words {
 public:
  void add_char(char32_t ch, std::string_view bytes) {
    if (unicode::is_space(ch)) {
      if (m_in_word && !m_word.empty()) {
        m_words.push_back(std::move(m_word));
        m_word.clear();
        m_in_word = false;
      }
      return;
    }
    add_raw(bytes);
  }
  void add_raw(std::string_view bytes) {
    m_word.append(bytes);
    m_in_word = true;
  }
  // Text from an unquoted `$` expansion: splits at its whitespace; invalid
  // UTF-8 becomes U+FFFD (Go ranges over runes).
  void add_string(std::string_view s) {
    std::string buf;
    for (size_t i = 0; i < s.size();) {
      unicode::Rune r = unicode::decode(s, i);
      if (r.valid) {
        add_char(r.cp, s.substr(i, static_cast<size_t>(r.width)));
      } else {
        buf.clear();
        unicode::append_utf8(buf, unicode::k_replacement);
        add_raw(buf);
      }
      i += static_cast<size_t>(r.width);
    }
  }
  std::vector<std::string> take() {
    if (!m_word.empty()) {
      m_words.push_back(std::move(m_word));
      m_word.clear();
      m_in_word = false;
    }
    return std::move(m_words);
  }

 private:
  std::string m_word;
  std::vector<std::string> m_words;
  bool m_in_word = false;
};

class Lexer {
 public:
  Lexer(std::string_view input, const EnvLookup& env, const ShellOptions& opt, ExpandResult& out)
      : m_in(input), m_env(env), m_opt(opt), m_out(out), m_raw_escapes(opt.raw_escapes) {}

  Result<void> run() {
    std::string word;
    std::vector<std::string> words;
    KILN_TRY(stop_on(k_eof, m_raw_escapes, word, &words));
    m_out.word = std::move(word);
    m_out.words = std::move(words);
    return {};
  }

 private:
  int peek() const { return m_pos < m_in.size() ? static_cast<unsigned char>(m_in[m_pos]) : k_eof; }
  // The bytes of the rune at the cursor (input is valid UTF-8 by now).
  std::string_view rune_bytes() const {
    return m_in.substr(m_pos, static_cast<size_t>(unicode::decode(m_in, m_pos).width));
  }

  Result<void> stop_on(int stop, bool raw_escapes, std::string& result, std::vector<std::string>* words_out) {
    bool saved = m_raw_escapes;
    m_raw_escapes = raw_escapes;
    Result<void> r = stop_on_inner(stop, result, words_out);
    m_raw_escapes = saved;
    return r;
  }

  Result<void> stop_on_inner(int stop, std::string& result, std::vector<std::string>* words_out) {
    Words words;
    const char esc = m_opt.escape;
    while (peek() != k_eof) {
      int ch = peek();
      if (stop != k_eof && ch == stop) {
        ++m_pos;
        if (words_out != nullptr) {
          *words_out = words.take();
        }
        return {};
      }
      if (ch == '$') {
        KILN_TRY_ASSIGN(std::string tmp, dollar());
        result += tmp;
        words.add_string(tmp);
        continue;
      }
      if ((ch == '\'' || ch == '"') && !m_opt.skip_process_quotes) {
        std::string tmp;
        KILN_TRY(ch == '\'' ? single_quote(tmp) : double_quote(tmp));
        result += tmp;
        words.add_raw(tmp);
        continue;
      }
      if (ch == static_cast<unsigned char>(esc)) {
        ++m_pos;
        if (m_raw_escapes) {
          words.add_raw(std::string_view(&esc, 1));
          result.push_back(esc);
        }
        if (peek() == k_eof) {
          break;
        }
        std::string_view bytes = rune_bytes();
        m_pos += bytes.size();
        words.add_raw(bytes);
        result += bytes;
        continue;
      }
      if (ch == '<' && m_pos + 1 < m_in.size() && m_in[m_pos + 1] == '<') {
        // `<<` and the blanks after it stay glued to the next word, so a
        // heredoc marker such as `<<  EOF` is one word.
        size_t end = m_pos + 2;
        while (end < m_in.size() && (m_in[end] == ' ' || m_in[end] == '\t' || m_in[end] == '\r')) {
          ++end;
        }
        std::string_view glued = m_in.substr(m_pos, end - m_pos);
        m_pos = end;
        words.add_raw(glued);
        result += glued;
        continue;
      }
      if (ch < 0x80 && ch != ' ' && (ch < '\t' || ch > '\r')) {
        // Fast path: a run of plain ASCII characters goes in as one piece.
        size_t end = m_pos + 1;
        while (end < m_in.size() && plain_ascii(m_in[end], stop)) {
          ++end;
        }
        std::string_view run = m_in.substr(m_pos, end - m_pos);
        m_pos = end;
        words.add_raw(run);
        result += run;
        continue;
      }
      unicode::Rune r = unicode::decode(m_in, m_pos);
      std::string_view bytes = m_in.substr(m_pos, static_cast<size_t>(r.width));
      m_pos += bytes.size();
      words.add_char(r.cp, bytes);
      result += bytes;
    }
    if (stop != k_eof) {
      return Error(ErrorCode::invalid_input,
                   cat("unexpected end of statement while looking for matching ", static_cast<char>(stop)));
    }
    if (words_out != nullptr) {
      *words_out = words.take();
    }
    return {};
  }

  // A character the main loop has no special rule for (and no space).
  bool plain_ascii(char c, int stop) const {
    auto u = static_cast<unsigned char>(c);
    return u < 0x80 && u > ' ' && c != '$' && c != '\'' && c != '"' && c != '<' && c != m_opt.escape &&
           static_cast<int>(u) != stop && u != 0x7F;
  }

  Result<void> single_quote(std::string& result) {
    ++m_pos;
    if (m_opt.raw_quotes) {
      result.push_back('\'');
    }
    size_t close = m_in.find('\'', m_pos);
    if (close == std::string_view::npos) {
      return Error(ErrorCode::invalid_input, "unexpected end of statement while looking for matching single-quote");
    }
    result.append(m_in.substr(m_pos, close - m_pos));
    m_pos = close + 1;
    if (m_opt.raw_quotes) {
      result.push_back('\'');
    }
    return {};
  }

  Result<void> double_quote(std::string& result) {
    ++m_pos;
    if (m_opt.raw_quotes) {
      result.push_back('"');
    }
    const int esc = static_cast<unsigned char>(m_opt.escape);
    while (true) {
      int ch = peek();
      if (ch == k_eof) {
        return Error(ErrorCode::invalid_input, "unexpected end of statement while looking for matching double-quote");
      }
      if (ch == '"') {
        ++m_pos;
        if (m_opt.raw_quotes) {
          result.push_back('"');
        }
        return {};
      }
      if (ch == '$') {
        KILN_TRY_ASSIGN(std::string value, dollar());
        result += value;
        continue;
      }
      std::string_view bytes = rune_bytes();
      m_pos += bytes.size();
      if (ch == esc) {
        if (m_raw_escapes) {
          result += bytes;
        }
        int next = peek();
        if (next == k_eof) {
          continue;
        }
        if (next == '"' || next == '$' || next == esc) {
          bytes = rune_bytes();
          m_pos += bytes.size();
        }
      }
      result += bytes;
    }
  }

  std::string name() {
    size_t start = m_pos;
    if (m_pos >= m_in.size()) {
      return {};
    }
    unicode::Rune first = unicode::decode(m_in, m_pos);
    if (unicode::is_digit(first.cp)) {
      while (m_pos < m_in.size()) {
        unicode::Rune r = unicode::decode(m_in, m_pos);
        if (!unicode::is_digit(r.cp)) {
          break;
        }
        m_pos += static_cast<size_t>(r.width);
      }
      return std::string(m_in.substr(start, m_pos - start));
    }
    switch (first.cp) {
      case '@': case '*': case '#': case '?': case '-': case '$': case '!': case '0':
        ++m_pos;
        return std::string(1, static_cast<char>(first.cp));
      default:
        break;
    }
    while (m_pos < m_in.size()) {
      unicode::Rune r = unicode::decode(m_in, m_pos);
      if (!unicode::is_letter(r.cp) && !unicode::is_digit(r.cp) && r.cp != '_') {
        break;
      }
      m_pos += static_cast<size_t>(r.width);
    }
    return std::string(m_in.substr(start, m_pos - start));
  }

  std::optional<std::string_view> get_env(const std::string& n) {
    std::optional<std::string_view> v = m_env.lookup(n);
    (v ? m_out.matched : m_out.unmatched).insert(n);
    return v;
  }

  Result<std::string> dollar() {
    if (++m_depth > k_max_depth) {
      return Error(ErrorCode::invalid_input, "syntax error: substitutions nested too deeply");
    }
    Result<std::string> r = dollar_inner();
    --m_depth;
    return r;
  }

  Result<std::string> dollar_inner() {
    ++m_pos;  // '$'
    if (peek() != '{') {
      std::string n = name();
      if (n.empty()) {
        return std::string("$");
      }
      std::optional<std::string_view> v = get_env(n);
      if (!v && m_opt.skip_unset_env) {
        return "$" + n;
      }
      return std::string(v.value_or(""));
    }
    ++m_pos;  // '{'
    int c = peek();
    if (c == k_eof) {
      return Error(ErrorCode::invalid_input, "syntax error: missing '}'");
    }
    if (c == '{' || c == '}' || c == ':') {
      return Error(ErrorCode::invalid_input, "syntax error: bad substitution");
    }
    std::string n = name();
    int ch = peek();
    if (ch == k_eof) {
      return Error(ErrorCode::invalid_input, "syntax error: missing '}'");
    }
    std::string_view chs = rune_bytes();
    m_pos += chs.size();
    if (ch == '}') {
      std::optional<std::string_view> v = get_env(n);
      if (!v && m_opt.skip_unset_env) {
        return cat("${", n, "}");
      }
      return std::string(v.value_or(""));
    }
    if (ch == '/') {
      return replace(n);
    }
    std::string mod(chs);
    bool null_is_unset = false;
    if (ch == ':') {
      null_is_unset = true;
      ch = peek();
      if (ch == k_eof) {
        return Error(ErrorCode::invalid_input, "syntax error: missing '}'");
      }
      std::string_view b = rune_bytes();
      m_pos += b.size();
      mod += b;
    }
    if (ch != '+' && ch != '-' && ch != '?' && ch != '#' && ch != '%') {
      return Error(ErrorCode::invalid_input, cat("unsupported modifier (", mod, ") in substitution"));
    }
    if (null_is_unset && (ch == '#' || ch == '%')) {
      return Error(ErrorCode::invalid_input, cat("unsupported modifier (", mod, ") in substitution"));
    }
    std::string word;
    Result<void> st = stop_on('}', ch == '#' || ch == '%', word, nullptr);
    if (!st) {
      if (peek() == k_eof) {
        return Error(ErrorCode::invalid_input, "syntax error: missing '}'");
      }
      return std::move(st).error();
    }
    std::optional<std::string_view> v = get_env(n);
    if (!v && m_opt.skip_unset_env) {
      return cat("${", n, mod, word, "}");
    }
    return apply_modifier(n, static_cast<char>(ch), null_is_unset, word, v);
  }

  static Result<std::string> apply_modifier(const std::string& n, char ch, bool null_is_unset, std::string& word,
                                            std::optional<std::string_view> v) {
    bool unset_like = !v || (null_is_unset && v->empty());
    switch (ch) {
      case '-':
        return unset_like ? word : std::string(*v);
      case '+':
        return unset_like ? std::string() : word;
      case '?':
        if (!v) {
          return Error(ErrorCode::invalid_input, cat(n, ": ", word.empty() ? "is not allowed to be unset" : word));
        }
        if (null_is_unset && v->empty()) {
          return Error(ErrorCode::invalid_input, cat(n, ": ", word.empty() ? "is not allowed to be empty" : word));
        }
        return std::string(*v);
      default: {
        bool greedy = !word.empty() && word[0] == ch;
        std::string_view pat = greedy ? std::string_view(word).substr(1) : std::string_view(word);
        return detail::trim_pattern(pat, v.value_or(""), greedy, ch == '%');
      }
    }
  }

  Result<std::string> replace(const std::string& n) {
    bool all = peek() == '/';
    if (all) {
      ++m_pos;
    }
    std::string pattern, repl;
    Result<void> st = stop_on('/', true, pattern, nullptr);
    if (!st) {
      if (peek() == k_eof) {
        return Error(ErrorCode::invalid_input, "syntax error: missing '/' in ${}");
      }
      return std::move(st).error();
    }
    st = stop_on('}', true, repl, nullptr);
    if (!st) {
      if (peek() == k_eof) {
        return Error(ErrorCode::invalid_input, "syntax error: missing '}'");
      }
      return std::move(st).error();
    }
    std::optional<std::string_view> v = get_env(n);
    if (!v && m_opt.skip_unset_env) {
      return cat("${", n, "/", pattern, "/", repl, "}");
    }
    return detail::replace_pattern(pattern, v.value_or(""), repl, all);
  }

  std::string_view m_in;
  size_t m_pos = 0;
  const EnvLookup& m_env;
  const ShellOptions& m_opt;
  ExpandResult& m_out;
  bool m_raw_escapes;
  int m_depth = 0;
};

}  // namespace

MapEnv MapEnv::from_list(const std::vector<std::string>& entries) {
  MapEnv env;
  for (const std::string& e : entries) {
    size_t eq = e.find('=');
    if (eq == std::string::npos) {
      env.m_vars[e] = "";
    } else {
      env.m_vars[e.substr(0, eq)] = e.substr(eq + 1);
    }
  }
  return env;
}

void MapEnv::unset(std::string_view name) {
  auto it = m_vars.find(name);
  if (it != m_vars.end()) {
    m_vars.erase(it);
  }
}

std::optional<std::string_view> MapEnv::lookup(std::string_view name) const {
  auto it = m_vars.find(name);
  if (it == m_vars.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

Result<ExpandResult> ShellLex::process(std::string_view word, const EnvLookup& env) const {
  ExpandResult out;
  // Go's text/scanner skips a leading byte-order mark and turns invalid UTF-8
  // into U+FFFD; do the same up front so the lexer can work on valid UTF-8.
  std::string clean;
  std::string_view input = word;
  if (!unicode::is_ascii(word)) {
    clean = unicode::sanitize(word);
    input = clean;
    if (input.substr(0, 3) == "\xEF\xBB\xBF") {
      input.remove_prefix(3);
    }
  }
  Lexer lexer(input, env, m_options, out);
  Result<void> r = lexer.run();
  if (!r) {
    Error err = std::move(r).error();
    return Error(err.code(), cat("failed to process ", unicode::quote(word), ": ", err.message()));
  }
  return out;
}

Result<std::string> ShellLex::process_word(std::string_view word, const EnvLookup& env) const {
  KILN_TRY_ASSIGN(ExpandResult r, process(word, env));
  return std::move(r.word);
}

Result<std::vector<std::string>> ShellLex::process_words(std::string_view word, const EnvLookup& env) const {
  KILN_TRY_ASSIGN(ExpandResult r, process(word, env));
  return std::move(r.words);
}

}  // namespace kiln::parser
