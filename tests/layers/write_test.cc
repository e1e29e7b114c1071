#include "layers/write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/layers/layer_fixture.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

namespace kiln::layers {
namespace {

using oci::media::Compression;
using namespace kiln::layers::test;

class WriteLayerTest : public TempDirTest {
 protected:
  std::string dir(const std::string& name) {
    std::string p = path(name);
    EXPECT_TRUE(make_dirs(p).has_value());
    return p;
  }
  std::string file(const std::string& name) { return path(name); }

  // A tree with every kind of entry an unprivileged user can make.
  void build_tree(const std::string& root) {
    ASSERT_NO_FATAL_FAILURE(put_dir(root, "etc", 0755));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "etc/hosts", "127.0.0.1 localhost\n", 0644));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "usr/bin/tool", std::string(300000, 'x') + "end", 04755));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "usr/bin/sgid", "g", 02711));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "empty", "", 0600));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "unicode-\xc3\xa9t\xc3\xa9", "utf8 name", 0644));
    ASSERT_NO_FATAL_FAILURE(put_file(root, "latin1-\xe9t\xe9", "not utf8", 0644));
    ASSERT_NO_FATAL_FAILURE(put_file(root, std::string(120, 'd') + "/" + std::string(150, 'n'), "long", 0644));
    ASSERT_NO_FATAL_FAILURE(put_symlink(root, "usr/bin/alias", "tool"));
    ASSERT_NO_FATAL_FAILURE(put_symlink(root, "abs", "/etc/hosts"));
    ASSERT_NO_FATAL_FAILURE(put_hardlink(root, "usr/bin/tool", "usr/bin/tool2"));
    ASSERT_NO_FATAL_FAILURE(put_dir(root, "tmp", 01777));
    ASSERT_NO_FATAL_FAILURE(put_xattr(root, "etc/hosts", "user.kiln.test", "v\x01\x02"));
    ASSERT_EQ(::mkfifo(path_join(root, "fifo").c_str(), 0640), 0);
    ASSERT_NO_FATAL_FAILURE(set_mtime(root, "etc/hosts", 1600000000, 123456789));
  }
};

TEST_F(WriteLayerTest, RoundTripPreservesTheTree) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(build_tree(src));
  for (Compression c : {Compression::gzip, Compression::zstd, Compression::none}) {
    WriteOptions o;
    o.compression = c;
    std::string blob = file("layer");
    LayerInfo info = write_to(SnapshotSource::overlay_upper(src), o, blob);
    std::string out = path_join(m_tmp->path(), cat("out", static_cast<int>(c)));
    auto r = extract_from(blob, test_options(out, ExtractMode::overlay_lower));
    ASSERT_TRUE(r.has_value()) << r.error().render();
    EXPECT_EQ(r->diff_id, info.diff_id);
    EXPECT_EQ(r->digest, info.digest);
    EXPECT_EQ(r->compression, c);
    EXPECT_EQ(r->compressed_size, info.size);
    EXPECT_EQ(r->hardlinks, 1);
    auto want = describe_tree(src);
    auto got = describe_tree(out);
    want.erase(".");  // the root is not an entry
    got.erase(".");
    // Times are kept to the second.
    want["etc/hosts"] = std::string(want["etc/hosts"]);
    EXPECT_EQ(got, want);
  }
}

