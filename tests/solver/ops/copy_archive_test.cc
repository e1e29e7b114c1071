// ADD's automatic extraction of local tar archives.
#include <sys/stat.h>

#include "copy_fixture.h"
#include "util/file.h"

namespace kiln::solver::ops::test {
namespace {

class CopyArchiveTest : public CopyTest {
 protected:
  CopyRequest add(std::vector<std::string> sources, const std::string& dest_path) const {
    CopyRequest r = request(std::move(sources), dest_path);
    r.spec.add = true;
    r.spec.unpack = true;
    return r;
  }
  std::vector<TarEntry> sample() const {
    return {
        {"top/", 'd', "", 0750, 0, 0, 1'400'000'000},
        {"top/file.txt", 'f', "hello from tar", 0640, 0, 0, 1'300'000'000},
        {"top/link", 'l', "file.txt"},
        {"top/hard", 'h', "top/file.txt"},
    };
  }
};

TEST_F(CopyArchiveTest, ExtractsEveryCompression) {
  for (const char* c : {"", "gzip", "bzip2", "xz", "zstd"}) {
    std::string name = std::string("a-") + (*c != 0 ? c : "plain") + ".tar";
    ASSERT_NO_FATAL_FAILURE(write_tar(ctx(name), sample(), c));
    std::string out = std::string("/out-") + (*c != 0 ? c : "plain");
    CopyStats s = copy_ok(add({name}, out));
    std::string d = dest(out.substr(1));
    EXPECT_EQ(read(d + "/top/file.txt"), "hello from tar") << c;
    EXPECT_EQ(readlink_of(d + "/top/link"), "file.txt") << c;
    EXPECT_EQ(lstat_of(d + "/top/hard").st_ino, lstat_of(d + "/top/file.txt").st_ino) << c;
    EXPECT_EQ(lstat_of(d + "/top/file.txt").st_mode & 07777, 0640U) << c;
    EXPECT_EQ(lstat_of(d + "/top/file.txt").st_mtim.tv_sec, 1'300'000'000) << c;
    EXPECT_EQ(lstat_of(d + "/top").st_mode & 07777, 0750U) << c;
    EXPECT_EQ(lstat_of(d + "/top").st_mtim.tv_sec, 1'400'000'000) << c;
    EXPECT_EQ(s.files, 2) << c;
    EXPECT_EQ(s.symlinks, 1) << c;
  }
}

TEST_F(CopyArchiveTest, CopyAndAddWithoutUnpackKeepTheArchive) {
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("a.tar.gz"), sample(), "gzip"));
  copy_ok(request({"a.tar.gz"}, "/copied"));
  EXPECT_TRUE(S_ISREG(lstat_of(dest("copied")).st_mode));
  CopyRequest r = add({"a.tar.gz"}, "/kept");
  r.spec.unpack = false;
  copy_ok(r);
  EXPECT_TRUE(S_ISREG(lstat_of(dest("kept")).st_mode));
}

TEST_F(CopyArchiveTest, NonArchivesAreCopiedWhateverTheirName) {
  file(ctx("fake.tar.gz"), "not an archive at all");
  file(ctx("empty.tar"), "");
  copy_ok(add({"fake.tar.gz", "empty.tar"}, "/d/"));
  EXPECT_EQ(read(dest("d/fake.tar.gz")), "not an archive at all");
  EXPECT_TRUE(S_ISREG(lstat_of(dest("d/empty.tar")).st_mode));
}

TEST_F(CopyArchiveTest, ArchivesFoundByWildcardAreExtractedIntoTheDirectory) {
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("one.tar"), {{"1.txt", 'f', "one"}}, ""));
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("two.tar.xz"), {{"2.txt", 'f', "two"}}, "xz"));
  copy_ok(add({"*.tar*"}, "/x/"));
  EXPECT_EQ(read(dest("x/1.txt")), "one");
  EXPECT_EQ(read(dest("x/2.txt")), "two");
}

TEST_F(CopyArchiveTest, ArchiveEntriesKeepTheirOwners) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root (or kiln's user namespace) to create files owned by other ids";
  }
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("o.tar"), {{"f", 'f', "x", 0600, 1234, 4321}}, ""));
  CopyRequest r = add({"o.tar"}, "/o");
  r.owner = std::make_pair(7U, 7U);  // --chown does not apply to extracted entries
  copy_ok(r);
  EXPECT_EQ(lstat_of(dest("o/f")).st_uid, 1234U);
  EXPECT_EQ(lstat_of(dest("o/f")).st_gid, 4321U);
  EXPECT_EQ(lstat_of(dest("o")).st_uid, 7U) << "the directory created for dest is owned by --chown";
}

TEST_F(CopyArchiveTest, EntriesLeavingTheDestinationAreRefused) {
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("evil.tar"), {{"../../evil", 'f', "x"}}, ""));
  EXPECT_EQ(copy_err(add({"evil.tar"}, "/e")),
            "refuse entry `../../evil` of archive `evil.tar`: it leads outside the destination");
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("evil2.tar"), {{"ok", 'f', "x"}, {"h", 'h', "../../outside/secret"}}, ""));
  EXPECT_NE(copy_err(add({"evil2.tar"}, "/e2")).find("leads outside the destination"), std::string::npos);
}

TEST_F(CopyArchiveTest, ArchiveSymlinksResolveInsideTheExtractionDirectory) {
  ASSERT_NO_FATAL_FAILURE(write_tar(ctx("sl.tar"),
                                    {{"up", 'l', "/"},
                                     {"up/etc/x", 'f', "confined"},
                                     {"host", 'l', outside()},
                                     {"host/victim", 'f', "replaced?"},
                                     {"/abs.txt", 'f', "abs"}},
                                    ""));
  copy_ok(add({"sl.tar"}, "/t"));
  EXPECT_EQ(read(dest("t/etc/x")), "confined");
  EXPECT_EQ(read(dest("t/" + outside("victim").substr(1))), "replaced?");
  EXPECT_EQ(read(dest("t/abs.txt")), "abs");
  EXPECT_FALSE(exists("/etc/x") && read("/etc/x") == "confined");
}

TEST_F(CopyArchiveTest, ExistingEntriesAreReplacedAndDirectoriesMerged) {
  file(dest("t/keep"), "kept");
  dir(dest("t/was-dir/inner"));
  file(dest("t/was-file"), "old");
  ASSERT_NO_FATAL_FAILURE(
      write_tar(ctx("r.tar"), {{"was-dir", 'f', "now a file"}, {"was-file/", 'd', "", 0755}, {"was-file/n", 'f', "n"}}, ""));
  copy_ok(add({"r.tar"}, "/t"));
  EXPECT_EQ(read(dest("t/keep")), "kept");
  EXPECT_EQ(read(dest("t/was-dir")), "now a file");
  EXPECT_EQ(read(dest("t/was-file/n")), "n");
}

}  // namespace
}  // namespace kiln::solver::ops::test
