// Internal to solver/ops: COPY/ADD --chmod, octal or symbolic like chmod(1).
//
// Octal: 1 to 4 octal digits, at most 07777; every copied file and directory
// gets exactly that mode (BuildKit applies it to directories too).
// Symbolic: comma-separated clauses `[ugoa]*([-+=]([rwxXst]*|[ugo]))+`, applied
// in order to each entry's source mode, with GNU chmod's rules:
//  - who `u` covers 04700, `g` 02070, `o` 01007, `a` everything; a clause
//    without who acts as `a` filtered by the umask 022 (`+x` gives 0111,
//    `+w` gives 0200), as chmod(1) run with the usual umask does;
//  - `X` is execute when the entry is a directory or already has an execute
//    bit (in the mode as modified so far);
//  - `=` clears the who bits first; `u`/`g`/`o` as the permission copy that
//    class's current bits (`g=u`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::solver::ops::detail {

class ChmodSpec {
 public:
  /// Parses a --chmod value. Errors: invalid_input naming it.
  static Result<ChmodSpec> parse(std::string_view text);

  /// The mode (permission and setuid/setgid/sticky bits, no file type) an
  /// entry with mode `current` gets.
  uint32_t apply(uint32_t current, bool is_dir) const;

 private:
  struct Op {
    char op = '+';        // '+', '-', '='
    uint32_t who = 0;     // bits the clause may touch
    bool who_given = false;
    uint32_t perm = 0;    // r/w/x/s/t bits (before masking with who)
    bool cond_x = false;  // `X`
    char copy = 0;        // 'u', 'g', 'o' or 0
  };
  std::optional<uint32_t> m_octal;
  std::vector<Op> m_ops;
};

}  // namespace kiln::solver::ops::detail