TEST_F(WriteLayerTest, SameTreeGivesSameDigestsWhateverTheThreadsOrCreationOrder) {
  std::string a = dir("a");
  std::string b = dir("b");
  ASSERT_NO_FATAL_FAILURE(build_tree(a));
  // The same content created in another order (other inode numbers, other
  // directory order on disk) and at another time.
  ASSERT_NO_FATAL_FAILURE(put_file(b, std::string(120, 'd') + "/" + std::string(150, 'n'), "long", 0644));
  ASSERT_EQ(::mkfifo(path_join(b, "fifo").c_str(), 0640), 0);
  ASSERT_NO_FATAL_FAILURE(put_dir(b, "tmp", 01777));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "usr/bin/sgid", "g", 02711));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "usr/bin/tool", std::string(300000, 'x') + "end", 04755));
  ASSERT_NO_FATAL_FAILURE(put_hardlink(b, "usr/bin/tool", "usr/bin/tool2"));
  ASSERT_NO_FATAL_FAILURE(put_symlink(b, "usr/bin/alias", "tool"));
  ASSERT_NO_FATAL_FAILURE(put_symlink(b, "abs", "/etc/hosts"));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "latin1-\xe9t\xe9", "not utf8", 0644));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "unicode-\xc3\xa9t\xc3\xa9", "utf8 name", 0644));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "empty", "", 0600));
  ASSERT_NO_FATAL_FAILURE(put_file(b, "etc/hosts", "127.0.0.1 localhost\n", 0644));
  ASSERT_NO_FATAL_FAILURE(put_xattr(b, "etc/hosts", "user.kiln.test", "v\x01\x02"));
  ASSERT_NO_FATAL_FAILURE(set_mtime(b, "etc/hosts", 1600000000, 987654321));
  // Align the remaining times with the first tree through the epoch clamp.
  for (Compression c : {Compression::gzip, Compression::zstd, Compression::none}) {
    WriteOptions o;
    o.compression = c;
    o.source_date_epoch = 1500000000;
    o.threads = 1;
    LayerInfo first = write_to(SnapshotSource::overlay_upper(a), o, file("l1"));
    o.threads = 4;
    LayerInfo second = write_to(SnapshotSource::overlay_upper(a), o, file("l2"));
    LayerInfo other = write_to(SnapshotSource::overlay_upper(b), o, file("l3"));
    EXPECT_EQ(first.diff_id, second.diff_id);
    EXPECT_EQ(first.diff_id, other.diff_id);
    EXPECT_EQ(first.digest, second.digest) << "compression " << static_cast<int>(c);
    EXPECT_EQ(first.digest, other.digest) << "compression " << static_cast<int>(c);
    EXPECT_EQ(first.size, other.size);
  }
}

