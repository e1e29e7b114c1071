// RUN --mount=type=bind and type=cache end to end (issue 11): every option,
// what reaches the layer (nothing of the mounts), what reaches the cache key.
#include <gtest/gtest.h>

#include "tests/e2e/run_mount_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using RunMountBindTest = RunMountTest;
using RunMountCacheTest = RunMountTest;

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST_F(RunMountBindTest, ContextIsBoundReadOnlyByDefaultAndLeavesNothingInTheLayer) {
  write_context("src/hello.txt", "hello from the context\n");
  std::string before = tree_fingerprint(m_context + "/src");
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN --mount=target=/ctx sh -c 'echo got:$(cat /ctx/src/hello.txt); "
      "if touch /ctx/src/x 2>/dev/null; then echo WRITABLE; fi; echo done > /out'\n");
  EXPECT_EQ(file_in_image(id, "/out"), "done\n");
  std::string listing = layer_listing(id);
  EXPECT_FALSE(has(listing, " ctx")) << listing;  // the target stub is gone
  EXPECT_EQ(tree_fingerprint(m_context + "/src"), before);
}

TEST_F(RunMountBindTest, SourceFromStageImageAndNamedContext) {
  std::string other = make_dir("other");
  ASSERT_TRUE(write_file(path_join(other, "named.txt"), "from a named context\n"));
  auto r = bud(
      "FROM busybox AS base\n"
      "RUN mkdir -p /data && echo stage-file > /data/f\n"
      "FROM busybox\n"
      "RUN --mount=type=bind,from=base,source=/data,target=/d "
      "--mount=type=bind,from=busybox,source=/etc/passwd,target=/etc/p2 "
      "--mount=type=bind,from=extra,target=/n "
      "sh -c 'cat /d/f /n/named.txt > /out; grep -c root /etc/p2 >> /out'\n",
      {"--build-context", "extra=" + other});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(file_in_image(last_line(r.out), "/out"), "stage-file\nfrom a named context\n1\n");
  std::string listing = layer_listing(last_line(r.out));
  EXPECT_FALSE(has(listing, "etc/p2")) << listing;
}

TEST_F(RunMountBindTest, ReadWriteWritesAreDiscardedNeverWrittenToTheSource) {
  write_context("data/keep.txt", "original\n");
  std::string before = tree_fingerprint(path_join(m_context, "data"));
  std::string id = bud_ok(
      "FROM busybox AS base\n"
      "RUN mkdir /data && echo base > /data/b\n"
      "FROM busybox\n"
      "RUN --mount=type=bind,source=data,target=/d,rw sh -c "
      "'echo changed > /d/keep.txt && touch /d/new && rm /d/keep.txt && cp -r /d /copy'\n"
      "RUN --mount=type=bind,from=base,source=/data,target=/s,rw sh -c 'echo x > /s/b && echo y > /s/c'\n"
      "RUN --mount=type=bind,source=data/keep.txt,target=/f,rw sh -c 'echo z >> /f && cat /f > /seen'\n");
  EXPECT_EQ(tree_fingerprint(path_join(m_context, "data")), before);
  EXPECT_EQ(file_in_image(id, "/seen"), "original\nz\n");
  std::string listing = layer_listing(id);
  EXPECT_TRUE(has(listing, "copy/new")) << listing;  // writes were visible during the step
  EXPECT_FALSE(has(listing, " d/")) << listing;
  EXPECT_FALSE(has(listing, " s/")) << listing;
  // The stage's files are untouched for a later reader.
  std::string id2 = bud_ok(
      "FROM busybox AS base\n"
      "RUN mkdir /data && echo base > /data/b\n"
      "FROM busybox\n"
      "RUN --mount=type=bind,from=base,source=/data,target=/s cat /s/b > /b2\n");
  EXPECT_EQ(file_in_image(id2, "/b2"), "base\n");
}

TEST_F(RunMountBindTest, ChangedContextFileMissesTheCacheLikeCopy) {
  write_context("v.txt", "one\n");
  std::string df = "FROM busybox\nRUN --mount=target=/c cat /c/v.txt > /v\n";
  std::string id1 = bud_ok(df);
  EXPECT_EQ(file_in_image(id1, "/v"), "one\n");
  EXPECT_EQ(bud_ok(df), id1);  // unchanged: a cache hit, same image
  write_context("v.txt", "two\n");
  std::string id3 = bud_ok(df);
  EXPECT_EQ(file_in_image(id3, "/v"), "two\n");
}

TEST_F(RunMountBindTest, DockerignoredFilesAreNotVisible) {
  write_context(".dockerignore", "secret.key\n");
  write_context("secret.key", "do not ship\n");
  write_context("app.txt", "app\n");
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN --mount=target=/c sh -c 'ls /c > /listing; test ! -e /c/secret.key'\n");
  std::string listing = file_in_image(id, "/listing");
  EXPECT_TRUE(has(listing, "app.txt")) << listing;
  EXPECT_FALSE(has(listing, "secret.key")) << listing;
}

TEST_F(RunMountBindTest, MissingSourceFailsNamingIt) {
  auto r = bud("FROM busybox\nRUN --mount=source=nope,target=/n true\n");
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(has(r.err, "nope")) << r.describe();
}

