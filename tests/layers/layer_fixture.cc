#include "tests/layers/layer_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::layers::test {

void TempDirTest::SetUp() {
  auto t = TempDir::create("", "kiln-layers-");
  ASSERT_TRUE(t.has_value());
  m_tmp.emplace(std::move(*t));
}

std::string TempDirTest::path(const std::string& name) const { return path_join(m_tmp->path(), name); }

bool is_root() { return ::geteuid() == 0; }

void put_file(const std::string& root, const std::string& rel, const std::string& content, mode_t mode) {
  std::string p = path_join(root, rel);
  ASSERT_TRUE(make_dirs(path_dirname(p)).has_value());
  ::unlink(p.c_str());
  auto r = write_file(p, content, mode);
  ASSERT_TRUE(r.has_value()) << r.error().render();
  ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
}

void put_dir(const std::string& root, const std::string& rel, mode_t mode) {
  std::string p = path_join(root, rel);
  ASSERT_TRUE(make_dirs(p).has_value());
  ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
}

void put_symlink(const std::string& root, const std::string& rel, const std::string& target) {
  std::string p = path_join(root, rel);
  ASSERT_TRUE(make_dirs(path_dirname(p)).has_value());
  ASSERT_EQ(::symlink(target.c_str(), p.c_str()), 0) << p;
}

void put_hardlink(const std::string& root, const std::string& existing, const std::string& rel) {
  std::string p = path_join(root, rel);
  ASSERT_TRUE(make_dirs(path_dirname(p)).has_value());
  ASSERT_EQ(::link(path_join(root, existing).c_str(), p.c_str()), 0) << p;
}

void put_whiteout(const std::string& root, const std::string& rel) {
  std::string p = path_join(root, rel);
  ASSERT_TRUE(make_dirs(path_dirname(p)).has_value());
  ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << p << ": " << std::strerror(errno);
}

void put_xattr(const std::string& root, const std::string& rel, const std::string& name, const std::string& value) {
  std::string p = path_join(root, rel);
  ASSERT_EQ(::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0), 0)
      << p << " " << name << ": " << std::strerror(errno);
}

void set_mtime(const std::string& root, const std::string& rel, int64_t sec, int64_t nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path_join(root, rel).c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << rel;
}

namespace {

std::string xattr_text(const std::string& path, bool with_overlay) {
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  std::vector<std::string> out;
  for (ssize_t pos = 0; n > 0 && pos < n;) {
    std::string name(names + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    if (!with_overlay && (name.starts_with("user.overlay.") || name.starts_with("trusted.overlay."))) {
      continue;
    }
    if (name == "security.selinux") {
      continue;
    }
    char value[4096];
    ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
    out.push_back(cat(name, "=", hex_encode(std::string_view(value, v > 0 ? static_cast<size_t>(v) : 0))));
  }
  std::sort(out.begin(), out.end());
  return join(out, ",");
}

void describe_into(const std::string& root, const std::string& rel, Describe how, bool with_overlay,
                   std::map<std::string, std::string>& out, std::map<std::pair<dev_t, ino_t>, std::string>& links) {
  std::string p = rel.empty() ? root : path_join(root, rel);
  struct stat st {};
  ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
  std::string line = cat("mode=", std::oct, st.st_mode, std::dec, " owner=", st.st_uid, ":", st.st_gid);
  if (!S_ISDIR(st.st_mode) || how == Describe::full) {
    line += cat(" mtime=", st.st_mtim.tv_sec);
  }
  if (S_ISREG(st.st_mode)) {
    auto content = read_file(p);
    ASSERT_TRUE(content.has_value());
    line += cat(" size=", st.st_size, " sha=", sha256_hex(*content).substr(0, 12));
    if (st.st_nlink > 1) {
      auto [it, inserted] = links.try_emplace({st.st_dev, st.st_ino}, rel);
      line += cat(" link=", it->second);
    }
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(p.c_str(), target, sizeof target);
    line += cat(" -> ", std::string(target, n > 0 ? static_cast<size_t>(n) : 0));
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    line += cat(" dev=", major(st.st_rdev), ",", minor(st.st_rdev));
  }
  line += cat(" xattrs=", xattr_text(p, with_overlay));
  out[rel.empty() ? "." : rel] = line;
  if (S_ISDIR(st.st_mode)) {
    auto names = list_dir(p);
    ASSERT_TRUE(names.has_value());
    for (const auto& name : *names) {
      describe_into(root, rel.empty() ? name : rel + "/" + name, how, with_overlay, out, links);
    }
  }
}

}  // namespace

std::map<std::string, std::string> describe_tree(const std::string& root, Describe how, bool with_overlay_xattrs) {
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> links;
  describe_into(root, "", how, with_overlay_xattrs, out, links);
  return out;
}

std::vector<TarEntry> read_tar(const std::string& path) {
  std::vector<TarEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK) << archive_error_string(a);
  struct archive_entry* ae = nullptr;
  int rc = 0;
  // ARCHIVE_WARN: a UTF-8 name in the test's C locale; the raw name is kept.
  while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    TarEntry e;
    e.name = archive_entry_pathname(ae);
    e.mode = archive_entry_mode(ae);
    e.uid = archive_entry_uid(ae);
    e.gid = archive_entry_gid(ae);
    e.uname = archive_entry_uname(ae) ? archive_entry_uname(ae) : "";
    e.gname = archive_entry_gname(ae) ? archive_entry_gname(ae) : "";
    e.mtime = archive_entry_mtime(ae);
    e.size = archive_entry_size(ae);
    e.symlink = archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "";
    e.hardlink = archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) : "";
    archive_entry_xattr_reset(ae);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
      e.xattrs[name] = std::string(static_cast<const char*>(value), size);
    }
    char buf[65536];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
      e.data.append(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(e));
  }
  EXPECT_EQ(rc, ARCHIVE_EOF) << archive_error_string(a);
  archive_read_free(a);
  return out;
}