TEST_F(WriteLayerTest, TarIsDeterministicPax) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(build_tree(src));
  WriteOptions o;
  LayerInfo info = write_to(SnapshotSource::overlay_upper(src), o, file("layer"));
  EXPECT_EQ(info.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  auto entries = read_tar(file("layer"));
  ASSERT_FALSE(entries.empty());
  std::vector<std::string> names;
  for (const auto& e : entries) {
    names.push_back(e.name);
    EXPECT_EQ(e.uname, "");
    EXPECT_EQ(e.gname, "");
    EXPECT_EQ(e.uid, static_cast<int64_t>(::geteuid()));
  }
  // Depth first, names sorted bytewise within each directory.
  std::vector<std::string> want = {"abs", std::string(120, 'd') + "/", std::string(120, 'd') + "/" + std::string(150, 'n'),
                                   "empty", "etc/", "etc/hosts", "fifo", "latin1-\xe9t\xe9", "tmp/",
                                   "unicode-\xc3\xa9t\xc3\xa9", "usr/", "usr/bin/", "usr/bin/alias", "usr/bin/sgid",
                                   "usr/bin/tool", "usr/bin/tool2"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(entries.back().hardlink, "usr/bin/tool");
  EXPECT_EQ(entries[5].xattrs.at("user.kiln.test"), "v\x01\x02");
  EXPECT_EQ(entries[5].mtime, 1600000000);
  EXPECT_EQ(entries[12].mode, static_cast<mode_t>(S_IFLNK | 0777));
  EXPECT_EQ(entries[14].mode, static_cast<mode_t>(S_IFREG | 04755));
}

TEST_F(WriteLayerTest, SourceDateEpochClampsOnlyLaterTimes) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(put_file(src, "old", "o"));
  ASSERT_NO_FATAL_FAILURE(put_file(src, "new", "n"));
  ASSERT_NO_FATAL_FAILURE(set_mtime(src, "old", 1000));
  ASSERT_NO_FATAL_FAILURE(set_mtime(src, "new", 2000000000));
  WriteOptions o;
  o.source_date_epoch = 1700000000;
  write_to(SnapshotSource::overlay_upper(src), o, file("layer"));
  auto entries = read_tar(file("layer"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "new");
  EXPECT_EQ(entries[0].mtime, 1700000000);
  EXPECT_EQ(entries[1].mtime, 1000);
}

TEST_F(WriteLayerTest, OverlayWhiteoutsAndOpaqueDirsBecomeOciMarkers) {
  std::string up = dir("upper");
  ASSERT_NO_FATAL_FAILURE(put_whiteout(up, "etc/gone"));
  ASSERT_NO_FATAL_FAILURE(put_file(up, "etc/added", "a"));
  ASSERT_NO_FATAL_FAILURE(put_dir(up, "var/cache"));
  ASSERT_NO_FATAL_FAILURE(put_file(up, "var/cache/fresh", "f"));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "var/cache", "user.overlay.opaque", "y"));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "etc", "user.overlay.origin", "some-handle"));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "etc", "user.overlay.impure", "y"));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "etc/added", "user.keep", "1"));
  ASSERT_NO_FATAL_FAILURE(put_file(up, "xwh/dir/gone2", ""));  // an xattr whiteout (overlay "xwhiteout")
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "xwh/dir/gone2", "user.overlay.whiteout", ""));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "xwh/dir", "user.overlay.opaque", "x"));  // not opaque: has xwhiteouts
  if (is_root()) {
    ASSERT_NO_FATAL_FAILURE(put_dir(up, "opt/t"));
    ASSERT_NO_FATAL_FAILURE(put_xattr(up, "opt/t", "trusted.overlay.opaque", "y"));
  }
  write_to(SnapshotSource::overlay_upper(up), WriteOptions{}, file("layer"));
  std::vector<std::string> names;
  for (const auto& e : read_tar(file("layer"))) {
    names.push_back(e.name);
    for (const auto& [k, v] : e.xattrs) {
      EXPECT_FALSE(k.starts_with("user.overlay.") || k.starts_with("trusted.overlay.")) << e.name << " " << k;
    }
    if (e.name == "etc/added") {
      EXPECT_EQ(e.xattrs.at("user.keep"), "1");
    }
  }
  std::vector<std::string> want = {"etc/", "etc/.wh.gone", "etc/added"};
  if (is_root()) {
    for (const char* n : {"opt/", "opt/t/", "opt/t/.wh..wh..opq"}) {
      want.push_back(n);
    }
  }
  for (const char* n : {"var/", "var/cache/", "var/cache/.wh..wh..opq", "var/cache/fresh", "xwh/", "xwh/dir/",
                        "xwh/dir/.wh.gone2"}) {
    want.push_back(n);
  }
  EXPECT_EQ(names, want);
}

TEST_F(WriteLayerTest, OverlayRedirectIsAnError) {
  std::string up = dir("upper");
  ASSERT_NO_FATAL_FAILURE(put_dir(up, "moved"));
  ASSERT_NO_FATAL_FAILURE(put_xattr(up, "moved", "user.overlay.redirect", "/orig"));
  int fd = ::open(file("layer").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto r = write_layer(SnapshotSource::overlay_upper(up), WriteOptions{}, fd);
  ::close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::unsupported);
  EXPECT_NE(r.error().render().find("`moved`"), std::string::npos) << r.error().render();
  EXPECT_NE(r.error().render().find("redirect"), std::string::npos);
}

