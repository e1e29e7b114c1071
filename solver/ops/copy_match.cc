#include "solver/ops/copy_match.h"

#include <cstdint>

#include "util/strings.h"

namespace kiln::solver::ops::detail {

namespace {

constexpr uint32_t k_replacement = 0xFFFD;

// Decodes one UTF-8 code point; invalid bytes decode as U+FFFD of length 1
// (Go's utf8.DecodeRuneInString). *n receives the length (0 for empty input).
uint32_t decode_rune(std::string_view s, size_t* n) {
  if (s.empty()) {
    *n = 0;
    return k_replacement;
  }
  auto b = static_cast<unsigned char>(s[0]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || len > s.size()) {
    *n = 1;
    return len == 1 ? b : k_replacement;
  }
  if (len == 1) {
    *n = 1;
    return b;
  }
  uint32_t r = b & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c >> 6) != 0x2) {
      *n = 1;
      return k_replacement;
    }
    r = (r << 6) | (c & 0x3F);
  }
  static constexpr uint32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < k_min[len] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    *n = 1;
    return k_replacement;
  }
  *n = len;
  return r;
}

// One (possibly escaped) character of a class; false when malformed.
bool class_char(std::string_view& chunk, uint32_t* r) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') {
    return false;
  }
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) {
      return false;
    }
  }
  size_t n = 0;
  *r = decode_rune(chunk, &n);
  if (*r == k_replacement && n == 1 && static_cast<unsigned char>(chunk[0]) >= 0x80) {
    return false;
  }
  chunk.remove_prefix(n);
  return !chunk.empty();
}

// Splits off the next chunk: leading stars, then text up to the next star
// outside a class.
struct Chunk {
  bool star = false;
  std::string_view text;
};

Chunk scan_chunk(std::string_view& pattern) {
  Chunk c;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    c.star = true;
  }
  bool in_class = false;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch == '\\') {
      if (i + 1 < pattern.size()) {
        ++i;
      }
    } else if (ch == '[') {
      in_class = true;
    } else if (ch == ']') {
      in_class = false;
    } else if (ch == '*' && !in_class) {
      break;
    }
  }
  c.text = pattern.substr(0, i);
  pattern.remove_prefix(i);
  return c;
}

enum class ChunkResult { match, no_match, bad };

// Matches chunk against the start of s; on a match *rest is what is left of s.
// After a mismatch the chunk is still scanned, so a malformed pattern is
// reported as such (Go's matchChunk).
ChunkResult match_chunk(std::string_view chunk, std::string_view s, std::string_view* rest) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) {
      failed = true;
    }
    char ch = chunk[0];
    if (ch == '[') {
      uint32_t r = 0;
      if (!failed) {
        size_t n = 0;
        r = decode_rune(s, &n);
        s.remove_prefix(n);
      }
      chunk.remove_prefix(1);
      bool negated = !chunk.empty() && chunk[0] == '^';
      if (negated) {
        chunk.remove_prefix(1);
      }
      bool matched = false;
      for (int ranges = 0;; ++ranges) {
        if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
          chunk.remove_prefix(1);
          break;
        }
        uint32_t lo = 0;
        if (!class_char(chunk, &lo)) {
          return ChunkResult::bad;
        }
        uint32_t hi = lo;
        if (chunk[0] == '-') {
          chunk.remove_prefix(1);
          if (!class_char(chunk, &hi)) {
            return ChunkResult::bad;
          }
        }
        matched = matched || (lo <= r && r <= hi);
      }
      failed = failed || matched == negated;
      continue;
    }
    if (ch == '?') {
      if (!failed) {
        failed = s[0] == '/';
        size_t n = 0;
        decode_rune(s, &n);
        s.remove_prefix(n);
      }
      chunk.remove_prefix(1);
      continue;
    }
    if (ch == '\\') {
      chunk.remove_prefix(1);
      if (chunk.empty()) {
        return ChunkResult::bad;
      }
    }
    if (!failed) {
      failed = chunk[0] != s[0];
      s.remove_prefix(1);
    }
    chunk.remove_prefix(1);
  }
  if (failed) {
    return ChunkResult::no_match;
  }
  *rest = s;
  return ChunkResult::match;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name, bool* bad) {
  if (bad != nullptr) {
    *bad = false;
  }
  while (!pattern.empty()) {
    Chunk c = scan_chunk(pattern);
    if (c.star && c.text.empty()) {
      return name.find('/') == std::string_view::npos;  // a trailing `*`
    }
    std::string_view rest;
    ChunkResult r = match_chunk(c.text, name, &rest);
    if (r == ChunkResult::match && (rest.empty() || !pattern.empty())) {
      name = rest;
      continue;
    }
    bool found = false;
    if (r != ChunkResult::bad && c.star) {
      // The star eats 1..n non-'/' bytes; try each split.
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        r = match_chunk(c.text, name.substr(i + 1), &rest);
        if (r == ChunkResult::match) {
          if (pattern.empty() && !rest.empty()) {
            continue;
          }
          name = rest;
          found = true;
          break;
        }
        if (r == ChunkResult::bad) {
          break;
        }
      }
    }
    if (found) {
      continue;
    }
    if (r != ChunkResult::bad) {
      // Report a malformed remainder even though the match already failed.
      while (!pattern.empty() && r != ChunkResult::bad) {
        Chunk next = scan_chunk(pattern);
        r = match_chunk(next.text, "", &rest);
      }
    }
    if (bad != nullptr) {
      *bad = r == ChunkResult::bad;
    }
    return false;
  }
  return name.empty();
}

bool has_wildcards(std::string_view component) {
  for (size_t i = 0; i < component.size(); ++i) {
    char ch = component[i];
    if (ch == '\\') {
      ++i;
    } else if (ch == '*' || ch == '?' || ch == '[') {
      return true;
    }
  }
  return false;
}

std::pair<std::string, std::string> split_wildcards(std::string_view path) {
  std::string head;
  std::string tail;
  bool found = false;
  for (const std::string& part : split(path, '/')) {
    if (part.empty()) {
      continue;
    }
    // An escape (`star\*`) needs matching too, to mean the name without it.
    found = found || has_wildcards(part) || part.find('\\') != std::string::npos;
    std::string& out = found ? tail : head;
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  return {head, tail};
}

}  // namespace kiln::solver::ops::detail
