#include "parser/values.h"

#include <array>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "util/strings.h"

namespace kiln::parser {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<int64_t> unit_ns(std::string_view u) {
  static const std::array<std::pair<std::string_view, int64_t>, 8> k_units{{
      {"ns", 1},
      {"us", 1000},
      {"\xC2\xB5s", 1000},
      {"\xCE\xBCs", 1000},
      {"ms", 1000000},
      {"s", 1000000000},
      {"m", 60LL * 1000000000},
      {"h", 3600LL * 1000000000},
  }};
  for (const auto& [name, ns] : k_units) {
    if (name == u) {
      return ns;
    }
  }
  return std::nullopt;
}
}  // namespace

Result<int64_t> parse_go_duration(std::string_view s) {
  Error bad(ErrorCode::invalid_input, cat("time: invalid duration \"", s, "\""));
  std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return int64_t{0};
  }
  if (s.empty()) {
    return bad;
  }
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    std::string_view whole = s.substr(0, i);
    std::string_view frac;
    if (i < s.size() && s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && is_digit(s[j])) {
        ++j;
      }
      frac = s.substr(i + 1, j - i - 1);
      i = j;
    }
    if (whole.empty() && frac.empty()) {
      return bad;
    }
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) {
      ++u;
    }
    std::optional<int64_t> unit = unit_ns(s.substr(i, u - i));
    if (!unit) {
      return Error(ErrorCode::invalid_input,
                   u == i ? cat("time: missing unit in duration \"", orig, "\"")
                          : cat("time: unknown unit \"", s.substr(i, u - i), "\" in duration \"", orig, "\""));
    }
    long double v = 0;
    for (char c : whole) {
      v = v * 10 + (c - '0');
    }
    long double scale = 0.1L;
    for (char c : frac) {
      v += (c - '0') * scale;
      scale /= 10;
    }
    total += v * static_cast<long double>(*unit);
    if (total > 9.223372036854775807e18L) {
      return bad;
    }
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

std::optional<bool> parse_go_bool(std::string_view s) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) {
      return true;
    }
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) {
      return false;
    }
  }
  return std::nullopt;
}

Result<int64_t> parse_ram_size(std::string_view s) {
  Error bad(ErrorCode::invalid_input, cat("invalid size: '", s, "'"));
  size_t i = 0;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) {
    ++i;
  }
  std::string_view num = s.substr(0, i);
  if (num.empty() || !is_digit(num[0]) || num.back() == '.' || num.find("..") != std::string_view::npos) {
    return bad;
  }
  std::string_view suffix = s.substr(i);
  if (!suffix.empty() && suffix[0] == ' ') {
    suffix.remove_prefix(1);
  }
  long double mult = 1;
  if (!suffix.empty()) {
    std::string_view units = "kmgtp";
    size_t u = units.find(static_cast<char>(suffix[0] | 0x20));
    if (u != std::string_view::npos) {
      mult = std::pow(1024.0L, static_cast<long double>(u + 1));
      suffix.remove_prefix(1);
    }
  }
  if (!suffix.empty() && (suffix[0] == 'i' || suffix[0] == 'I')) {
    suffix.remove_prefix(1);
  }
  if (!suffix.empty() && (suffix[0] == 'b' || suffix[0] == 'B')) {
    suffix.remove_prefix(1);
  }
  if (!suffix.empty()) {
    return bad;
  }
  long double v = std::strtold(std::string(num).c_str(), nullptr) * mult;
  if (v > 9.2e18L) {
    return bad;
  }
  return static_cast<int64_t>(v);
}

namespace {
// One symbolic chmod clause: [ugoa]*([-+=]([rwxXst]*|[ugo]))+
bool valid_clause(std::string_view c) {
  size_t i = 0;
  while (i < c.size() && std::string_view("ugoa").find(c[i]) != std::string_view::npos) {
    ++i;
  }
  if (i == c.size()) {
    return false;
  }
  while (i < c.size()) {
    if (std::string_view("+-=").find(c[i]) == std::string_view::npos) {
      return false;
    }
    ++i;
    if (i < c.size() && std::string_view("ugo").find(c[i]) != std::string_view::npos) {
      ++i;
      continue;
    }
    while (i < c.size() && std::string_view("rwxXst").find(c[i]) != std::string_view::npos) {
      ++i;
    }
  }
  return true;
}
}  // namespace

Result<Chmod> parse_chmod(std::string_view s) {
  Chmod out;
  if (!s.empty() && s.find_first_not_of("01234567") == std::string_view::npos) {
    uint32_t v = 0;
    for (char c : s) {
      v = v * 8 + static_cast<uint32_t>(c - '0');
      if (v > 07777) {
        return Error(ErrorCode::invalid_input, cat("invalid --chmod `", s, "`: octal mode above 7777"));
      }
    }
    out.octal = v;
    return out;
  }
  for (const std::string& clause : split(s, ',')) {
    if (!valid_clause(clause)) {
      return Error(ErrorCode::invalid_input,
                   cat("invalid --chmod `", s, "`: expected an octal mode or chmod clauses like `u=rwx,go=rx`"));
    }
  }
  out.symbolic = std::string(s);
  return out;
}

