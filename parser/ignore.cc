#include "parser/ignore.h"

#include <re2/re2.h>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::parser {

namespace {
enum class MatchType { exact, prefix, suffix, regexp };

// Go's filepath.Match syntax check: `[` classes must be well formed and a
// `\` must escape something.
bool valid_glob(std::string_view p) {
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (++i >= p.size()) {
        return false;
      }
      continue;
    }
    if (c != '[') {
      continue;
    }
    ++i;
    if (i < p.size() && p[i] == '^') {
      ++i;
    }
    int ranges = 0;
    while (true) {
      if (i < p.size() && p[i] == ']' && ranges > 0) {
        break;
      }
      auto esc_char = [&]() {
        if (i >= p.size() || p[i] == '-' || p[i] == ']') {
          return false;
        }
        if (p[i] == '\\' && ++i >= p.size()) {
          return false;
        }
        ++i;
        return true;
      };
      if (!esc_char()) {
        return false;
      }
      if (i < p.size() && p[i] == '-') {
        ++i;
        if (!esc_char()) {
          return false;
        }
      }
      ++ranges;
    }
  }
  return true;
}
}  // namespace

struct IgnoreMatcher::Pattern {
  std::string cleaned;
  bool exception = false;
  MatchType type = MatchType::exact;
  std::unique_ptr<RE2> re;

  bool match(std::string_view path) const {
    switch (type) {
      case MatchType::exact:
        return path == cleaned;
      case MatchType::prefix:
        return path.substr(0, cleaned.size() - 2) == std::string_view(cleaned).substr(0, cleaned.size() - 2);
      case MatchType::suffix: {
        std::string_view suffix = std::string_view(cleaned).substr(2);
        if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) {
          return true;
        }
        return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
      }
      case MatchType::regexp:
        return RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *re);
    }
    return false;
  }

  // patternmatcher's compile(): the regexp, and the cheaper match types
  // for patterns that need no regexp.
  Result<void> compile() {
    std::string re_str = "^";
    type = MatchType::exact;
    const std::string& p = cleaned;
    for (size_t i = 0; i < p.size(); ++i) {
      char ch = p[i];
      if (ch == '*') {
        if (i + 1 < p.size() && p[i + 1] == '*') {
          size_t at = i;
          ++i;
          if (i + 1 < p.size() && p[i + 1] == '/') {
            ++i;
          }
          if (i + 1 >= p.size()) {
            if (type == MatchType::exact) {
              type = MatchType::prefix;
            } else {
              re_str += ".*";
              type = MatchType::regexp;
            }
          } else {
            re_str += "(.*/)?";
            type = MatchType::regexp;
          }
          if (at == 0) {
            type = MatchType::suffix;
          }
        } else {
          re_str += "[^/]*";
          type = MatchType::regexp;
        }
      } else if (ch == '?') {
        re_str += "[^/]";
        type = MatchType::regexp;
      } else if (ch == '.' || ch == '+' || ch == '(' || ch == ')' || ch == '|' || ch == '{' || ch == '}' ||
                 ch == '$') {
        re_str += '\\';
        re_str += ch;
      } else if (ch == '\\') {
        if (i + 1 < p.size()) {
          re_str += '\\';
          re_str += p[++i];
          type = MatchType::regexp;
        } else {
          re_str += "\\\\";
        }
      } else if (ch == '[' || ch == ']') {
        re_str += ch;
        type = MatchType::regexp;
      } else {
        re_str += ch;
      }
    }
    if (type != MatchType::regexp) {
      return {};
    }
    re_str += "$";
    RE2::Options opts;
    opts.set_log_errors(false);
    re = std::make_unique<RE2>(re_str, opts);
    if (!re->ok()) {
      return Error(ErrorCode::invalid_input, cat("compile ignore pattern `", cleaned, "`: ", re->error()));
    }
    return {};
  }
};

std::vector<std::string> read_ignore_patterns(std::string_view text) {
  std::vector<std::string> out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  for (const std::string& raw : split(text, '\n')) {
    std::string_view line = raw;
    if (!line.empty() && line[0] == '#') {
      continue;
    }
    line = trim(line);
    if (line.empty()) {
      continue;
    }
    bool invert = line[0] == '!';
    if (invert) {
      line = trim(line.substr(1));
    }
    std::string pattern(line);
    if (!pattern.empty()) {
      pattern = path_clean(pattern);
      if (pattern.size() > 1 && pattern[0] == '/') {
        pattern.erase(0, 1);
      }
    }
    out.push_back(invert ? "!" + pattern : pattern);
  }
  return out;
}

