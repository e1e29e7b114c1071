#include "layers/extract.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/layers/layer_fixture.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::layers {
namespace {

using oci::media::Compression;
using namespace kiln::layers::test;

class ExtractLayerTest : public TempDirTest {
 protected:
  std::string get_xattr(const std::string& p, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
  }
};

TEST_F(ExtractLayerTest, OverlayLowerWritesWhiteoutDevicesAndOpaqueXattrs) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {dir_entry("etc/"), file_entry("etc/.wh.passwd", ""),
                                                   dir_entry("var/"), dir_entry("var/cache/"),
                                                   file_entry("var/cache/.wh..wh..opq", ""),
                                                   file_entry("var/cache/new", "n")},
                                   "gzip"));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  struct stat st {};
  ASSERT_EQ(::lstat(path("out/etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(get_xattr(path("out/var/cache"), "user.overlay.opaque"), "y");
  EXPECT_EQ(get_xattr(path("out/var"), "user.overlay.opaque"), "<none>");
  EXPECT_EQ(read_text(path("out/var/cache/new")), "n");
  EXPECT_FALSE(path_exists(path("out/var/cache/.wh..wh..opq")));
  EXPECT_EQ(r->whiteouts, 1);
  EXPECT_EQ(r->opaque_dirs, 1);
  EXPECT_EQ(r->compression, Compression::gzip);
}

TEST_F(ExtractLayerTest, MergedModeDeletesWhiteoutsAndEmptiesOpaqueDirs) {
  std::string root = path("rootfs");
  ASSERT_NO_FATAL_FAILURE(put_file(root, "etc/passwd", "root"));
  ASSERT_NO_FATAL_FAILURE(put_file(root, "etc/group", "g"));
  ASSERT_NO_FATAL_FAILURE(put_file(root, "var/cache/old1", "o"));
  ASSERT_NO_FATAL_FAILURE(put_file(root, "var/cache/sub/old2", "o"));
  ASSERT_NO_FATAL_FAILURE(put_dir(root, "gone/deep/er"));
  ASSERT_NO_FATAL_FAILURE(put_file(root, "etc/replace", "old"));
  // The opaque marker after a sibling of the same layer: the sibling stays.
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry(".wh.gone", ""), file_entry("etc/.wh.passwd", ""),
                                                   file_entry("etc/replace", "new"),
                                                   file_entry("var/cache/kept", "k"),
                                                   file_entry("var/cache/.wh..wh..opq", "")},
                                   "zstd"));
  auto r = extract_from(path("l.tar"), test_options(root, ExtractMode::merged));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_FALSE(path_exists(path("rootfs/etc/passwd")));
  EXPECT_TRUE(path_exists(path("rootfs/etc/group")));
  EXPECT_FALSE(path_exists(path("rootfs/gone")));
  EXPECT_EQ(read_text(path("rootfs/etc/replace")), "new");
  EXPECT_EQ(*list_dir(path("rootfs/var/cache")), std::vector<std::string>{"kept"});
  EXPECT_EQ(r->compression, Compression::zstd);
}

TEST_F(ExtractLayerTest, WhiteoutDoesNotHideAnEntryOfTheSameLayer) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("a", "mine"), file_entry(".wh.a", "")}));
  for (ExtractMode mode : {ExtractMode::overlay_lower, ExtractMode::merged}) {
    std::string out = path(cat("out", static_cast<int>(mode)));
    ASSERT_TRUE(make_dirs(out).has_value());
    auto r = extract_from(path("l.tar"), test_options(out, mode));
    ASSERT_TRUE(r.has_value()) << r.error().render();
    EXPECT_EQ(read_text(path_join(out, "a")), "mine");
  }
}

TEST_F(ExtractLayerTest, LaterEntriesWinAndReplaceAcrossTypes) {
  std::string root = path("rootfs");
  ASSERT_NO_FATAL_FAILURE(put_dir(root, "d/sub"));
  ASSERT_NO_FATAL_FAILURE(put_file(root, "f", "old"));
  ASSERT_NO_FATAL_FAILURE(put_hardlink(root, "f", "f-link"));
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("d", "file now"), dir_entry("f/"),
                                                   file_entry("f-link", "new content"), file_entry("x", "1"),
                                                   symlink_entry("x", "f"), file_entry("x", "2")}));
  auto r = extract_from(path("l.tar"), test_options(root, ExtractMode::merged));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(read_text(path("rootfs/d")), "file now");
  EXPECT_TRUE(is_directory(path("rootfs/f")));
  EXPECT_EQ(read_text(path("rootfs/f-link")), "new content");
  EXPECT_EQ(read_text(path("rootfs/x")), "2");
}

