// Hostile symlinks in the destination image and the build context (STYLE.md
// R3; CVE-2024-1753 style): nothing outside dest_root may change, nothing
// outside the source root may be read. The fixture's copy_ok/copy_err check
// the "outside" tree (standing in for the host) after every copy.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_fixture.h"
#include "solver/ops/copy_root.h"
#include "util/file.h"

namespace kiln::solver::ops::test {
namespace {

using detail::FollowLast;
using detail::RootDir;
// Each case runs twice: with openat2 (RESOLVE_IN_ROOT) and with the
// component walk used where the kernel lacks it.
class CopySafetyTest : public CopyTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    detail::set_force_component_walk(GetParam());
    CopyTest::SetUp();
  }
  void TearDown() override {
    CopyTest::TearDown();
    detail::set_force_component_walk(false);
  }
};

TEST_P(CopySafetyTest, DestSymlinkToEtcLeadsInsideDestRoot) {
  file(ctx("a.txt"), "payload");
  link(dest("app"), "/etc");
  copy_ok(request({"a.txt"}, "/app/kiln-copy-safety-marker"));
  EXPECT_EQ(read(dest("etc/kiln-copy-safety-marker")), "payload");
  EXPECT_FALSE(exists("/etc/kiln-copy-safety-marker"));
}

TEST_P(CopySafetyTest, DestSymlinkToAHostPathLeadsInsideDestRoot) {
  file(ctx("a.txt"), "payload");
  link(dest("app"), outside());       // absolute host path of the "outside" dir
  link(dest("victim"), outside("victim"));
  copy_ok(request({"a.txt"}, "/app/new"));
  copy_ok(request({"a.txt"}, "/victim"));
  EXPECT_EQ(read(dest(outside("new").substr(1))), "payload");
  EXPECT_EQ(read(dest(outside("victim").substr(1))), "payload");
  EXPECT_EQ(read(outside("victim")), "do not touch\n");
}

TEST_P(CopySafetyTest, DestDotDotSymlinkStopsAtDestRoot) {
  file(ctx("a.txt"), "payload");
  file(ctx("dir/b.txt"), "b");
  link(dest("up"), "../../../../../../..");
  link(dest("deep/up2"), "../up/../..");
  copy_ok(request({"a.txt"}, "/up/x"));
  copy_ok(request({"dir"}, "/deep/up2/y"));
  EXPECT_EQ(read(dest("x")), "payload");
  EXPECT_EQ(read(dest("y/b.txt")), "b");
}

TEST_P(CopySafetyTest, SymlinkBelowTheTargetIsNotFollowed) {
  file(ctx("src/sub/x"), "x");
  link(dest("app/sub"), outside());
  EXPECT_EQ(copy_err(request({"src"}, "/app")), "cannot copy to non-directory: `/app/sub`: Not a directory");
  file(ctx("src2/victim"), "overwritten?");
  link(dest("app2/victim"), outside("victim"));
  copy_ok(request({"src2"}, "/app2"));
  EXPECT_TRUE(S_ISREG(lstat_of(dest("app2/victim")).st_mode)) << "the symlink itself is replaced";
  EXPECT_EQ(read(outside("victim")), "do not touch\n");
}

TEST_P(CopySafetyTest, DanglingDestSymlinkCreatesInsideDestRoot) {
  file(ctx("a.txt"), "payload");
  link(dest("ghost"), "/nonexistent/dir/file");
  copy_ok(request({"a.txt"}, "/ghost"));
  EXPECT_EQ(read(dest("nonexistent/dir/file")), "payload");
  EXPECT_FALSE(exists("/nonexistent/dir/file"));
}

TEST_P(CopySafetyTest, DotDotSourcesCannotLeaveTheContext) {
  for (const char* s : {"../outside/secret", "../../../../etc/passwd", "x/../../outside/secret"}) {
    Result<CopyStats> r = copy_files(request({s}, "/x"));
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().code(), ErrorCode::invalid_input);
  }
  EXPECT_FALSE(exists(dest("x")));
}

TEST_P(CopySafetyTest, SymlinkedSourceParentResolvesInsideTheContext) {
  link(ctx("etcl"), "/etc");
  link(ctx("outl"), "../outside");
  link(ctx("hostl"), outside());
  for (const char* s : {"etcl/passwd", "outl/secret", "hostl/secret", "outl/*", "hostl/sec*"}) {
    Result<CopyStats> r = copy_files(request({s}, "/x/"));
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().code(), ErrorCode::not_found) << s << ": " << r.error().render();
  }
  EXPECT_FALSE(exists(dest("x")));
  // With the path present inside the context, that one is copied.
  file(ctx("etc/passwd"), "context passwd");
  copy_ok(request({"etcl/passwd"}, "/pw"));
  EXPECT_EQ(read(dest("pw")), "context passwd");
}

