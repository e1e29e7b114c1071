#include "parser/json_array.h"

#include "parser/unicode.h"

namespace kiln::parser {

namespace {

constexpr size_t k_max_depth = 10000;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : m_s(s) {}

  void skip_ws() {
    while (m_pos < m_s.size() && is_ws(m_s[m_pos])) {
      ++m_pos;
    }
  }
  bool at_end() const { return m_pos >= m_s.size(); }
  char peek() const { return m_pos < m_s.size() ? m_s[m_pos] : '\0'; }
  void advance() { ++m_pos; }

  // Reads a string starting at '"'; decodes into out when out != nullptr.
  bool string(std::string* out) {
    ++m_pos;  // opening quote
    while (m_pos < m_s.size()) {
      auto c = static_cast<unsigned char>(m_s[m_pos]);
      if (c == '"') {
        ++m_pos;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c == '\\') {
        if (!escape(out)) {
          return false;
        }
        continue;
      }
      unicode::Rune r = unicode::decode(m_s, m_pos);
      if (out != nullptr) {
        if (r.valid) {
          out->append(m_s.substr(m_pos, static_cast<size_t>(r.width)));
        } else {
          unicode::append_utf8(*out, unicode::k_replacement);
        }
      }
      m_pos += static_cast<size_t>(r.width);
    }
    return false;
  }