TEST_F(WriteLayerTest, MissingSourceIsNotFound) {
  int fd = ::open(file("layer").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto r = write_layer(SnapshotSource::overlay_upper(file("nope")), WriteOptions{}, fd);
  ::close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
}

TEST_F(WriteLayerTest, SecurityCapabilityIsKept) {
  if (!is_root()) {
    GTEST_SKIP() << "setting security.capability needs CAP_SETFCAP (run as root)";
  }
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(put_file(src, "ping", "elf", 0755));
  // VFS_CAP_REVISION_2, effective, permitted = CAP_NET_RAW (13).
  std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  ASSERT_EQ(::chown(path_join(src, "ping").c_str(), 1000, 1000), 0);  // before: chown clears capabilities
  ASSERT_NO_FATAL_FAILURE(put_xattr(src, "ping", "security.capability", cap));
  write_to(SnapshotSource::overlay_upper(src), WriteOptions{}, file("layer"));
  auto entries = read_tar(file("layer"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].xattrs.at("security.capability"), cap);
  EXPECT_EQ(entries[0].uid, 1000);
  std::string out = path_join(m_tmp->path(), "out");
  auto r = extract_from(file("layer"), test_options(out, ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(describe_tree(out)["ping"], describe_tree(src)["ping"]);
  EXPECT_NE(describe_tree(out)["ping"].find("security.capability="), std::string::npos);
}

TEST_F(WriteLayerTest, GzipOutputIsStandardForGunzipAndGnuTar) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(build_tree(src));
  // Several members: more than one 1 MiB chunk of tar.
  std::string big;
  for (int i = 0; i < 300000; ++i) {
    big += cat(i, ",");
  }
  ASSERT_NO_FATAL_FAILURE(put_file(src, "big", big));
  LayerInfo info = write_to(SnapshotSource::overlay_upper(src), WriteOptions{}, file("layer.gz"));
  auto t = run_program({"gzip", "-t", file("layer.gz")});
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exit_status, 0) << t->stderr_data;
  auto sum = run_program({"sh", "-c", cat("gzip -dc ", file("layer.gz"), " | sha256sum")});
  ASSERT_TRUE(sum.has_value());
  EXPECT_EQ(sum->stdout_data.substr(0, 64), info.diff_id.hex());
  auto list = run_program({"tar", "-tzf", file("layer.gz")});
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->exit_status, 0) << list->stderr_data;
  EXPECT_NE(list->stdout_data.find("usr/bin/tool2"), std::string::npos);
}

TEST_F(WriteLayerTest, ZstdOutputIsReadByTheZstdTool) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(build_tree(src));
  WriteOptions o;
  o.compression = Compression::zstd;
  o.docker_media_types = true;
  LayerInfo info = write_to(SnapshotSource::overlay_upper(src), o, file("layer.zst"));
  EXPECT_EQ(info.media_type, "application/vnd.docker.image.rootfs.diff.tar.zstd");
  auto sum = run_program({"sh", "-c", cat("zstd -dc ", file("layer.zst"), " | sha256sum")});
  ASSERT_TRUE(sum.has_value());
  EXPECT_EQ(sum->stdout_data.substr(0, 64), info.diff_id.hex());
}

TEST_F(WriteLayerTest, UncompressedDigestIsTheDiffId) {
  std::string src = dir("src");
  ASSERT_NO_FATAL_FAILURE(put_file(src, "a", "a"));
  WriteOptions o;
  o.compression = Compression::none;
  LayerInfo info = write_to(SnapshotSource::overlay_upper(src), o, file("layer"));
  EXPECT_EQ(info.digest, info.diff_id);
  EXPECT_EQ(info.size, info.uncompressed_size);
  EXPECT_EQ(info.media_type, "application/vnd.oci.image.layer.v1.tar");
}

TEST_F(WriteLayerTest, BadLevelIsInvalidInput) {
  std::string src = dir("src");
  WriteOptions o;
  o.level = 42;
  int fd = ::open(file("layer").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto r = write_layer(SnapshotSource::overlay_upper(src), o, fd);
  ::close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::invalid_input);
}

}  // namespace
}  // namespace kiln::layers
