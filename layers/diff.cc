#include "layers/diff.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "layers/snapshot_walk.h"
#include "util/strings.h"

namespace kiln::layers {

using detail::Entry;
using detail::Xattrs;

namespace {

using ChangeFn = std::function<Result<void>(ChangeKind, const Entry&)>;

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : cat(prefix, "/", name);
}

Result<UniqueFd> open_root(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? ErrorCode::not_found : ErrorCode::syscall, cat("open directory `", dir, "`"), err);
  }
  return UniqueFd(fd);
}

Result<std::string> read_link(int dirfd, const std::string& name, const struct stat& st) {
  std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
  if (n < 0) {
    return Error::from_errno(cat("read symlink `", name, "`"));
  }
  target.resize(static_cast<size_t>(n));
  return target;
}

Result<bool> same_content(int a, int b, off_t size) {
  std::vector<char> ba(1 << 16);
  std::vector<char> bb(1 << 16);
  for (off_t off = 0; off < size;) {
    ssize_t na = ::pread(a, ba.data(), ba.size(), off);
    ssize_t nb = ::pread(b, bb.data(), bb.size(), off);
    if (na < 0 || nb < 0) {
      return Error::from_errno("compare file contents");
    }
    if (na != nb || na == 0 || std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0) {
      return na == 0 && nb == 0;
    }
    off += na;
  }
  return true;
}

// One side of a compared entry.
struct Side {
  struct stat st {};
  UniqueFd fd;
  Xattrs xattrs;
};

class PairWalker {
 public:
  explicit PairWalker(ChangeFn fn) : m_fn(std::move(fn)) {}

