#include "parser/flags.h"

#include "util/strings.h"

namespace kiln::parser {

std::string FlagValues::get(std::string_view name, std::string fallback) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? fallback : it->second.back();
}

std::vector<std::string> FlagValues::get_all(std::string_view name) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 32);
    }
  }
  return out;
}
}  // namespace

Result<FlagValues> parse_flags(const Node& node, std::span<const FlagSpec> specs) {
  FlagValues out;
  std::string kw = upper(node.keyword);
  for (const std::string& word : node.flags) {
    if (word.rfind("--", 0) != 0) {
      return Error(ErrorCode::invalid_input, cat("flag `", word, "` for ", kw, " must start with `--`"));
    }
    std::string_view body = std::string_view(word).substr(2);
    size_t eq = body.find('=');
    std::string name(body.substr(0, eq));
    std::optional<std::string> value;
    if (eq != std::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) {
        spec = &s;
      }
    }
    if (spec == nullptr) {
      if (specs.empty()) {
        return Error(ErrorCode::invalid_input, cat(kw, " takes no flags, but got `--", name, "`"));
      }
      std::vector<std::string> names;
      for (const FlagSpec& s : specs) {
        names.push_back(cat("--", s.name));
      }
      return Error(ErrorCode::invalid_input,
                   cat("unknown flag `--", name, "` for ", kw, " (", kw, " takes ", join(names, ", "), ")"));
    }
    if (spec->type != FlagType::strings && out.has(name)) {
      return Error(ErrorCode::invalid_input, cat("duplicate flag `--", name, "` for ", kw));
    }
    if (spec->type == FlagType::boolean) {
      std::string v = value ? to_lower(*value) : "true";
      if (v != "true" && v != "false") {
        return Error(ErrorCode::invalid_input,
                     cat("flag `--", name, "` for ", kw, " expects true or false, not `", *value, "`"));
      }
      out.add(name, v);
      continue;
    }
    if (!value) {
      return Error(ErrorCode::invalid_input, cat("flag `--", name, "` for ", kw, " needs a value (`--", name, "=...`)"));
    }
    out.add(name, *value);
  }
  return out;
}

}  // namespace kiln::parser
