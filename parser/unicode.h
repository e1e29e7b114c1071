// Unicode helpers for the Dockerfile parser: UTF-8 decoding with Go's
// rules (BuildKit is written in Go, and its byte-exact behaviour is the bar),
// Go's unicode.IsSpace / IsLetter / IsDigit / IsPrint, strings.ToLower and
// strconv.Quote. Internal to parser/, but tests use it directly.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::parser::unicode {

constexpr char32_t k_replacement = 0xFFFD;

/// One decoded rune. Invalid UTF-8 (bad lead byte, truncated or overlong
/// sequence, surrogate, > U+10FFFF) decodes as {U+FFFD, width 1, valid=false},
/// exactly like Go's utf8.DecodeRuneInString.
struct Rune {
  char32_t cp;
  int width;
  bool valid;
};

/// Decodes the rune at s[pos]; pos must be < s.size().
inline Rune decode(std::string_view s, size_t pos);
Rune decode_slow(std::string_view s, size_t pos);
inline Rune decode(std::string_view s, size_t pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    return {c, 1, true};
  }
  return decode_slow(s, pos);
}

/// Appends the UTF-8 encoding of cp (U+FFFD for invalid code points).
void append_utf8(std::string& out, char32_t cp);

/// Go's unicode.IsSpace: \t \n \v \f \r space U+0085 U+00A0 and the Unicode
/// White_Space characters above Latin-1.
bool is_space(char32_t cp);
/// Go's unicode.IsLetter (category L); non-Latin-1 via RE2's Unicode tables.
bool is_letter(char32_t cp);
/// Go's unicode.IsDigit (category Nd).
bool is_digit(char32_t cp);
/// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and
/// U+0020.
bool is_print(char32_t cp);

/// Byte length of the Unicode white-space rune at s[pos], 0 if none.
size_t space_at(std::string_view s, size_t pos);

/// strings.TrimLeftFunc(s, unicode.IsSpace) and friends.
std::string_view trim_left(std::string_view s);
std::string_view trim_right(std::string_view s);
inline std::string_view trim(std::string_view s) { return trim_right(trim_left(s)); }

/// True when s contains only bytes < 0x80.
bool is_ascii(std::string_view s);

/// Go's strings.ToLower: simple Unicode lower-casing; invalid UTF-8 bytes
/// become U+FFFD (as Go's strings.Map does).
std::string to_lower(std::string_view s);

/// Go's strconv.Quote: "..." with \" \\ \a \b \f \n \r \t \v, \xHH for other
/// control bytes and invalid UTF-8, \uHHHH / \UHHHHHHHH for non-printable
/// runes; printable runes are kept as UTF-8.
std::string quote(std::string_view s);
void append_quoted(std::string& out, std::string_view s);

/// Replaces invalid UTF-8 sequences with U+FFFD (what Go does when it
/// iterates runes); returns s unchanged when it is valid.
std::string sanitize(std::string_view s);

}  // namespace kiln::parser::unicode