TEST_F(ExtractLayerTest, HardLinksWithinTheLayerAreLinks) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("bin/a", "data"), hardlink_entry("bin/b", "bin/a"),
                                                   hardlink_entry("c", "/bin/a")}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  struct stat a {};
  struct stat b {};
  struct stat c {};
  ASSERT_EQ(::stat(path("out/bin/a").c_str(), &a), 0);
  ASSERT_EQ(::stat(path("out/bin/b").c_str(), &b), 0);
  ASSERT_EQ(::stat(path("out/c").c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
  EXPECT_EQ(r->hardlinks, 2);
}

TEST_F(ExtractLayerTest, HardLinkToALowerLayerIsCopiedFromLowerDirs) {
  std::string lower1 = path("lower1");  // nearest
  std::string lower2 = path("lower2");
  ASSERT_NO_FATAL_FAILURE(put_file(lower2, "usr/bin/perl", "perl v1", 0755));
  ASSERT_NO_FATAL_FAILURE(put_file(lower1, "usr/bin/perl", "perl v2", 0751));
  ASSERT_NO_FATAL_FAILURE(put_dir(lower1, "usr/lib", 0700));
  ASSERT_NO_FATAL_FAILURE(set_mtime(lower1, "usr/lib", 1234567));
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {hardlink_entry("usr/bin/perl5", "usr/bin/perl"),
                                                   hardlink_entry("usr/bin/perl6", "usr/bin/perl"),
                                                   file_entry("usr/lib/x", "x")}));
  ExtractOptions o = test_options(path("out"), ExtractMode::overlay_lower);
  o.lower_dirs = {lower1, lower2};
  auto r = extract_from(path("l.tar"), o);
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(read_text(path("out/usr/bin/perl5")), "perl v2");
  struct stat s5 {};
  struct stat s6 {};
  ASSERT_EQ(::stat(path("out/usr/bin/perl5").c_str(), &s5), 0);
  ASSERT_EQ(::stat(path("out/usr/bin/perl6").c_str(), &s6), 0);
  EXPECT_EQ(s5.st_mode & 07777, 0751u);
  EXPECT_EQ(s5.st_ino, s6.st_ino);  // the second link links to the copy
  // A parent the layer does not list takes the lower layer's metadata.
  struct stat lib {};
  ASSERT_EQ(::stat(path("out/usr/lib").c_str(), &lib), 0);
  EXPECT_EQ(lib.st_mode & 07777, 0700u);
  EXPECT_EQ(lib.st_mtim.tv_sec, 1234567);
}

TEST_F(ExtractLayerTest, HardLinkToNothingIsAnErrorNamingTheEntry) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {hardlink_entry("x", "does/not/exist")}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().render().find("`x`"), std::string::npos) << r.error().render();
  EXPECT_FALSE(path_exists(path("out")));
}

TEST_F(ExtractLayerTest, DiffIdMismatchRemovesPartialOutput) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("a", "a"), file_entry("b/c", "c")}, "gzip"));
  ExtractOptions o = test_options(path("out"), ExtractMode::overlay_lower);
  o.expected_diff_id = oci::Digest::sha256_of("something else");
  auto r = extract_from(path("l.tar"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(r.error().render().find("diffID mismatch"), std::string::npos) << r.error().render();
  EXPECT_FALSE(path_exists(path("out")));
  // An existing empty directory is emptied, not removed.
  ASSERT_TRUE(make_dirs(path("out2")).has_value());
  o.target_dir = path("out2");
  ASSERT_FALSE(extract_from(path("l.tar"), o).has_value());
  EXPECT_TRUE(is_directory(path("out2")));
  EXPECT_TRUE(list_dir(path("out2"))->empty());
}

TEST_F(ExtractLayerTest, MatchingDigestsAreAccepted) {
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("a", "a")}, "gzip"));
  auto probe = extract_from(path("l.tar"), test_options(path("probe"), ExtractMode::overlay_lower));
  ASSERT_TRUE(probe.has_value());
  ExtractOptions o = test_options(path("out"), ExtractMode::overlay_lower);
  o.expected_diff_id = probe->diff_id;
  o.expected_digest = probe->digest;
  auto r = extract_from(path("l.tar"), o);
  ASSERT_TRUE(r.has_value()) << r.error().render();
  o.target_dir = path("out3");
  o.expected_digest = probe->diff_id;  // wrong on purpose
  r = extract_from(path("l.tar"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().render().find("digest mismatch"), std::string::npos);
}