  Result<void> compare_dirs(int lfd, int nfd, const std::string& prefix) {
    KILN_TRY_ASSIGN(auto lnames, detail::sorted_children(lfd, cat("lower/", prefix)));
    KILN_TRY_ASSIGN(auto nnames, detail::sorted_children(nfd, prefix.empty() ? "." : prefix));
    std::vector<std::string> added;  // in nnames order: new or of a new type
    std::vector<std::string> both;
    size_t i = 0;
    for (const auto& n : nnames) {
      while (i < lnames.size() && lnames[i] < n) {
        KILN_TRY(deleted(join_path(prefix, lnames[i++])));
      }
      if (i < lnames.size() && lnames[i] == n) {
        ++i;
        both.push_back(n);
      } else {
        added.push_back(n);
      }
    }
    while (i < lnames.size()) {
      KILN_TRY(deleted(join_path(prefix, lnames[i++])));
    }
    // Type changes: the whiteout goes with the other deletions, first.
    std::vector<std::pair<std::string, struct stat>> lstats;
    for (const auto& n : both) {
      struct stat ls {};
      struct stat ns {};
      if (::fstatat(lfd, n.c_str(), &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
          ::fstatat(nfd, n.c_str(), &ns, AT_SYMLINK_NOFOLLOW) != 0) {
        return Error::from_errno(cat("stat `", join_path(prefix, n), "`"));
      }
      if ((ls.st_mode & S_IFMT) != (ns.st_mode & S_IFMT)) {
        KILN_TRY(deleted(join_path(prefix, n)));
      }
      lstats.emplace_back(n, ls);
    }
    size_t b = 0;
    for (const auto& n : nnames) {
      if (b < both.size() && both[b] == n) {
        KILN_TRY(compare_entry(lfd, nfd, prefix, n, lstats[b].second));
        ++b;
      } else {
        KILN_TRY(add_tree(nfd, prefix, n));
      }
    }
    return {};
  }

 private:
  struct Pending {
    Entry entry;
    bool emitted = false;
  };

  Result<void> emit(ChangeKind kind, const Entry& e) {
    for (auto& p : m_parents) {  // ancestors first, so the layer records their metadata
      if (!p->emitted) {
        p->emitted = true;
        KILN_TRY(m_fn(ChangeKind::modified, p->entry));
      }
    }
    return m_fn(kind, e);
  }

  Result<void> deleted(const std::string& path) {
    Entry e;
    e.path = path;
    return emit(ChangeKind::deleted, e);
  }

  Result<Side> load(int dirfd, const std::string& name, const std::string& path) {
    Side s;
    if (::fstatat(dirfd, name.c_str(), &s.st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::from_errno(cat("stat `", path, "`"));
    }
    if (S_ISDIR(s.st.st_mode) || S_ISREG(s.st.st_mode)) {
      KILN_TRY_ASSIGN(s.fd, detail::open_entry(dirfd, name, S_ISDIR(s.st.st_mode), path));
    }
    if (!S_ISSOCK(s.st.st_mode)) {
      KILN_TRY_ASSIGN(s.xattrs, detail::layer_xattrs(s.fd.get(), dirfd, name, nullptr));
    }
    return s;
  }

  static Entry make_entry(int dirfd, const std::string& prefix, const std::string& name, const Side& s) {
    Entry e;
    e.path = join_path(prefix, name);
    e.st = s.st;
    e.fd = s.fd.get();
    e.dirfd = dirfd;
    e.name = name;
    e.xattrs = s.xattrs;
    return e;
  }

  Result<void> add_tree(int nfd, const std::string& prefix, const std::string& name) {
    std::string path = join_path(prefix, name);
    KILN_TRY_ASSIGN(Side s, load(nfd, name, path));
    KILN_TRY(emit(ChangeKind::added, make_entry(nfd, prefix, name, s)));
    if (S_ISDIR(s.st.st_mode)) {
      KILN_TRY_ASSIGN(auto names, detail::sorted_children(s.fd.get(), path));
      for (const auto& child : names) {
        KILN_TRY(add_tree(s.fd.get(), path, child));
      }
    }
    return {};
  }

  Result<bool> same(int lfd, int nfd, const std::string& name, Side& l, Side& n) {
    const struct stat& a = l.st;
    const struct stat& b = n.st;
    if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid || l.xattrs != n.xattrs ||
        a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec) {
      return false;
    }
    if (S_ISDIR(a.st_mode)) {
      return true;
    }
    if (a.st_size != b.st_size || a.st_rdev != b.st_rdev) {
      return false;
    }
    if (S_ISLNK(a.st_mode)) {
      KILN_TRY_ASSIGN(auto lt, read_link(lfd, name, a));
      KILN_TRY_ASSIGN(auto nt, read_link(nfd, name, b));
      return lt == nt;
    }
    if (S_ISREG(a.st_mode) && a.st_mtim.tv_nsec == 0) {
      return same_content(l.fd.get(), n.fd.get(), a.st_size);
    }
    return true;
  }

  Result<void> compare_entry(int lfd, int nfd, const std::string& prefix, const std::string& name,
                             const struct stat& lst) {
    std::string path = join_path(prefix, name);
    KILN_TRY_ASSIGN(Side n, load(nfd, name, path));
    if ((lst.st_mode & S_IFMT) != (n.st.st_mode & S_IFMT)) {
      return add_tree(nfd, prefix, name);  // its whiteout was emitted with the deletions
    }
    KILN_TRY_ASSIGN(Side l, load(lfd, name, cat("lower/", path)));
    KILN_TRY_ASSIGN(bool unchanged, same(lfd, nfd, name, l, n));
    Entry e = make_entry(nfd, prefix, name, n);
    if (!S_ISDIR(n.st.st_mode)) {
      return unchanged ? Result<void>() : emit(ChangeKind::modified, e);
    }
    if (!unchanged) {
      KILN_TRY(emit(ChangeKind::modified, e));
    }
    m_parents.push_back(std::make_unique<Pending>(Pending{e, !unchanged}));
    auto r = compare_dirs(l.fd.get(), n.fd.get(), path);
    m_parents.pop_back();
    return r;
  }

  ChangeFn m_fn;
  std::vector<std::unique_ptr<Pending>> m_parents;  // the directories being compared, outermost first
};

Result<void> run_pair(const std::string& lower, const std::string& upper, ChangeFn fn) {
  KILN_TRY_ASSIGN(UniqueFd lfd, open_root(lower));
  KILN_TRY_ASSIGN(UniqueFd nfd, open_root(upper));
  return PairWalker(std::move(fn)).compare_dirs(lfd.get(), nfd.get(), "");
}

}  // namespace

Result<void> diff(const std::string& lower_dir, const std::string& new_dir, const ChangeVisitor& visit) {
  return run_pair(lower_dir, new_dir, [&](ChangeKind kind, const Entry& e) {
    Change c;
    c.kind = kind;
    c.path = e.path;
    if (kind != ChangeKind::deleted) {
      c.st = e.st;
    }
    return visit(c);
  });
}

namespace detail {

Result<void> walk_tree_pair(const std::string& lower, const std::string& upper, EntrySink& sink) {
  return run_pair(lower, upper, [&](ChangeKind kind, const Entry& e) {
    return kind == ChangeKind::deleted ? sink.whiteout(e.path) : sink.entry(e);
  });
}

}  // namespace detail

}  // namespace kiln::layers