  bool number() {
    if (peek() == '-') {
      advance();
    }
    if (peek() == '0') {
      advance();
    } else if (peek() >= '1' && peek() <= '9') {
      digits();
    } else {
      return false;
    }
    if (peek() == '.') {
      advance();
      if (!digits()) {
        return false;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      advance();
      if (peek() == '+' || peek() == '-') {
        advance();
      }
      if (!digits()) {
        return false;
      }
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (m_s.substr(m_pos, word.size()) != word) {
      return false;
    }
    m_pos += word.size();
    return true;
  }

 private:
  bool digits() {
    size_t start = m_pos;
    while (peek() >= '0' && peek() <= '9') {
      advance();
    }
    return m_pos > start;
  }

  int u4(size_t at) const {
    if (at + 4 > m_s.size()) {
      return -1;
    }
    int v = 0;
    for (size_t i = 0; i < 4; ++i) {
      int h = hex_value(m_s[at + i]);
      if (h < 0) {
        return -1;
      }
      v = v * 16 + h;
    }
    return v;
  }

  bool escape(std::string* out) {
    if (m_pos + 1 >= m_s.size()) {
      return false;
    }
    char e = m_s[m_pos + 1];
    char plain = 0;
    switch (e) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': break;
      default: return false;
    }
    if (e != 'u') {
      if (out != nullptr) {
        out->push_back(plain);
      }
      m_pos += 2;
      return true;
    }
    int cp = u4(m_pos + 2);
    if (cp < 0) {
      return false;
    }
    m_pos += 6;
    char32_t rune = static_cast<char32_t>(cp);
    if (cp >= 0xD800 && cp < 0xE000) {
      rune = unicode::k_replacement;
      if (cp < 0xDC00 && m_pos + 1 < m_s.size() && m_s[m_pos] == '\\' && m_s[m_pos + 1] == 'u') {
        int low = u4(m_pos + 2);
        if (low >= 0xDC00 && low < 0xE000) {
          rune = 0x10000 + ((static_cast<char32_t>(cp) - 0xD800) << 10) + (static_cast<char32_t>(low) - 0xDC00);
          m_pos += 6;
        }
      }
    }
    if (out != nullptr) {
      unicode::append_utf8(*out, rune);
    }
    return true;
  }

  std::string_view m_s;
  size_t m_pos = 0;
};

// Visits the elements (arrays) or members (objects) of the top-level
// container; nested values are only validated.
struct TopVisitor {
  virtual ~TopVisitor() = default;
  // key is the decoded member name for objects, nullptr for arrays; str is
  // the decoded value when it is a string, nullptr otherwise.
  virtual void value(const std::string* key, const std::string* str) = 0;
};

// Validates the whole document (one container, JSON whitespace around it).
bool scan_document(std::string_view text, TopVisitor& visitor) {
  Reader r(text);
  r.skip_ws();
  if (r.peek() != '[' && r.peek() != '{') {
    return false;
  }
  std::vector<char> stack;  // '[' or '{' per open container
  std::string key, str;
  bool have_key = false;
  stack.push_back(r.peek());
  r.advance();
  bool expect_value = true;  // right after '[' / '{' / ',' / ':'
  bool first = true;         // right after the opening bracket
  while (!stack.empty()) {
    r.skip_ws();
    char top = stack.back();
    if (!expect_value) {
      if (r.peek() == ',') {
        r.advance();
        expect_value = true;
        first = false;
        continue;
      }
      if (r.peek() != (top == '[' ? ']' : '}')) {
        return false;
      }
      r.advance();
      stack.pop_back();
      expect_value = false;
      continue;
    }
    if (first && r.peek() == (top == '[' ? ']' : '}')) {
      r.advance();
      stack.pop_back();
      expect_value = false;
      first = false;
      continue;
    }
    first = false;
    if (top == '{' && !have_key) {
      if (r.peek() != '"') {
        return false;
      }
      key.clear();
      if (!r.string(stack.size() == 1 ? &key : nullptr)) {
        return false;
      }
      r.skip_ws();
      if (r.peek() != ':') {
        return false;
      }
      r.advance();
      have_key = true;
      continue;
    }
    have_key = false;
    bool top_level = stack.size() == 1;
    const std::string* key_ptr = top == '{' ? &key : nullptr;
    char c = r.peek();
    if (c == '[' || c == '{') {
      if (stack.size() >= k_max_depth) {
        return false;
      }
      if (top_level) {
        visitor.value(key_ptr, nullptr);
      }
      r.advance();
      stack.push_back(c);
      first = true;
      continue;
    }
    bool ok = false;
    if (c == '"') {
      str.clear();
      ok = r.string(top_level ? &str : nullptr);
      if (ok && top_level) {
        visitor.value(key_ptr, &str);
      }
    } else {
      ok = (c == 't' && r.literal("true")) || (c == 'f' && r.literal("false")) || (c == 'n' && r.literal("null")) ||
           ((c == '-' || (c >= '0' && c <= '9')) && r.number());
      if (ok && top_level) {
        visitor.value(key_ptr, nullptr);
      }
    }
    if (!ok) {
      return false;
    }
    expect_value = false;
  }
  r.skip_ws();
  return r.at_end();
}

}  // namespace

JsonArrayStatus parse_json_string_array(std::string_view text, std::vector<std::string>& out) {
  text = unicode::trim_left(text);
  if (text.empty() || text[0] != '[') {
    return JsonArrayStatus::not_json;
  }
  struct Collect : TopVisitor {
    std::vector<std::string>* out;
    bool all_strings = true;
    void value(const std::string*, const std::string* str) override {
      if (str == nullptr) {
        all_strings = false;
      } else if (all_strings) {
        out->push_back(*str);
      }
    }
  } collect;
  collect.out = &out;
  out.clear();
  if (!scan_document(text, collect)) {
    out.clear();
    return JsonArrayStatus::not_json;
  }
  if (!collect.all_strings) {
    out.clear();
    return JsonArrayStatus::not_strings;
  }
  return JsonArrayStatus::ok;
}

std::optional<std::string> json_object_string_member(std::string_view text, std::string_view key) {
  struct Find : TopVisitor {
    std::string_view want;
    std::optional<std::string> found;
    void value(const std::string* k, const std::string* str) override {
      if (k != nullptr && *k == want) {
        // Go's map decoding: a later duplicate wins.
        found = str != nullptr ? std::optional<std::string>(*str) : std::nullopt;
      }
    }
  } find;
  find.want = key;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    return std::nullopt;
  }
  if (!scan_document(text, find)) {
    return std::nullopt;
  }
  return find.found;
}

}  // namespace kiln::parser