std::vector<std::string> ignore_file_candidates(std::string_view dockerfile_path) {
  std::vector<std::string> out;
  if (!dockerfile_path.empty()) {
    out.push_back(cat(dockerfile_path, ".containerignore"));
    out.push_back(cat(dockerfile_path, ".dockerignore"));
  }
  out.emplace_back(".containerignore");
  out.emplace_back(".dockerignore");
  return out;
}

IgnoreMatcher::IgnoreMatcher() = default;
IgnoreMatcher::IgnoreMatcher(IgnoreMatcher&&) noexcept = default;
IgnoreMatcher& IgnoreMatcher::operator=(IgnoreMatcher&&) noexcept = default;
IgnoreMatcher::~IgnoreMatcher() = default;

Result<IgnoreMatcher> IgnoreMatcher::create(const std::vector<std::string>& patterns) {
  IgnoreMatcher m;
  for (const std::string& raw : patterns) {
    std::string p(trim(raw));
    if (p.empty()) {
      continue;
    }
    p = path_clean(p);
    auto pat = std::make_unique<Pattern>();
    if (p[0] == '!') {
      if (p.size() == 1) {
        return Error(ErrorCode::invalid_input, "illegal exclusion pattern: \"!\"");
      }
      pat->exception = true;
      p.erase(0, 1);
      m.m_exceptions = true;
    }
    if (!valid_glob(p)) {
      return Error(ErrorCode::invalid_input, cat("syntax error in ignore pattern `", p, "`"));
    }
    pat->cleaned = std::move(p);
    KILN_TRY(pat->compile());
    if (pat->exception) {
      std::string_view s = pat->cleaned;
      for (std::string_view suffix : {"/**", "/*"}) {
        if (s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
          s.remove_suffix(suffix.size());
          break;
        }
      }
      if (s.find_first_of("*?[\\") != std::string_view::npos) {
        m.m_prefix_only_exceptions = false;
      }
    }
    m.m_patterns.push_back(std::move(pat));
  }
  return m;
}

Result<IgnoreMatcher> IgnoreMatcher::from_text(std::string_view text) {
  return create(read_ignore_patterns(text));
}

bool IgnoreMatcher::matches(std::string_view path) const { return matches(path, MatchInfo{}, nullptr); }

bool IgnoreMatcher::matches(std::string_view path_in, const MatchInfo& parent, MatchInfo* info) const {
  std::string path = path_clean(path_in);
  if (path.size() > 1 && path[0] == '/') {
    path.erase(0, 1);
  }
  bool use_parent = parent.parent_matched.size() == m_patterns.size() && !m_patterns.empty();
  if (info != nullptr) {
    info->parent_matched.assign(m_patterns.size(), false);
  }
  size_t slash = path.rfind('/');
  bool matched = false;
  for (size_t i = 0; i < m_patterns.size(); ++i) {
    const Pattern& p = *m_patterns[i];
    bool match = use_parent && parent.parent_matched[i];
    if (!match) {
      if (p.exception != matched) {
        continue;
      }
      match = p.match(path);
      if (!match && !use_parent && slash != std::string::npos) {
        // Any parent directory matching counts.
        for (size_t end = path.find('/'); end != std::string::npos && end <= slash; end = path.find('/', end + 1)) {
          if (p.match(std::string_view(path).substr(0, end))) {
            match = true;
            break;
          }
        }
      }
    }
    if (info != nullptr) {
      info->parent_matched[i] = match;
    }
    if (match) {
      matched = !p.exception;
    }
  }
  return matched;
}

DirAction IgnoreMatcher::dir_action(std::string_view dir) const { return dir_action(dir, matches(dir)); }

DirAction IgnoreMatcher::dir_action(std::string_view dir_in, bool excluded) const {
  if (!excluded) {
    return DirAction::include;
  }
  if (!m_exceptions) {
    return DirAction::skip;
  }
  if (!m_prefix_only_exceptions) {
    return DirAction::descend;
  }
  std::string dir_slash = path_clean(dir_in) + "/";
  for (const auto& p : m_patterns) {
    if (p->exception && (p->cleaned + "/").rfind(dir_slash, 0) == 0) {
      return DirAction::descend;
    }
  }
  return DirAction::skip;
}

bool IgnoreMatcher::has_exceptions() const { return m_exceptions; }
size_t IgnoreMatcher::size() const { return m_patterns.size(); }

}  // namespace kiln::parser
