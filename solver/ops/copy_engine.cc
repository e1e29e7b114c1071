#include "solver/ops/copy_engine.h"

#include <fcntl.h>
#include <unistd.h>

#include "solver/ops/copy_archive.h"
#include "solver/ops/copy_mode.h"
#include "solver/ops/copy_place.h"
#include "solver/ops/copy_root.h"
#include "solver/ops/copy_walk.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops {

using detail::CopyItem;
using detail::FollowLast;
using detail::Placer;
using detail::Resolved;
using detail::RootDir;
using detail::SourceWalker;
using detail::WalkEntry;

namespace {

// dest as a path relative to the destination root, and whether it names a
// directory (a trailing '/' or '/.', or the root itself).
std::pair<std::string, bool> dest_of(const std::string& dest) {
  std::string_view d = dest;
  bool is_dir = d.empty() || d.back() == '/' || d == "." || (d.size() >= 2 && d.substr(d.size() - 2) == "/.");
  std::string rel = path_clean(cat("/", dest)).substr(1);
  return {rel, is_dir || rel.empty()};
}

// ADD: a regular file that is a tar archive is extracted into dest (a
// directory then, created like dest's parents) instead of copied.
Result<bool> try_unpack(const RootDir& src, const CopyItem& item, const RootDir& dst, const std::string& dest_rel,
                        Placer& placer, const CopyRequest& req, CopyStats& stats, detail::CopyWarnings& warned) {
  KILN_TRY_ASSIGN(UniqueFd fd, src.open_file(item.rel, O_RDONLY | O_NONBLOCK));  // never blocks on a fifo swapped in
  std::string what = item.rel.empty() ? item.source : item.rel;
  KILN_TRY_ASSIGN(bool archive, detail::is_tar_archive(fd.get(), what));
  if (!archive) {
    return false;
  }
  KILN_TRY_ASSIGN(Resolved d, dst.resolve(dest_rel, FollowLast::yes));
  auto hook = [&](int dir_fd, const std::string& rel) { return placer.on_created_dir(dir_fd, rel); };
  KILN_TRY_ASSIGN(UniqueFd target_fd, dst.make_dirs(d.rel, hook));
  KILN_TRY_ASSIGN(RootDir target, RootDir::from_fd(std::move(target_fd), detail::display_path(d.rel)));
  KILN_TRY(detail::extract_archive(fd.get(), target, what, req.chown_errors, stats, warned));
  return true;
}

Result<void> place_item(const SourceWalker& walker, const CopyItem& item, const RootDir& dst,
                        const std::string& dest_rel, Placer& placer) {
  KILN_TRY_ASSIGN(Resolved d, dst.resolve(dest_rel, FollowLast::yes));
  bool dest_is_dir = d.exists && S_ISDIR(d.st.st_mode);
  auto hook = [&](int fd, const std::string& rel) { return placer.on_created_dir(fd, rel); };
  if (S_ISDIR(item.st.st_mode)) {
    if (d.exists && !dest_is_dir) {
      return Error(ErrorCode::invalid_input, cat("cannot copy to non-directory: `", detail::display_path(d.rel), "`"),
                   ENOTDIR);
    }
    KILN_TRY_ASSIGN(UniqueFd target, dst.make_dirs(d.rel, hook));
    placer.set_dir_target(std::move(target), d.rel);
  } else {
    std::string target_rel = dest_is_dir ? detail::rel_join(d.rel, item.base) : d.rel;
    std::string parent_rel = detail::rel_dirname(target_rel);
    KILN_TRY_ASSIGN(UniqueFd parent, dst.make_dirs(parent_rel, hook));
    placer.set_leaf_target(std::move(parent), parent_rel, detail::rel_basename(target_rel));
  }
  return walker.walk(item, placer);
}

// Docker's rule for several sources (counted after wildcards).
Result<void> check_sources_fit(const Copy& spec, size_t items, bool dest_is_dir) {
  if (items > 1 && !dest_is_dir) {
    return Error(ErrorCode::invalid_input, cat("When using ", spec.add ? "ADD" : "COPY",
                                               " with more than one source file, the destination must be a "
                                               "directory and end with a /"));
  }
  return {};
}

// Collects what the walker reports, for select_context_files.
class Selector final : public detail::WalkVisitor {
 public:
  Selector(std::vector<SelectedEntry>& out, const CopyItem& item) : m_out(out), m_item(item) {}
  Result<void> enter_dir(const WalkEntry& e, int /*fd*/) override { return add(e); }
  Result<void> leave_dir(const WalkEntry& /*e*/, int /*fd*/) override { return {}; }
  Result<void> leaf(const WalkEntry& e) override { return add(e); }