TEST_F(RunMountCacheTest, FilledInOneBuildSeenInTheNextWithNoCache) {
  std::string df =
      "FROM busybox\n"
      "RUN --mount=type=cache,target=/var/cache/app sh -c "
      "'ls /var/cache/app > /seen; date +%s%N > /var/cache/app/stamp-$$'\n";
  std::string id1 = bud_ok(df, {"--no-cache"});
  EXPECT_EQ(file_in_image(id1, "/seen"), "");
  std::string id2 = bud_ok(df, {"--no-cache"});
  EXPECT_TRUE(has(file_in_image(id2, "/seen"), "stamp-")) << file_in_image(id2, "/seen");
  // Never in a layer, and the target stub is gone.
  std::string listing = layer_listing(id2);
  EXPECT_FALSE(has(listing, "var/cache/app")) << listing;
  EXPECT_FALSE(has(listing, "stamp-")) << listing;
}

TEST_F(RunMountCacheTest, CacheContentsNeverEnterTheKey) {
  std::string fill = "FROM busybox\nRUN --mount=type=cache,id=k,target=/c sh -c 'echo $RANDOM > /c/r'\n";
  bud_ok(fill, {"--no-cache"});
  std::string df = "FROM busybox\nRUN --mount=type=cache,id=k,target=/c echo built > /b\n";
  std::string id1 = bud_ok(df);
  bud_ok(fill, {"--no-cache"});  // the cache changes
  auto r = bud(df);
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(last_line(r.out), id1);  // still a hit
}

TEST_F(RunMountCacheTest, IdsSeparateAndShareCaches) {
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN --mount=type=cache,id=one,target=/a echo 1 > /a/f\n"
      "RUN --mount=type=cache,id=one,target=/other sh -c 'cat /other/f > /same'\n"
      "RUN --mount=type=cache,id=two,target=/a sh -c 'ls /a > /two'\n"
      "RUN --mount=type=cache,target=/t echo t > /t/f\n"
      "RUN --mount=type=cache,target=/t/ sh -c 'cat /t/f > /default-id'\n");
  EXPECT_EQ(file_in_image(id, "/same"), "1\n");
  EXPECT_EQ(file_in_image(id, "/two"), "");
  EXPECT_EQ(file_in_image(id, "/default-id"), "t\n");
}

TEST_F(RunMountCacheTest, OwnerModeReadOnlySourceAndSeed) {
  std::string id = bud_ok(
      "FROM busybox AS seed\n"
      "RUN mkdir -p /s/sub && echo seeded > /s/sub/f\n"
      "FROM busybox\n"
      "RUN --mount=type=cache,id=own,target=/o,uid=1000,gid=1001,mode=0750 stat -c '%u %g %a' /o > /owner\n"
      "RUN --mount=type=cache,id=ro,target=/r,ro sh -c 'if touch /r/x 2>/dev/null; then echo rw; else echo ro; fi "
      "> /ro'\n"
      "RUN --mount=type=cache,id=sub,target=/sub,source=deep/er sh -c 'echo in-sub > /sub/f'\n"
      "RUN --mount=type=cache,id=sub,target=/all sh -c 'cat /all/deep/er/f > /subseen'\n"
      "RUN --mount=type=cache,id=seeded,target=/z,from=seed,source=/s sh -c 'cat /z/sub/f > /seedseen; "
      "echo more > /z/sub/g'\n"
      "RUN --mount=type=cache,id=seeded,target=/z,from=seed,source=/s sh -c 'cat /z/sub/g > /seedkept'\n");
  EXPECT_EQ(file_in_image(id, "/owner"), "1000 1001 750\n");
  EXPECT_EQ(file_in_image(id, "/ro"), "ro\n");
  EXPECT_EQ(file_in_image(id, "/subseen"), "in-sub\n");
  EXPECT_EQ(file_in_image(id, "/seedseen"), "seeded\n");
  EXPECT_EQ(file_in_image(id, "/seedkept"), "more\n");
}

TEST_F(RunMountCacheTest, PruneListsAndRemovesCacheMounts) {
  std::string df = "FROM busybox\nRUN --mount=type=cache,id=prune-me,target=/c sh -c 'ls /c > /seen; touch /c/f'\n";
  bud_ok(df, {"--no-cache"});
  auto p = kiln({"prune", "--cache-mounts"});
  ASSERT_EQ(p.status, 0) << p.describe();
  EXPECT_TRUE(has(p.out, "removed cache mount prune-me")) << p.describe();
  std::string id = bud_ok(df, {"--no-cache"});
  EXPECT_EQ(file_in_image(id, "/seen"), "");  // it starts empty again
  auto plain = kiln({"prune"});
  ASSERT_EQ(plain.status, 0) << plain.describe();
  EXPECT_FALSE(has(plain.out, "cache mount")) << plain.describe();  // only with --cache-mounts
  std::string id2 = bud_ok(df, {"--no-cache"});
  EXPECT_EQ(file_in_image(id2, "/seen"), "f\n");
}

}  // namespace
}  // namespace kiln::test