LayerInfo write_to(const SnapshotSource& source, const WriteOptions& options, const std::string& out_path) {
  int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  auto info = write_layer(source, options, fd);
  ::close(fd);
  EXPECT_TRUE(info.has_value()) << (info ? std::string() : info.error().render());
  return info ? *info : LayerInfo{};
}

Result<ExtractResult> extract_from(const std::string& blob_path, const ExtractOptions& options) {
  int fd = ::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error::from_errno(blob_path);
  }
  auto r = extract_layer(fd, options);
  ::close(fd);
  return r;
}

ExtractOptions test_options(const std::string& target, ExtractMode mode) {
  ExtractOptions o;
  o.target_dir = target;
  o.mode = mode;
  o.ownership_errors = is_root() ? OwnershipErrors::fail : OwnershipErrors::ignore;
  return o;
}

std::string read_text(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : std::string("<missing>");
}

}  // namespace kiln::layers::test

namespace kiln::layers::test {

void make_tar(const std::string& path, const std::vector<TarEntry>& entries, const std::string& filter) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") {
    archive_write_add_filter_gzip(a);
  } else if (filter == "zstd") {
    archive_write_add_filter_zstd(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.name.c_str());
    archive_entry_set_mode(ae, e.mode);
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    archive_entry_set_mtime(ae, e.mtime, 0);
    if (!e.symlink.empty()) {
      archive_entry_set_symlink(ae, e.symlink.c_str());
    }
    if (!e.hardlink.empty()) {
      archive_entry_set_hardlink(ae, e.hardlink.c_str());
    }
    archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    if (e.rdev != 0) {
      archive_entry_set_rdev(ae, e.rdev);
    }
    for (const auto& [k, v] : e.xattrs) {
      archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
    }
    ASSERT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (!e.data.empty()) {
      ASSERT_EQ(archive_write_data(a, e.data.data(), e.data.size()), static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(ae);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

TarEntry file_entry(const std::string& name, const std::string& data, mode_t mode) {
  TarEntry e;
  e.name = name;
  e.mode = S_IFREG | mode;
  e.data = data;
  e.uid = ::geteuid();
  e.gid = ::getegid();
  e.mtime = 1600000000;
  return e;
}

TarEntry dir_entry(const std::string& name, mode_t mode) {
  TarEntry e = file_entry(name, "", mode);
  e.mode = S_IFDIR | mode;
  return e;
}

TarEntry symlink_entry(const std::string& name, const std::string& target) {
  TarEntry e = file_entry(name, "", 0777);
  e.mode = S_IFLNK | 0777;
  e.symlink = target;
  return e;
}

TarEntry hardlink_entry(const std::string& name, const std::string& target) {
  TarEntry e = file_entry(name, "", 0644);
  e.hardlink = target;
  return e;
}

}  // namespace kiln::layers::test