 private:
  Result<void> add(const WalkEntry& e) {
    SelectedEntry s;
    s.path = e.rel;
    s.source_root = e.dest_rel.empty();
    s.dest_path = s.source_root && !S_ISDIR(e.st.st_mode) ? m_item.base : e.dest_rel;
    s.mode = e.st.st_mode;
    s.uid = e.st.st_uid;
    s.gid = e.st.st_gid;
    s.size = static_cast<uint64_t>(e.st.st_size);
    s.dev = e.st.st_dev;
    s.ino = e.st.st_ino;
    s.nlink = e.st.st_nlink;
    s.rdev = e.st.st_rdev;
    s.mtime_ns = static_cast<int64_t>(e.st.st_mtim.tv_sec) * 1000000000 + e.st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<int64_t>(e.st.st_ctim.tv_sec) * 1000000000 + e.st.st_ctim.tv_nsec;
    if (S_ISLNK(e.st.st_mode)) {
      std::string target(static_cast<size_t>(e.st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(e.parent_fd, e.name.c_str(), target.data(), target.size());
      if (n < 0) {
        return Error::from_errno(cat("read symlink `", detail::display_path(e.rel), "`"));
      }
      target.resize(static_cast<size_t>(n));
      s.link_target = std::move(target);
    }
    m_out.push_back(std::move(s));
    return {};
  }
  std::vector<SelectedEntry>& m_out;
  const CopyItem& m_item;
};

}  // namespace

Result<CopyStats> copy_files(const CopyRequest& req) {
  const Copy& spec = req.spec;
  KILN_TRY_ASSIGN(RootDir src, RootDir::open(req.src_root));
  std::vector<std::string> no_ignore;
  KILN_TRY_ASSIGN(SourceWalker walker,
                  SourceWalker::create(src, spec, req.src_is_context ? req.ignore : no_ignore, req.src_is_context));
  KILN_TRY_ASSIGN(std::vector<CopyItem> items, walker.expand());
  auto [dest_rel, dest_is_dir] = dest_of(spec.dest);
  KILN_TRY(check_sources_fit(spec, items.size(), dest_is_dir));
  Placer::Options opts;
  opts.owner = req.owner;
  opts.src_is_context = req.src_is_context;
  opts.chown_errors = req.chown_errors;
  if (!spec.chmod.empty()) {
    KILN_TRY_ASSIGN(opts.chmod, detail::ChmodSpec::parse(spec.chmod));
  }
  CopyStats stats;
  if (items.empty()) {
    return stats;  // a wildcard that matched nothing
  }
  KILN_TRY_ASSIGN(RootDir dst, RootDir::open(req.dest_root));
  detail::CopyWarnings warned;
  Placer placer(dst, std::move(opts), stats, warned);
  auto hook = [&](int fd, const std::string& rel) { return placer.on_created_dir(fd, rel); };
  // dest's parent, or dest itself when it ends with '/', exists before
  // anything is placed (fsutil copy.Copy).
  KILN_TRY(dst.make_dirs(dest_is_dir ? dest_rel : detail::rel_dirname(dest_rel), hook)
               .context(cat("create destination `", spec.dest, "`")));
  for (const CopyItem& item : items) {
    if (spec.unpack && S_ISREG(item.st.st_mode)) {
      KILN_TRY_ASSIGN(bool unpacked, try_unpack(src, item, dst, dest_rel, placer, req, stats, warned));
      if (unpacked) {
        continue;
      }
    }
    KILN_TRY(place_item(walker, item, dst, dest_rel, placer));
  }
  return stats;
}

Result<std::vector<SelectedEntry>> select_context_files(const std::string& src_root, const Copy& spec,
                                                        const std::vector<std::string>& ignore) {
  KILN_TRY_ASSIGN(RootDir src, RootDir::open(src_root));
  KILN_TRY_ASSIGN(SourceWalker walker, SourceWalker::create(src, spec, ignore, true));
  KILN_TRY_ASSIGN(std::vector<CopyItem> items, walker.expand());
  KILN_TRY(check_sources_fit(spec, items.size(), dest_of(spec.dest).second));
  std::vector<SelectedEntry> out;
  for (const CopyItem& item : items) {
    Selector sel(out, item);
    KILN_TRY(walker.walk(item, sel));
  }
  return out;
}

}  // namespace kiln::solver::ops
