#include "parser/unicode.h"

#include <locale.h>
#include <wctype.h>

#include <re2/re2.h>

namespace kiln::parser::unicode {

Rune decode_slow(std::string_view s, size_t pos) {
  const Rune bad{k_replacement, 1, false};
  auto at = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  unsigned char c = at(0);
  size_t left = s.size() - pos;
  auto cont = [&](size_t i) { return i < left && (at(i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) {
      return bad;
    }
    return {static_cast<char32_t>(((c & 0x1F) << 6) | (at(1) & 0x3F)), 2, true};
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) {
      return bad;
    }
    char32_t cp = ((c & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return bad;
    }
    return {cp, 3, true};
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) {
      return bad;
    }
    char32_t cp = ((c & 0x07) << 18) | ((at(1) & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) {
      return bad;
    }
    return {cp, 4, true};
  }
  return bad;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = k_replacement;
  }
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_space(char32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

// Category tests above Latin-1 use RE2's Unicode tables: one small compiled
// class per property, matched against the rune's UTF-8 encoding.
bool matches_class(const RE2& re, char32_t cp) {
  std::string buf;
  append_utf8(buf, cp);
  return RE2::FullMatch(buf, re);
}

const RE2& letter_re() {
  static const RE2 re("\\p{L}");
  return re;
}
const RE2& digit_re() {
  static const RE2 re("\\p{Nd}");
  return re;
}
const RE2& print_re() {
  static const RE2 re("[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]");
  return re;
}

bool latin1_letter(char32_t cp) {
  return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == 0xAA || cp == 0xB5 || cp == 0xBA ||
         (cp >= 0xC0 && cp <= 0xFF && cp != 0xD7 && cp != 0xF7);
}

}  // namespace

bool is_letter(char32_t cp) {
  if (cp < 0x100) {
    return latin1_letter(cp);
  }
  return matches_class(letter_re(), cp);
}

bool is_digit(char32_t cp) {
  if (cp < 0x100) {
    return cp >= '0' && cp <= '9';
  }
  return matches_class(digit_re(), cp);
}

bool is_print(char32_t cp) {
  if (cp < 0x100) {
    // Latin-1: printable ASCII, and 0xA1..0xFF except the soft hyphen.
    return (cp >= 0x20 && cp < 0x7F) || (cp >= 0xA1 && cp != 0xAD);
  }
  if (cp == k_replacement) {
    return true;
  }
  return matches_class(print_re(), cp);
}

size_t space_at(std::string_view s, size_t pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    return (c == ' ' || (c >= '\t' && c <= '\r')) ? 1 : 0;
  }
  Rune r = decode_slow(s, pos);
  return (r.valid && is_space(r.cp)) ? static_cast<size_t>(r.width) : 0;
}

std::string_view trim_left(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t w = space_at(s, i);
    if (w == 0) {
      break;
    }
    i += w;
  }
  return s.substr(i);
}

std::string_view trim_right(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    auto c = static_cast<unsigned char>(s[end - 1]);
    if (c < 0x80) {
      if (c == ' ' || (c >= '\t' && c <= '\r')) {
        --end;
        continue;
      }
      break;
    }
    // Walk back to the start of the multi-byte rune.
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    Rune r = decode_slow(s, start);
    if (r.valid && start + static_cast<size_t>(r.width) == end && is_space(r.cp)) {
      end = start;
      continue;
    }
    break;
  }
  return s.substr(0, end);
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

namespace {
locale_t utf8_locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}
}  // namespace

std::string to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  if (is_ascii(s)) {
    for (char c : s) {
      out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    }
    return out;
  }
  locale_t loc = utf8_locale();
  for (size_t i = 0; i < s.size();) {
    Rune r = decode(s, i);
    char32_t lower = r.cp;
    if (r.cp < 0x80) {
      lower = (r.cp >= 'A' && r.cp <= 'Z') ? r.cp + 32 : r.cp;
    } else if (r.valid && loc != static_cast<locale_t>(nullptr)) {
      lower = static_cast<char32_t>(towlower_l(static_cast<wint_t>(r.cp), loc));
    }
    append_utf8(out, lower);
    i += static_cast<size_t>(r.width);
  }
  return out;
}

void append_quoted(std::string& out, std::string_view s) {
  static const char k_hex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    Rune r = decode(s, i);
    auto c = static_cast<unsigned char>(s[i]);
    i += static_cast<size_t>(r.width);
    if (!r.valid) {
      out += "\\x";
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 15]);
      continue;
    }
    char32_t cp = r.cp;
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
      continue;
    }
    if (is_print(cp)) {
      append_utf8(out, cp);
      continue;
    }
    switch (cp) {
      case '\a': out += "\\a"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\v': out += "\\v"; continue;
      default: break;
    }
    if (cp < ' ' || cp == 0x7F) {
      out += "\\x";
      out.push_back(k_hex[cp >> 4]);
      out.push_back(k_hex[cp & 15]);
    } else {
      int digits = cp < 0x10000 ? 4 : 8;
      out += cp < 0x10000 ? "\\u" : "\\U";
      for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out.push_back(k_hex[(cp >> shift) & 15]);
      }
    }
  }
  out.push_back('"');
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_quoted(out, s);
  return out;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode(s, i);
    if (r.valid) {
      out.append(s.substr(i, static_cast<size_t>(r.width)));
    } else {
      append_utf8(out, k_replacement);
    }
    i += static_cast<size_t>(r.width);
  }
  return out;
}

}  // namespace kiln::parser::unicode
