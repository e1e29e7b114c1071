// Flag words of an instruction (`--from=build`, `--link`), validated the way
// BuildKit's BFlags does: known names only, `--name=value` for string flags,
// bare or `=true|false` for booleans, repeatable `strings` flags.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

enum class FlagType {
  string,   ///< --name=value, at most once
  boolean,  ///< --name, --name=true, --name=false (any case), at most once
  strings,  ///< --name=value, repeatable
};

struct FlagSpec {
  std::string_view name;  ///< without the dashes
  FlagType type;
};

/// Flag values by name (booleans as "true"/"false"); only flags present.
class FlagValues {
 public:
  bool has(std::string_view name) const { return m_values.count(std::string(name)) != 0; }
  /// The value of a string or boolean flag; fallback when absent.
  std::string get(std::string_view name, std::string fallback = {}) const;
  bool get_bool(std::string_view name) const { return get(name, "false") == "true"; }
  std::vector<std::string> get_all(std::string_view name) const;
  void add(std::string name, std::string value) { m_values[std::move(name)].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>> m_values;
};

/// Validates node.flags against specs. Errors (ErrorCode::invalid_input,
/// message only; the caller adds the line) name the flag and instruction:
/// unknown flag, flag on an instruction without flags, duplicate, missing
/// value, bad boolean.
Result<FlagValues> parse_flags(const Node& node, std::span<const FlagSpec> specs);

}  // namespace kiln::parser
