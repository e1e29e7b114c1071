// Small string helpers used across kiln.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

namespace detail {
inline void cat_one(std::string& out, std::string_view s) { out.append(s); }
inline void cat_one(std::string& out, const char* s) { out.append(s ? s : "(null)"); }
inline void cat_one(std::string& out, const std::string& s) { out.append(s); }
inline void cat_one(std::string& out, char c) { out.push_back(c); }
inline void cat_one(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <typename T>
void cat_one(std::string& out, const T& v) {
  std::ostringstream os;
  os << v;
  out.append(os.str());
}
}  // namespace detail

/// Concatenates strings and numbers: cat("step ", 3, "/", 7) == "step 3/7".
template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::cat_one(out, args), ...);
  return out;
}

/// Splits on every occurrence of sep; "a,,b" -> {"a", "", "b"}; "" -> {""}.
std::vector<std::string> split(std::string_view s, char sep);
/// Splits at most once: "k=v=w" on '=' -> {"k", "v=w"}; no sep -> nullopt.
std::optional<std::pair<std::string, std::string>> split_once(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// Removes ASCII whitespace (space, \t, \n, \r, \v, \f) at both ends.
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);

/// Lower-case hex of bytes.
std::string hex_encode(std::string_view bytes);
/// Parses hex (either case); nullopt on odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);
bool is_lower_hex(std::string_view s);

/// Parses a whole decimal integer (optional leading '-'); nullopt otherwise.
std::optional<int64_t> parse_int(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);

/// Quotes for a POSIX shell when needed: abc -> abc, a b -> 'a b'.
std::string shell_quote(std::string_view s);

/// Human-readable byte count: 1536 -> "1.5 kB" (decimal units, like podman).
std::string human_size(uint64_t bytes);

/// Parses sizes like "10g", "512MiB", "1.5GB", "4096"; bytes. nullopt if bad.
std::optional<uint64_t> parse_size(std::string_view s);

}  // namespace kiln
