#include "copy_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "solver/ops/copy_root.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::solver::ops::test {

bool is_root() { return ::geteuid() == 0; }

namespace {

void walk(const std::string& dir, const std::string& rel, std::map<std::string, std::string>& out) {
  Result<std::vector<std::string>> names = list_dir(dir);
  ASSERT_TRUE(names) << names.error().render();
  for (const std::string& n : *names) {
    std::string p = path_join(dir, n);
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    std::string desc = cat(st.st_mode, " ", st.st_uid, ":", st.st_gid, " ", st.st_size, " ", st.st_mtim.tv_sec, ".",
                           st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      Result<std::string> data = read_file(p);
      ASSERT_TRUE(data) << p;
      desc += " " + *data;
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n2 = ::readlink(p.c_str(), buf, sizeof buf);
      desc += " -> " + std::string(buf, static_cast<size_t>(std::max<ssize_t>(n2, 0)));
    }
    out[r] = desc;
    if (S_ISDIR(st.st_mode)) {
      walk(p, r, out);
    }
  }
}

void set_mtime(const std::string& path, int64_t mtime) {
  struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

}  // namespace

std::map<std::string, std::string> snapshot_tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  walk(dir, "", out);
  return out;
}

void write_tar(const std::string& path, const std::vector<TarEntry>& entries, const std::string& compression) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  if (compression == "gzip") {
    archive_write_add_filter_gzip(a.get());
  } else if (compression == "bzip2") {
    archive_write_add_filter_bzip2(a.get());
  } else if (compression == "xz") {
    archive_write_add_filter_xz(a.get());
  } else if (compression == "zstd") {
    archive_write_add_filter_zstd(a.get());
  }
  ASSERT_EQ(archive_write_open_filename(a.get(), path.c_str()), ARCHIVE_OK) << archive_error_string(a.get());
  for (const TarEntry& t : entries) {
    std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), t.name.c_str());
    archive_entry_set_perm(e.get(), t.mode);
    archive_entry_set_uid(e.get(), t.uid);
    archive_entry_set_gid(e.get(), t.gid);
    archive_entry_set_mtime(e.get(), t.mtime, 0);
    switch (t.type) {
      case 'd':
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_symlink(e.get(), t.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), t.data.c_str());
        break;
      default:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(t.data.size()));
    }
    ASSERT_EQ(archive_write_header(a.get(), e.get()), ARCHIVE_OK) << archive_error_string(a.get());
    if (t.type == 'f' && !t.data.empty()) {
      ASSERT_EQ(archive_write_data(a.get(), t.data.data(), t.data.size()), static_cast<la_ssize_t>(t.data.size()));
    }
  }
  ASSERT_EQ(archive_write_close(a.get()), ARCHIVE_OK);
}

void CopyTest::SetUp() {
  if (std::getenv("KILN_TEST_FORCE_WALK") != nullptr) {  // run everything as on a kernel without openat2
    detail::set_force_component_walk(true);
  }
  Result<TempDir> t = TempDir::create("", "kiln-copy-test-");
  ASSERT_TRUE(t) << t.error().render();
  m_tmp.emplace(std::move(*t));
  for (const char* d : {"ctx", "dest", "outside"}) {
    ASSERT_EQ(::mkdir(path_join(m_tmp->path(), d).c_str(), 0755), 0);
  }
  file(outside("secret"), "host secret\n", 0600);
  file(outside("victim"), "do not touch\n", 0644);
  m_outside_before = snapshot_tree(outside());
}

void CopyTest::TearDown() {
  EXPECT_EQ(snapshot_tree(outside()), m_outside_before) << "the outside tree changed";
}

std::string CopyTest::ctx(const std::string& rel) const {
  return rel.empty() ? path_join(m_tmp->path(), "ctx") : path_join(path_join(m_tmp->path(), "ctx"), rel);
}
std::string CopyTest::dest(const std::string& rel) const {
  return rel.empty() ? path_join(m_tmp->path(), "dest") : path_join(path_join(m_tmp->path(), "dest"), rel);
}
std::string CopyTest::outside(const std::string& rel) const {
  return rel.empty() ? path_join(m_tmp->path(), "outside") : path_join(path_join(m_tmp->path(), "outside"), rel);
}

void CopyTest::file(const std::string& path, const std::string& content, mode_t mode, std::optional<int64_t> mtime) {
  ASSERT_TRUE(make_dirs(path_dirname(path)));
  ASSERT_TRUE(write_file(path, content, mode));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  if (mtime) {
    set_mtime(path, *mtime);
  }
}

void CopyTest::dir(const std::string& path, mode_t mode, std::optional<int64_t> mtime) {
  ASSERT_TRUE(make_dirs(path));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  if (mtime) {
    set_mtime(path, *mtime);
  }
}

void CopyTest::link(const std::string& path, const std::string& target) {
  ASSERT_TRUE(make_dirs(path_dirname(path)));
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0) << path;
}

CopyRequest CopyTest::request(std::vector<std::string> sources, const std::string& dest_path) const {
  CopyRequest r;
  r.src_root = ctx();
  r.src_is_context = true;
  r.spec.sources = std::move(sources);
  r.spec.dest = dest_path;
  r.dest_root = dest();
  r.chown_errors = is_root() ? ChownErrors::fail : ChownErrors::ignore;
  return r;
}

CopyStats CopyTest::copy_ok(const CopyRequest& r) {
  Result<CopyStats> s = copy_files(r);
  EXPECT_TRUE(s) << s.error().render();
  EXPECT_EQ(snapshot_tree(outside()), m_outside_before) << "the outside tree changed";
  return s ? *s : CopyStats{};
}

std::string CopyTest::copy_err(const CopyRequest& r) {
  Result<CopyStats> s = copy_files(r);
  EXPECT_EQ(snapshot_tree(outside()), m_outside_before) << "the outside tree changed";
  return s ? std::string() : s.error().render();
}

std::string CopyTest::read(const std::string& path) {
  Result<std::string> d = read_file(path);
  return d ? *d : std::string("<missing>");
}

struct stat CopyTest::lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool CopyTest::exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string CopyTest::readlink_of(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string("<not a symlink>") : std::string(buf, static_cast<size_t>(n));
}

}  // namespace kiln::solver::ops::test
