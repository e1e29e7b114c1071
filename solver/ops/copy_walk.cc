#include "solver/ops/copy_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "solver/ops/copy_match.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops::detail {

using parser::DirAction;
using parser::IgnoreMatcher;
using parser::MatchInfo;

/// Per-directory match state handed to its entries (BuildKit's MatchInfo),
/// one per pattern set.
struct SourceWalker::Info {
  MatchInfo ignore;
  MatchInfo include;
  MatchInfo exclude;
};

/// A directory on the walk's stack: reported (emitted) to the visitor only
/// once something below it is selected, or when it is selected itself.
struct SourceWalker::Pending {
  WalkEntry entry;
  UniqueFd fd;
  bool emitted = false;
};

namespace {

Result<std::shared_ptr<const IgnoreMatcher>> compile(const std::vector<std::string>& patterns, std::string_view what) {
  if (patterns.empty()) {
    return std::shared_ptr<const IgnoreMatcher>();
  }
  Result<IgnoreMatcher> m = IgnoreMatcher::create(patterns);
  if (!m) {
    return std::move(m).error().wrap(cat("compile ", what));
  }
  return std::shared_ptr<const IgnoreMatcher>(std::make_shared<IgnoreMatcher>(std::move(*m)));
}

size_t count_components(std::string_view rel) {
  return rel.empty() ? 0 : static_cast<size_t>(std::count(rel.begin(), rel.end(), '/')) + 1;
}

bool starts_with_dir(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

// Whether an include pattern with this literal prefix can match dir or
// anything below it.
bool may_match_below(std::string_view prefix, std::string_view dir) {
  return prefix.empty() || dir == prefix || starts_with_dir(prefix, dir) || starts_with_dir(dir, prefix);
}

// The leading components of a pattern that have no wildcards.
std::string literal_prefix(std::string_view pattern) {
  return split_wildcards(pattern).first;
}

}  // namespace

Result<std::vector<std::string>> list_dir_fd(int fd, const std::string& what) {
  int dup_fd = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) {
    return Error::from_errno(cat("read directory `", what, "`"));
  }
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(dup_fd);
    return Error::from_errno(cat("read directory `", what, "`"), err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* d = ::readdir(dir)) {
    std::string_view n = d->d_name;
    if (n != "." && n != "..") {
      names.emplace_back(n);
    }
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) {
    return Error::from_errno(cat("read directory `", what, "`"), err);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<SourceWalker> SourceWalker::create(const RootDir& root, const Copy& spec, const std::vector<std::string>& ignore,
                                          bool is_context) {
  SourceWalker w;
  w.m_root = &root;
  w.m_sources = spec.sources;
  w.m_parents = spec.parents;
  w.m_context = is_context;
  KILN_TRY_ASSIGN(w.m_ignore, compile(ignore, "the ignore file"));
  KILN_TRY_ASSIGN(w.m_exclude, compile(spec.exclude, "--exclude patterns"));
  return w;
}

Error SourceWalker::not_found(const std::string& source, const std::string& matched, bool ignored) const {
  std::string msg = cat("copy source `", source, "` not found");
  if (!matched.empty() && !split_wildcards(path_clean(cat("/", source))).second.empty()) {
    msg = cat("copy source `", source, "` (matched `", matched, "`) not found");
  }
  Error e(ErrorCode::not_found, cat(msg, m_context ? " in the build context" : ""));
  if (ignored) {
    e.with_hint(cat("`", matched.empty() ? source : matched, "` is excluded by the ignore file (.dockerignore)"));
  }
  return e;
}

Result<std::string> SourceWalker::clean_source(const std::string& source) const {
  std::string_view s = source;
  while (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
  }
  std::string c = path_clean(s);
  if (c == "..") {
    c += "/";
  }
  if (c.rfind("../", 0) == 0) {
    return Error(ErrorCode::invalid_input,
                 cat("copy source `", source, "` is outside the ", m_context ? "build context" : "source filesystem"));
  }
  return c == "." ? std::string() : c;
}

Result<bool> SourceWalker::has_visible_descendant(const std::string& rel) const {
  KILN_TRY_ASSIGN(UniqueFd fd, m_root->open_dir(rel, O_RDONLY));
  KILN_TRY_ASSIGN(std::vector<std::string> names, list_dir_fd(fd.get(), display_path(rel)));
  for (const std::string& n : names) {
    std::string child = rel_join(rel, n);
    struct stat st {};
    if (::fstatat(fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // removed meanwhile
    }
    KILN_TRY_ASSIGN(bool vis, visible(child, st));
    if (vis) {
      return true;
    }
  }
  return false;
}

// Whether rel is part of the source tree as COPY sees it: not excluded by the
// ignore file, or an excluded directory that still holds something included
// (an exception), as BuildKit's context transfer sends such parents.
Result<bool> SourceWalker::visible(const std::string& rel, const struct stat& st) const {
  if (!m_ignore || rel.empty() || !m_ignore->matches(rel)) {
    return true;
  }
  if (!S_ISDIR(st.st_mode) || m_ignore->dir_action(rel, true) != DirAction::descend) {
    return false;
  }
  return has_visible_descendant(rel);
}

Result<CopyItem> SourceWalker::resolve_item(const std::string& rel, const std::string& source) const {
  KILN_TRY_ASSIGN(Resolved r, m_root->resolve(rel, FollowLast::yes).context(cat("copy source `", source, "`")));
  if (!r.exists) {
    return not_found(source, rel, false);
  }
  KILN_TRY_ASSIGN(bool vis, visible(r.rel, r.st));
  if (!vis) {
    return not_found(source, rel, true);
  }
  CopyItem item;
  item.source = source;
  item.base = rel.empty() ? std::string("/") : rel_basename(rel);
  item.rel = r.rel;
  item.st = r.st;
  return item;
}

Result<void> SourceWalker::glob(const std::string& head_rel, int head_fd, const std::string& under,
                                const std::string& pattern, size_t depth, const MatchInfo& info,
                                std::vector<std::string>& out) const {
  std::string dir_rel = rel_join(head_rel, under);
  KILN_TRY_ASSIGN(std::vector<std::string> names, list_dir_fd(head_fd, display_path(dir_rel)));
  for (const std::string& n : names) {
    std::string r = rel_join(under, n);
    std::string full = rel_join(head_rel, r);
    struct stat st {};
    if (::fstatat(head_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    MatchInfo child_info;
    bool ignored = m_ignore && m_ignore->matches(full, info, &child_info);
    bool vis = !ignored;
    if (ignored && S_ISDIR(st.st_mode) && m_ignore->dir_action(full, true) == DirAction::descend) {
      KILN_TRY_ASSIGN(vis, has_visible_descendant(full));
    }
    if (!vis) {
      continue;
    }
    if (glob_match(pattern, r)) {
      out.push_back(full);
      continue;  // a matched directory is copied whole, not searched
    }
    if (S_ISDIR(st.st_mode) && count_components(r) < depth) {
      int fd = ::openat(head_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        return Error::from_errno(cat("open directory `", display_path(full), "`"));
      }
      UniqueFd child(fd);
      KILN_TRY(glob(head_rel, child.get(), r, pattern, depth, child_info, out));
    }
  }
  return {};
}

Result<void> SourceWalker::expand_one(const std::string& source, std::vector<CopyItem>& out) const {
  KILN_TRY_ASSIGN(std::string rel, clean_source(source));
  auto [head, tail] = split_wildcards(rel);
  if (tail.empty()) {
    KILN_TRY_ASSIGN(CopyItem item, resolve_item(rel, source));
    out.push_back(std::move(item));
    return {};
  }
  KILN_TRY_ASSIGN(Resolved h, m_root->resolve(head, FollowLast::yes).context(cat("copy source `", source, "`")));
  if (!h.exists) {
    return not_found(source, "", false);
  }
  KILN_TRY_ASSIGN(bool vis, visible(h.rel, h.st));
  if (!vis) {
    return not_found(source, head, true);
  }
  if (!S_ISDIR(h.st.st_mode)) {
    return {};  // a file has nothing below it to match
  }
  KILN_TRY_ASSIGN(UniqueFd fd, m_root->open_dir(h.rel, O_RDONLY));
  MatchInfo info;
  if (m_ignore && !h.rel.empty()) {
    m_ignore->matches(h.rel, MatchInfo{}, &info);
  }
  std::vector<std::string> matches;
  size_t depth = static_cast<size_t>(std::count(tail.begin(), tail.end(), '/')) + 1;
  KILN_TRY(glob(h.rel, fd.get(), "", tail, depth, info, matches));
  for (const std::string& m : matches) {
    KILN_TRY_ASSIGN(CopyItem item, resolve_item(m, source));
    out.push_back(std::move(item));
  }
  return {};
}

// --parents: `pivot/./rest` keeps paths below pivot; without a pivot the
// whole source path is kept below the root (BuildKit dockerfile2llb).
Result<void> SourceWalker::expand_parents(const std::string& source, std::vector<CopyItem>& out) const {
  std::string pivot = "/";
  std::string pattern = source;
  if (size_t cut = source.find("/./"); cut != std::string::npos) {
    pivot = source.substr(0, cut);
    pattern = source.substr(cut + 3);
  }
  KILN_TRY_ASSIGN(std::string pivot_rel, clean_source(pivot));
  KILN_TRY_ASSIGN(std::string pattern_rel, clean_source(pattern));
  KILN_TRY_ASSIGN(CopyItem item, resolve_item(pivot_rel, source));
  if (!S_ISDIR(item.st.st_mode)) {
    return Error(ErrorCode::invalid_input, cat("copy source `", source, "`: `", pivot, "` is not a directory"));
  }
  if (!pattern_rel.empty()) {
    if (!has_wildcards(pattern_rel)) {
      // A literal path must exist (BuildKit skips it silently: moby/buildkit#4900).
      KILN_TRY_ASSIGN(Resolved r, m_root->resolve(rel_join(item.rel, pattern_rel), FollowLast::no));
      KILN_TRY_ASSIGN(bool vis, r.exists ? visible(r.rel, r.st) : Result<bool>(false));
      if (!vis) {
        return not_found(source, rel_join(pivot_rel, pattern_rel), r.exists);
      }
    }
    KILN_TRY_ASSIGN(item.include, compile({pattern_rel}, cat("--parents source `", source, "`")));
    item.include_prefix = literal_prefix(pattern_rel);
  }
  out.push_back(std::move(item));
  return {};
}

Result<std::vector<CopyItem>> SourceWalker::expand() const {
  std::vector<CopyItem> out;
  for (const std::string& s : m_sources) {
    if (m_parents) {
      KILN_TRY(expand_parents(s, out));
    } else {
      KILN_TRY(expand_one(s, out));
    }
  }
  return out;
}

Result<void> SourceWalker::walk(const CopyItem& item, WalkVisitor& v) const {
  if (!S_ISDIR(item.st.st_mode)) {
    KILN_TRY_ASSIGN(UniqueFd parent, m_root->open_dir(rel_dirname(item.rel), O_RDONLY));
    WalkEntry e;
    e.rel = item.rel;
    e.name = rel_basename(item.rel);
    e.parent_fd = parent.get();
    if (::fstatat(parent.get(), e.name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::from_errno(cat("stat copy source `", display_path(item.rel), "`"));
    }
    return v.leaf(e);
  }
  std::vector<Pending> stack(1);
  Pending& top = stack.back();
  KILN_TRY_ASSIGN(top.fd, m_root->open_dir(item.rel, O_RDONLY));
  top.entry.rel = item.rel;
  top.entry.name = rel_basename(item.rel);
  if (::fstat(top.fd.get(), &top.entry.st) != 0) {
    return Error::from_errno(cat("stat copy source `", display_path(item.rel), "`"));
  }
  top.emitted = true;
  Info info;
  if (m_ignore && !item.rel.empty()) {
    m_ignore->matches(item.rel, MatchInfo{}, &info.ignore);
  }
  KILN_TRY(v.enter_dir(top.entry, top.fd.get()));
  KILN_TRY(walk_dir(item, stack, info, v));
  return v.leave_dir(stack.front().entry, stack.front().fd.get());
}

Result<void> SourceWalker::walk_dir(const CopyItem& item, std::vector<Pending>& stack, const Info& info,
                                    WalkVisitor& v) const {
  const std::string dir_rel = stack.back().entry.rel;
  const std::string dir_dest = stack.back().entry.dest_rel;
  const int dir_fd = stack.back().fd.get();
  KILN_TRY_ASSIGN(std::vector<std::string> names, list_dir_fd(dir_fd, display_path(dir_rel)));
  auto emit_pending = [&]() -> Result<void> {
    for (Pending& p : stack) {
      if (!p.emitted) {
        p.emitted = true;
        KILN_TRY(v.enter_dir(p.entry, p.fd.get()));
      }
    }
    return {};
  };
  for (const std::string& n : names) {
    WalkEntry e;
    e.rel = rel_join(dir_rel, n);
    e.dest_rel = rel_join(dir_dest, n);
    e.name = n;
    e.parent_fd = dir_fd;
    if (::fstatat(dir_fd, n.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;  // removed since the listing
      }
      return Error::from_errno(cat("stat `", display_path(e.rel), "`"));
    }
    Info ci;
    bool ignored = m_ignore && m_ignore->matches(e.rel, info.ignore, &ci.ignore);
    bool included = !item.include || item.include->matches(e.dest_rel, info.include, &ci.include);
    bool excluded = m_exclude && m_exclude->matches(e.dest_rel, info.exclude, &ci.exclude);
    bool selected = !ignored && included && !excluded;
    if (!S_ISDIR(e.st.st_mode)) {
      if (selected) {
        KILN_TRY(emit_pending());
        KILN_TRY(v.leaf(e));
      }
      continue;
    }
    bool descend = selected || ((!ignored || m_ignore->dir_action(e.rel, true) != DirAction::skip) &&
                                (included || may_match_below(item.include_prefix, e.dest_rel)) &&
                                (!excluded || m_exclude->dir_action(e.dest_rel, true) != DirAction::skip));
    if (!descend) {
      continue;
    }
    int fd = ::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return Error::from_errno(cat("open directory `", display_path(e.rel), "`"));
    }
    stack.push_back(Pending{std::move(e), UniqueFd(fd), false});
    if (selected) {
      KILN_TRY(emit_pending());
    }
    KILN_TRY(walk_dir(item, stack, ci, v));
    Pending done = std::move(stack.back());
    stack.pop_back();
    if (done.emitted) {
      KILN_TRY(v.leave_dir(done.entry, done.fd.get()));
    }
  }
  return {};
}

}  // namespace kiln::solver::ops::detail
