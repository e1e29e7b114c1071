// Metadata of copied entries: modes (--chmod), owners (--chown, context vs
// stage), times, hard links, special files.
#include <sys/stat.h>
#include <unistd.h>

#include "copy_fixture.h"
#include "util/file.h"

namespace kiln::solver::ops::test {
namespace {

using CopyMetadataTest = CopyTest;

TEST_F(CopyMetadataTest, HardLinksStayHardLinks) {
  file(ctx("src/a"), "shared");
  ASSERT_EQ(::link(ctx("src/a").c_str(), ctx("src/b").c_str()), 0);
  file(ctx("src/sub/c"), "other");
  ASSERT_EQ(::link(ctx("src/a").c_str(), ctx("src/sub/d").c_str()), 0);
  copy_ok(request({"src"}, "/out"));
  struct stat a = lstat_of(dest("out/a"));
  EXPECT_EQ(a.st_ino, lstat_of(dest("out/b")).st_ino);
  EXPECT_EQ(a.st_ino, lstat_of(dest("out/sub/d")).st_ino);
  EXPECT_NE(a.st_ino, lstat_of(dest("out/sub/c")).st_ino);
  EXPECT_EQ(a.st_nlink, 3U);
}

TEST_F(CopyMetadataTest, TimesAreKeptAndTheTargetTakesTheSourceDirectoryTimes) {
  file(ctx("src/sub/f"), "f", 0644, 1'100'000'000);
  dir(ctx("src/sub"), 0750, 1'200'000'000);
  dir(ctx("src"), 0755, 1'300'000'000);
  dir(dest("out"), 0700, 1'000);
  copy_ok(request({"src"}, "/out"));
  EXPECT_EQ(lstat_of(dest("out/sub/f")).st_mtim.tv_sec, 1'100'000'000);
  EXPECT_EQ(lstat_of(dest("out/sub")).st_mtim.tv_sec, 1'200'000'000);
  EXPECT_EQ(lstat_of(dest("out/sub")).st_mode & 07777, 0750U);
  EXPECT_EQ(lstat_of(dest("out")).st_mtim.tv_sec, 1'300'000'000);
  EXPECT_EQ(lstat_of(dest("out")).st_mode & 07777, 0700U) << "the target keeps its own mode";
}

TEST_F(CopyMetadataTest, OctalChmodSetsFilesAndDirectories) {
  file(ctx("src/f"), "f", 0600);
  dir(ctx("src/sub"), 0700);
  file(ctx("src/sub/g"), "g", 0755);
  dir(dest("out"), 0711);
  CopyRequest r = request({"src"}, "/out");
  r.spec.chmod = "0750";  // searchable, so an ordinary user can check below it
  copy_ok(r);
  EXPECT_EQ(lstat_of(dest("out/f")).st_mode & 07777, 0750U);
  EXPECT_EQ(lstat_of(dest("out/sub")).st_mode & 07777, 0750U);
  EXPECT_EQ(lstat_of(dest("out/sub/g")).st_mode & 07777, 0750U);
  EXPECT_EQ(lstat_of(dest("out")).st_mode & 07777, 0711U);
}

TEST_F(CopyMetadataTest, SymbolicChmodWorksLikeChmod) {
  struct Case {
    const char* spec;
    mode_t file_before;
    mode_t file_after;
    mode_t dir_after;  // the directory starts 0700
  };
  const Case cases[] = {
      {"u+x", 0644, 0744, 0700},       {"go-w", 0666, 0644, 0700},      {"a=r", 0755, 0444, 0444},
      {"u=rwX,go=rX", 0600, 0644, 0755}, {"u=rwX,go=rX", 0700, 0755, 0755}, {"+x", 0600, 0711, 0711},
      {"g=u", 0640, 0660, 0770},       {"o+t,u+s", 0755, 05755, 05700},  {"a-rwx,u+rw", 0777, 0600, 0600},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string name = "case" + std::to_string(n++);
    file(ctx(name + "/f"), "f", c.file_before);
    dir(ctx(name + "/d"), 0700);
    CopyRequest r = request({name}, "/" + name);
    r.spec.chmod = c.spec;
    copy_ok(r);
    EXPECT_EQ(lstat_of(dest(name + "/f")).st_mode & 07777, c.file_after) << c.spec;
    EXPECT_EQ(lstat_of(dest(name + "/d")).st_mode & 07777, c.dir_after) << c.spec;
  }
  CopyRequest bad = request({"case0"}, "/bad");
  bad.spec.chmod = "u+q";
  EXPECT_EQ(copy_err(bad), "invalid --chmod `u+q`: expected an octal mode or chmod clauses like `u=rwx,go=rx`");
  bad.spec.chmod = "17777";
  EXPECT_EQ(copy_err(bad), "invalid --chmod `17777`: octal mode above 7777");
}

TEST_F(CopyMetadataTest, ContextFilesAreOwnedByRoot) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root (or kiln's user namespace) to create files owned by other ids";
  }
  file(ctx("src/f"), "f");
  ASSERT_EQ(::chown(ctx("src/f").c_str(), 1234, 5678), 0);
  link(ctx("src/l"), "f");
  ASSERT_EQ(::lchown(ctx("src/l").c_str(), 1234, 5678), 0);
  copy_ok(request({"src"}, "/out"));
  EXPECT_EQ(lstat_of(dest("out/f")).st_uid, 0U);
  EXPECT_EQ(lstat_of(dest("out/f")).st_gid, 0U);
  EXPECT_EQ(lstat_of(dest("out/l")).st_uid, 0U);
}

TEST_F(CopyMetadataTest, ChownOwnsEverythingCopiedAndCreated) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root (or kiln's user namespace) to chown to other ids";
  }
  file(ctx("src/f"), "f");
  dir(ctx("src/sub"));
  link(ctx("src/l"), "f");
  CopyRequest r = request({"src"}, "/new/deeper/out");
  r.owner = std::make_pair(1000U, 2000U);
  copy_ok(r);
  for (const char* p : {"new", "new/deeper", "new/deeper/out", "new/deeper/out/f", "new/deeper/out/sub",
                        "new/deeper/out/l"}) {
    EXPECT_EQ(lstat_of(dest(p)).st_uid, 1000U) << p;
    EXPECT_EQ(lstat_of(dest(p)).st_gid, 2000U) << p;
  }
}

TEST_F(CopyMetadataTest, StageFilesKeepTheirOwners) {
  file(ctx("f"), "f");
  uid_t uid = ::geteuid();
  if (is_root()) {
    uid = 4321;
    ASSERT_EQ(::chown(ctx("f").c_str(), 4321, 8765), 0);
  }
  CopyRequest r = request({"f"}, "/f");
  r.src_is_context = false;
  copy_ok(r);
  EXPECT_EQ(lstat_of(dest("f")).st_uid, uid);
}

TEST_F(CopyMetadataTest, ChownErrorsCanBeIgnored) {
  if (is_root()) {
    GTEST_SKIP() << "root may chown to any id";
  }
  file(ctx("f"), "f");
  CopyRequest r = request({"f"}, "/f");
  r.owner = std::make_pair(12345U, 12345U);
  r.chown_errors = ChownErrors::fail;
  EXPECT_NE(copy_err(r).find("chown `/f` to 12345:12345"), std::string::npos);
  r.chown_errors = ChownErrors::ignore;
  copy_ok(r);
  EXPECT_EQ(lstat_of(dest("f")).st_uid, ::geteuid());
}

TEST_F(CopyMetadataTest, FifosAreRecreated) {
  ASSERT_TRUE(make_dirs(ctx("src")));
  ASSERT_EQ(::mkfifo(ctx("src/pipe").c_str(), 0640), 0);
  copy_ok(request({"src"}, "/out"));
  struct stat st = lstat_of(dest("out/pipe"));
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640U);
}

}  // namespace
}  // namespace kiln::solver::ops::test