TEST_P(CopySafetyTest, ContextSymlinkToPasswdIsCopiedAsALink) {
  link(ctx("dir/pw"), "/etc/passwd");
  link(ctx("dir/sec"), outside("secret"));
  copy_ok(request({"dir"}, "/out"));
  EXPECT_EQ(readlink_of(dest("out/pw")), "/etc/passwd");
  EXPECT_EQ(readlink_of(dest("out/sec")), outside("secret"));
  // Named directly, the link is followed inside the context: not the host's file.
  link(ctx("pw"), "/etc/passwd");
  Result<CopyStats> r = copy_files(request({"pw"}, "/pw"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
  EXPECT_FALSE(exists(dest("pw")));
}

TEST_P(CopySafetyTest, SymlinkLoopIsAnError) {
  link(ctx("loop1"), "loop2");
  link(ctx("loop2"), "loop1");
  Result<CopyStats> r = copy_files(request({"loop1"}, "/x"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().render().find("too many levels of symbolic links"), std::string::npos) << r.error().render();
}

TEST_P(CopySafetyTest, ContextIsNotModified) {
  file(ctx("src/f"), "f");
  link(ctx("src/l"), "/etc");
  auto before = snapshot_tree(ctx());
  CopyRequest r = request({"src"}, "/o");
  r.spec.chmod = "777";
  copy_ok(r);
  EXPECT_EQ(snapshot_tree(ctx()), before);
}

INSTANTIATE_TEST_SUITE_P(OpenatAndWalk, CopySafetyTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Walk" : "Openat2"; });

// The user-space walk used where openat2 is missing confines the same way.
class RootDirTest : public CopyTest, public ::testing::WithParamInterface<bool> {};

TEST_P(RootDirTest, ResolvesLikeAChrootedProcess) {
  bool walk = GetParam();
  link(dest("abs"), outside());
  link(dest("rel"), "../../..");
  link(dest("a/b"), "/c");
  dir(dest("c/d"));
  file(dest("file"), "f");
  Result<RootDir> root = RootDir::open(dest(), walk);
  ASSERT_TRUE(root) << root.error().render();
  struct Case {
    const char* path;
    FollowLast follow;
    const char* rel;
    bool exists;
  };
  std::string out_rel = outside().substr(1);
  const Case cases[] = {
      {"/abs", FollowLast::yes, out_rel.c_str(), false},
      {"/abs", FollowLast::no, "abs", true},
      {"rel/x", FollowLast::yes, "x", false},
      {"a/b/d", FollowLast::yes, "c/d", true},
      {"a/b/../../..", FollowLast::yes, "", true},
      {"/c/d/../../../../file", FollowLast::yes, "file", true},
  };
  for (const Case& c : cases) {
    Result<detail::Resolved> r = root->resolve(c.path, c.follow);
    ASSERT_TRUE(r) << c.path << ": " << r.error().render();
    EXPECT_EQ(r->rel, c.rel) << c.path;
    EXPECT_EQ(r->exists, c.exists) << c.path;
  }
  Result<detail::Resolved> through_file = root->resolve("file/x", FollowLast::yes);
  ASSERT_FALSE(through_file);
  EXPECT_EQ(through_file.error().code(), ErrorCode::invalid_input);

  Result<UniqueFd> d = root->open_dir("a/b/d", O_RDONLY);
  ASSERT_TRUE(d) << d.error().render();
  struct stat via {};
  ASSERT_EQ(::fstat(d->get(), &via), 0);
  EXPECT_EQ(via.st_ino, lstat_of(dest("c/d")).st_ino);
  EXPECT_EQ(root->open_dir("abs", O_RDONLY).error().code(), ErrorCode::not_found);

  Result<UniqueFd> made = root->make_dirs("/abs/new/dir", {});
  ASSERT_TRUE(made) << made.error().render();
  EXPECT_TRUE(exists(dest(out_rel + "/new/dir")));
  EXPECT_FALSE(exists(outside("new")));
  EXPECT_EQ(root->open_file("abs", O_RDONLY).error().code(), ErrorCode::syscall) << "never follows the last link";
  EXPECT_EQ(snapshot_tree(outside()), m_outside_before);
}

INSTANTIATE_TEST_SUITE_P(OpenatAndWalk, RootDirTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Walk" : "Openat2"; });

}  // namespace
}  // namespace kiln::solver::ops::test
