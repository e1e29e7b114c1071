#include "solver/ops/copy_mode.h"

#include "util/strings.h"

namespace kiln::solver::ops::detail {

namespace {

constexpr uint32_t k_umask = 022;

uint32_t who_bits(char c) {
  switch (c) {
    case 'u':
      return 04700;
    case 'g':
      return 02070;
    case 'o':
      return 01007;
    default:
      return 07777;
  }
}

uint32_t perm_bits(char c) {
  switch (c) {
    case 'r':
      return 0444;
    case 'w':
      return 0222;
    case 'x':
      return 0111;
    case 's':
      return 06000;
    case 't':
      return 01000;
    default:
      return 0;
  }
}

bool is_one_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

}  // namespace

Result<ChmodSpec> ChmodSpec::parse(std::string_view text) {
  ChmodSpec spec;
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::invalid_input, cat("invalid --chmod `", text, "`: ", why));
  };
  if (!text.empty() && text.find_first_not_of("01234567") == std::string_view::npos) {
    uint32_t v = 0;
    for (char c : text) {
      v = v * 8 + static_cast<uint32_t>(c - '0');
      if (v > 07777) {
        return bad("octal mode above 7777");
      }
    }
    spec.m_octal = v;
    return spec;
  }
  constexpr std::string_view k_expected = "expected an octal mode or chmod clauses like `u=rwx,go=rx`";
  if (text.empty()) {
    return bad(k_expected);
  }
  for (const std::string& clause : split(text, ',')) {
    size_t i = 0;
    uint32_t who = 0;
    for (; i < clause.size() && is_one_of(clause[i], "ugoa"); ++i) {
      who |= who_bits(clause[i]);
    }
    if (i == clause.size()) {
      return bad(k_expected);
    }
    while (i < clause.size()) {
      if (!is_one_of(clause[i], "+-=")) {
        return bad(k_expected);
      }
      Op op;
      op.op = clause[i++];
      op.who_given = who != 0;
      op.who = who;
      if (i < clause.size() && is_one_of(clause[i], "ugo")) {
        op.copy = clause[i++];
      } else {
        for (; i < clause.size() && is_one_of(clause[i], "rwxXst"); ++i) {
          op.perm |= perm_bits(clause[i]);
          op.cond_x = op.cond_x || clause[i] == 'X';
        }
      }
      spec.m_ops.push_back(op);
    }
  }
  return spec;
}

uint32_t ChmodSpec::apply(uint32_t current, bool is_dir) const {
  if (m_octal) {
    return *m_octal;
  }
  uint32_t mode = current & 07777;
  for (const Op& op : m_ops) {
    uint32_t perm = op.perm;
    if (op.copy != 0) {
      uint32_t shift = op.copy == 'u' ? 6 : op.copy == 'g' ? 3 : 0;
      uint32_t bits = (mode >> shift) & 7;
      perm = bits | (bits << 3) | (bits << 6);
    }
    if (op.cond_x && (is_dir || (mode & 0111) != 0)) {
      perm |= 0111;
    }
    // Without who, the bits set or cleared are those the umask allows; `=`
    // still clears everything first (GNU chmod).
    uint32_t mask = op.who_given ? op.who : (07777 & ~k_umask);
    perm &= mask;
    if (op.op == '+') {
      mode |= perm;
    } else if (op.op == '-') {
      mode &= ~perm;
    } else {
      mode = (mode & ~(op.who_given ? op.who : 07777u)) | perm;
    }
  }
  return mode;
}

}  // namespace kiln::solver::ops::detail