uint32_t Chmod::apply(uint32_t current, bool is_dir) const {
  if (octal) {
    return *octal;
  }
  uint32_t mode = current & 07777;
  for (const std::string& clause : split(symbolic, ',')) {
    size_t i = 0;
    uint32_t who = 0;
    for (; i < clause.size() && std::string_view("ugoa").find(clause[i]) != std::string_view::npos; ++i) {
      who |= clause[i] == 'u' ? 04700u : clause[i] == 'g' ? 02070u : clause[i] == 'o' ? 01007u : 07777u;
    }
    if (who == 0) {
      who = 07777u & ~022u;  // no who: like chmod(1) with umask 022
    }
    while (i < clause.size()) {
      char op = clause[i++];
      uint32_t perm = 0;
      if (i < clause.size() && std::string_view("ugo").find(clause[i]) != std::string_view::npos) {
        uint32_t shift = clause[i] == 'u' ? 6 : clause[i] == 'g' ? 3 : 0;
        uint32_t bits = (mode >> shift) & 7;
        perm = bits | (bits << 3) | (bits << 6);
        ++i;
      }
      for (; i < clause.size() && std::string_view("rwxXst").find(clause[i]) != std::string_view::npos; ++i) {
        char p = clause[i];
        perm |= p == 'r' ? 0444u : p == 'w' ? 0222u : p == 'x' ? 0111u : p == 's' ? 06000u : p == 't' ? 01000u : 0u;
        if (p == 'X' && (is_dir || (mode & 0111u) != 0)) {
          perm |= 0111u;
        }
      }
      perm &= who;
      if (op == '+') {
        mode |= perm;
      } else if (op == '-') {
        mode &= ~perm;
      } else {
        mode = (mode & ~who) | perm;
      }
    }
  }
  return mode;
}

Result<PortSpec> parse_port_spec(std::string_view s) {
  PortSpec out;
  std::string_view port = s;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    out.proto = to_lower(s.substr(slash + 1));
    port = s.substr(0, slash);
    if (out.proto != "tcp" && out.proto != "udp" && out.proto != "sctp") {
      return Error(ErrorCode::invalid_input, cat("invalid proto: ", s.substr(slash + 1)));
    }
  }
  std::string_view first = port, last = port;
  if (size_t dash = port.find('-'); dash != std::string_view::npos) {
    first = port.substr(0, dash);
    last = port.substr(dash + 1);
  }
  std::optional<uint64_t> a = parse_uint(first), b = parse_uint(last);
  if (!a || !b || *a > 65535 || *b > 65535 || *b < *a) {
    return Error(ErrorCode::invalid_input, cat("invalid containerPort: ", port));
  }
  out.first = static_cast<uint16_t>(*a);
  out.last = static_cast<uint16_t>(*b);
  return out;
}

Result<int> parse_signal(std::string_view s) {
  static const std::array<std::string_view, 31> k_names{
      "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
      "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
      "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};
  Error bad(ErrorCode::invalid_input, cat("invalid signal: ", s));
  if (std::optional<uint64_t> n = parse_uint(s)) {
    if (*n == 0 || *n > 64) {
      return bad;
    }
    return static_cast<int>(*n);
  }
  std::string name(s);
  for (char& c : name) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 32);
    }
  }
  if (name.rfind("SIG", 0) == 0) {
    name.erase(0, 3);
  }
  for (size_t i = 0; i < k_names.size(); ++i) {
    if (name == k_names[i]) {
      return static_cast<int>(i + 1);
    }
  }
  for (auto [prefix, base, sign] : {std::tuple{"RTMIN", 34, 1}, std::tuple{"RTMAX", 64, -1}}) {
    std::string_view p = prefix;
    if (name.rfind(p, 0) != 0) {
      continue;
    }
    std::string_view rest = std::string_view(name).substr(p.size());
    if (rest.empty()) {
      return base;
    }
    if (rest[0] != (sign > 0 ? '+' : '-')) {
      return bad;
    }
    std::optional<uint64_t> off = parse_uint(rest.substr(1));
    if (!off || *off > 30) {
      return bad;
    }
    return base + sign * static_cast<int>(*off);
  }
  return bad;
}

Result<void> validate_checksum(std::string_view s) {
  size_t colon = s.find(':');
  std::string_view alg = s.substr(0, colon == std::string_view::npos ? 0 : colon);
  std::string_view hex = colon == std::string_view::npos ? std::string_view() : s.substr(colon + 1);
  size_t want = alg == "sha256" ? 64 : alg == "sha384" ? 96 : alg == "sha512" ? 128 : 0;
  if (want == 0 || hex.size() != want || !is_lower_hex(hex)) {
    return Error(ErrorCode::invalid_input,
                 cat("invalid --checksum `", s, "`: expected a digest like `sha256:` followed by 64 hex digits"));
  }
  return {};
}

}  // namespace kiln::parser