class CorruptStreamTest : public ExtractLayerTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CorruptStreamTest, CorruptOrTruncatedStreamFailsAndCleansUp) {
  std::string filter = GetParam();
  std::string big;
  for (int i = 0; i < 200000; ++i) {
    big += cat(i * 7919 % 100003, "\n");
  }
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("a", "a"), file_entry("big", big)}, filter));
  auto good = extract_from(path("l.tar"), test_options(path("good"), ExtractMode::overlay_lower));
  ASSERT_TRUE(good.has_value()) << good.error().render();
  std::string bytes = *read_file(path("l.tar"));
  // Truncated in the middle, and with flipped bytes in the middle (which only
  // the diffID can reveal in an uncompressed tar or a zstd frame without checksum).
  std::string truncated = bytes.substr(0, bytes.size() / 2);
  std::string flipped = bytes;
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) {
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  }
  int n = 0;
  for (const auto& data : {truncated, flipped}) {
    std::string blob = path(cat("bad", n));
    ASSERT_TRUE(write_file(blob, data).has_value());
    std::string out = path(cat("out", n++));
    ExtractOptions o = test_options(out, ExtractMode::overlay_lower);
    o.expected_diff_id = good->diff_id;
    auto r = extract_from(blob, o);
    ASSERT_FALSE(r.has_value()) << filter << " case " << n;
    EXPECT_EQ(r.error().code(), ErrorCode::cache_corrupt) << r.error().render();
    EXPECT_FALSE(path_exists(out)) << r.error().render();
  }
}

INSTANTIATE_TEST_SUITE_P(Filters, CorruptStreamTest, ::testing::Values("gzip", "zstd", ""));

TEST_F(ExtractLayerTest, OwnershipModesAndSetuidAreRestored) {
  if (!is_root()) {
    GTEST_SKIP() << "restoring arbitrary owners needs CAP_CHOWN (run as root)";
  }
  TarEntry f = file_entry("bin/su", "su", 04755);
  f.uid = 0;
  f.gid = 42;
  TarEntry g = file_entry("bin/wall", "w", 02755);
  g.uid = 1234;
  g.gid = 5;
  TarEntry d = dir_entry("home/user/", 0700);
  d.uid = 1000;
  d.gid = 1000;
  TarEntry l = symlink_entry("home/user/link", "../..");
  l.uid = 1000;
  l.gid = 1001;
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {f, g, d, l}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  struct stat st {};
  ASSERT_EQ(::lstat(path("out/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_gid, 42u);
  ASSERT_EQ(::lstat(path("out/bin/wall").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  EXPECT_EQ(st.st_uid, 1234u);
  ASSERT_EQ(::lstat(path("out/home/user").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  ASSERT_EQ(::lstat(path("out/home/user/link").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 1001u);
}

TEST_F(ExtractLayerTest, DeviceNodesAreCreatedOrSkipped) {
  TarEntry dev = file_entry("dev/null", "", 0666);
  dev.mode = S_IFCHR | 0666;
  dev.rdev = makedev(1, 3);
  TarEntry fifo = file_entry("run/fifo", "", 0600);
  fifo.mode = S_IFIFO | 0600;
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {dev, fifo, file_entry("after", "still extracted")}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(read_text(path("out/after")), "still extracted");
  struct stat st {};
  ASSERT_EQ(::lstat(path("out/run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  if (is_root()) {
    ASSERT_EQ(::lstat(path("out/dev/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(r->devices_skipped, 0);
  } else {
    EXPECT_FALSE(path_exists(path("out/dev/null")));  // rootless: skipped with a warning
    EXPECT_EQ(r->devices_skipped, 1);
  }
}

TEST_F(ExtractLayerTest, OverlayXattrsInALayerAreNeverRestored) {
  TarEntry d = dir_entry("d/");
  d.xattrs["user.overlay.opaque"] = "y";
  d.xattrs["user.overlay.redirect"] = "/etc";
  d.xattrs["user.fine"] = "1";
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {d}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(get_xattr(path("out/d"), "user.overlay.opaque"), "<none>");
  EXPECT_EQ(get_xattr(path("out/d"), "user.overlay.redirect"), "<none>");
  EXPECT_EQ(get_xattr(path("out/d"), "user.fine"), "1");
}

TEST_F(ExtractLayerTest, OwnershipErrorsFailByDefaultForOrdinaryUsers) {
  if (is_root()) {
    GTEST_SKIP() << "root may chown to any id; this checks the ordinary-user policy";
  }
  TarEntry f = file_entry("f", "x");
  f.uid = 0;
  f.gid = 0;
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {f}));
  ExtractOptions o = test_options(path("out"), ExtractMode::overlay_lower);
  o.ownership_errors = OwnershipErrors::fail;
  auto r = extract_from(path("l.tar"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().render().find("change owner of `f` to 0:0"), std::string::npos) << r.error().render();
  o.ownership_errors = OwnershipErrors::ignore;
  r = extract_from(path("l.tar"), o);
  ASSERT_TRUE(r.has_value()) << r.error().render();
  EXPECT_EQ(r->ownership_skipped, 1);
}

TEST_F(ExtractLayerTest, NonEmptyOverlayTargetIsRefused) {
  ASSERT_NO_FATAL_FAILURE(put_file(path("out"), "x", "x"));
  ASSERT_NO_FATAL_FAILURE(make_tar(path("l.tar"), {file_entry("a", "a")}));
  auto r = extract_from(path("l.tar"), test_options(path("out"), ExtractMode::overlay_lower));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(path_exists(path("out/x")));
}

}  // namespace
}  // namespace kiln::layers
