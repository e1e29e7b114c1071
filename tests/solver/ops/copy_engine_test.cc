// COPY/ADD semantics of copy_files() on plain directories (no mounts).
#include <sys/stat.h>
#include <unistd.h>

#include "copy_fixture.h"
#include "util/file.h"

namespace kiln::solver::ops::test {
namespace {

using CopyEngineTest = CopyTest;

TEST_F(CopyEngineTest, FileToNewPathBecomesThatFile) {
  file(ctx("a.txt"), "alpha", 0640, 1'234'567'890);
  CopyStats s = copy_ok(request({"a.txt"}, "/x"));
  EXPECT_EQ(read(dest("x")), "alpha");
  EXPECT_EQ(lstat_of(dest("x")).st_mode & 07777, 0640U);
  EXPECT_EQ(lstat_of(dest("x")).st_mtim.tv_sec, 1'234'567'890);
  EXPECT_EQ(s.files, 1);
  EXPECT_EQ(s.bytes, 5);
}

TEST_F(CopyEngineTest, FileToSlashDestGoesInsideAndCreatesParents0755) {
  ::umask(077);
  file(ctx("a.txt"), "alpha");
  copy_ok(request({"/a.txt"}, "/p/q/r/"));
  ::umask(022);
  EXPECT_EQ(read(dest("p/q/r/a.txt")), "alpha");
  for (const char* d : {"p", "p/q", "p/q/r"}) {
    EXPECT_EQ(lstat_of(dest(d)).st_mode & 07777, 0755U) << d;
  }
}

TEST_F(CopyEngineTest, FileToExistingDirectoryWithoutSlashGoesInside) {
  file(ctx("a.txt"), "alpha");
  dir(dest("d"));
  copy_ok(request({"a.txt"}, "/d"));
  EXPECT_EQ(read(dest("d/a.txt")), "alpha");
}

TEST_F(CopyEngineTest, FileReplacesExistingFileAndSymlink) {
  file(ctx("a.txt"), "new");
  file(dest("x"), "old");
  link(dest("d/a.txt"), "elsewhere");
  copy_ok(request({"a.txt"}, "/x"));
  copy_ok(request({"a.txt"}, "/d/"));
  EXPECT_EQ(read(dest("x")), "new");
  EXPECT_TRUE(S_ISREG(lstat_of(dest("d/a.txt")).st_mode));
  EXPECT_EQ(read(dest("d/a.txt")), "new");
}

TEST_F(CopyEngineTest, FileOntoExistingDirectoryEntryIsAnError) {
  file(ctx("a.txt"), "new");
  dir(dest("d/a.txt"));
  EXPECT_EQ(copy_err(request({"a.txt"}, "/d/")), "cannot replace directory `/d/a.txt` with a file: Is a directory");
}

TEST_F(CopyEngineTest, DirectorySourceCopiesItsContents) {
  file(ctx("src/x"), "x");
  file(ctx("src/sub/y"), "y");
  CopyStats s = copy_ok(request({"src"}, "/out"));
  EXPECT_EQ(read(dest("out/x")), "x");
  EXPECT_EQ(read(dest("out/sub/y")), "y");
  EXPECT_FALSE(exists(dest("out/src")));
  EXPECT_EQ(s.files, 2);
  EXPECT_EQ(s.directories, 1);
}

TEST_F(CopyEngineTest, DirectorySourceWithTrailingSlashIsTheSame) {
  file(ctx("src/x"), "x");
  copy_ok(request({"src/"}, "/out/"));
  EXPECT_EQ(read(dest("out/x")), "x");
}

TEST_F(CopyEngineTest, DirectoryMergesIntoExistingDirectory) {
  file(ctx("src/x"), "x");
  file(dest("out/keep"), "kept");
  copy_ok(request({"src"}, "/out"));
  EXPECT_EQ(read(dest("out/keep")), "kept");
  EXPECT_EQ(read(dest("out/x")), "x");
}

TEST_F(CopyEngineTest, DirectoryOntoExistingFileIsAnError) {
  file(ctx("src/x"), "x");
  file(dest("out"), "file");
  EXPECT_EQ(copy_err(request({"src"}, "/out")), "cannot copy to non-directory: `/out`: Not a directory");
  file(dest("d/sub"), "file");
  file(ctx("src2/sub/y"), "y");
  EXPECT_EQ(copy_err(request({"src2"}, "/d")), "cannot copy to non-directory: `/d/sub`: Not a directory");
}

TEST_F(CopyEngineTest, ContextRootCopiesEverything) {
  file(ctx("a"), "a");
  file(ctx("b/c"), "c");
  copy_ok(request({"."}, "/"));
  EXPECT_EQ(read(dest("a")), "a");
  EXPECT_EQ(read(dest("b/c")), "c");
}

TEST_F(CopyEngineTest, SeveralSourcesNeedADestEndingWithSlash) {
  file(ctx("a"), "a");
  file(ctx("b"), "b");
  EXPECT_EQ(copy_err(request({"a", "b"}, "/d")),
            "When using COPY with more than one source file, the destination must be a directory and end with a /");
  CopyRequest add = request({"a", "b"}, "/d");
  add.spec.add = true;
  EXPECT_EQ(copy_err(add),
            "When using ADD with more than one source file, the destination must be a directory and end with a /");
  EXPECT_FALSE(exists(dest("d"))) << "nothing is written before the check";
  copy_ok(request({"a", "b"}, "/d/"));
  EXPECT_EQ(read(dest("d/a")), "a");
  EXPECT_EQ(read(dest("d/b")), "b");
}

TEST_F(CopyEngineTest, WildcardMatchingSeveralNeedsSlashButOneDoesNot) {
  file(ctx("a1.txt"), "1");
  file(ctx("a2.txt"), "2");
  file(ctx("b.txt"), "b");
  EXPECT_EQ(copy_err(request({"a*.txt"}, "/d")),
            "When using COPY with more than one source file, the destination must be a directory and end with a /");
  copy_ok(request({"b*.txt"}, "/single"));
  EXPECT_EQ(read(dest("single")), "b");
}

TEST_F(CopyEngineTest, WildcardMatchingNothingCopiesNothing) {
  file(ctx("a.txt"), "a");
  CopyStats s = copy_ok(request({"*.none"}, "/d/"));
  EXPECT_EQ(s.files, 0);
  EXPECT_FALSE(exists(dest("d")));
  copy_ok(request({"*.none", "a.txt"}, "/e/"));
  EXPECT_EQ(read(dest("e/a.txt")), "a");
}

TEST_F(CopyEngineTest, MissingLiteralSourceIsNotFound) {
  CopyRequest r = request({"nope.txt"}, "/x");
  Result<CopyStats> s = copy_files(r);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::not_found);
  EXPECT_EQ(s.error().render(), "copy source `nope.txt` not found in the build context");
  EXPECT_EQ(copy_err(request({"dir/*.txt"}, "/x/")), "copy source `dir/*.txt` not found in the build context");
}

TEST_F(CopyEngineTest, WildcardSyntaxIsGoFilepathMatch) {
  for (const char* n : {"a1", "b2", "c3", "d4", "star*", "dir/x.go", "dir/y.c", "other/z.go"}) {
    file(ctx(n), n);
  }
  copy_ok(request({"[a-c]?"}, "/range/"));
  EXPECT_TRUE(exists(dest("range/a1")) && exists(dest("range/b2")) && exists(dest("range/c3")));
  EXPECT_FALSE(exists(dest("range/d4")));
  copy_ok(request({"[^a-c]?"}, "/neg/"));
  EXPECT_TRUE(exists(dest("neg/d4")));
  EXPECT_FALSE(exists(dest("neg/a1")));
  copy_ok(request({"star\\*"}, "/esc"));
  EXPECT_EQ(read(dest("esc")), "star*");
  copy_ok(request({"*/*.go"}, "/go/"));
  EXPECT_EQ(read(dest("go/x.go")), "dir/x.go");
  EXPECT_EQ(read(dest("go/z.go")), "other/z.go");
  EXPECT_FALSE(exists(dest("go/y.c")));
}

TEST_F(CopyEngineTest, WildcardMatchingDirectoriesCopiesTheirContents) {
  file(ctx("dir1/one"), "1");
  file(ctx("dir2/two"), "2");
  copy_ok(request({"dir*"}, "/all/"));
  EXPECT_EQ(read(dest("all/one")), "1");
  EXPECT_EQ(read(dest("all/two")), "2");
}

TEST_F(CopyEngineTest, SourceSymlinkIsFollowedInsideTheContext) {
  file(ctx("real.txt"), "real");
  link(ctx("alias"), "real.txt");
  link(ctx("abs"), "/real.txt");  // absolute: from the context root
  copy_ok(request({"alias"}, "/a"));
  copy_ok(request({"abs"}, "/b"));
  EXPECT_TRUE(S_ISREG(lstat_of(dest("a")).st_mode));
  EXPECT_EQ(read(dest("a")), "real");
  EXPECT_EQ(read(dest("b")), "real");
  copy_ok(request({"alias"}, "/d/"));
  EXPECT_EQ(read(dest("d/alias")), "real") << "named after the source as written";
}

TEST_F(CopyEngineTest, SymlinksBelowADirectoryAreCopiedAsSymlinks) {
  file(ctx("src/target"), "t");
  link(ctx("src/rel"), "target");
  link(ctx("src/abs"), "/etc/passwd");
  link(ctx("src/dangling"), "../nowhere");
  CopyStats s = copy_ok(request({"src"}, "/out"));
  EXPECT_EQ(readlink_of(dest("out/rel")), "target");
  EXPECT_EQ(readlink_of(dest("out/abs")), "/etc/passwd");
  EXPECT_EQ(readlink_of(dest("out/dangling")), "../nowhere");
  EXPECT_EQ(s.symlinks, 3);
}

TEST_F(CopyEngineTest, ParentsKeepsSourcePaths) {
  file(ctx("a/b/c.txt"), "c");
  file(ctx("a/b/skip.log"), "s");
  file(ctx("x/y.txt"), "y");
  dir(ctx("a"), 0750);
  CopyRequest r = request({"a/b/c.txt", "x/y.txt"}, "/out/");
  r.spec.parents = true;
  copy_ok(r);
  EXPECT_EQ(read(dest("out/a/b/c.txt")), "c");
  EXPECT_EQ(read(dest("out/x/y.txt")), "y");
  EXPECT_FALSE(exists(dest("out/a/b/skip.log")));
  EXPECT_EQ(lstat_of(dest("out/a")).st_mode & 07777, 0750U) << "parents keep the source's metadata";
}

TEST_F(CopyEngineTest, ParentsWithPivotAndWildcards) {
  file(ctx("app/src/m/one.go"), "1");
  file(ctx("app/src/n/two.go"), "2");
  file(ctx("app/src/n/doc.md"), "d");
  CopyRequest r = request({"app/./src/*/*.go"}, "/out/");
  r.spec.parents = true;
  copy_ok(r);
  EXPECT_EQ(read(dest("out/src/m/one.go")), "1");
  EXPECT_EQ(read(dest("out/src/n/two.go")), "2");
  EXPECT_FALSE(exists(dest("out/src/n/doc.md")));
  EXPECT_FALSE(exists(dest("out/app")));
  CopyRequest missing = request({"app/./nope.go"}, "/out/");
  missing.spec.parents = true;
  EXPECT_EQ(copy_err(missing), "copy source `app/./nope.go` not found in the build context");
}

TEST_F(CopyEngineTest, ParentsOfADirectoryBringItsContents) {
  file(ctx("a/b/c/d.txt"), "d");
  CopyRequest r = request({"a/b"}, "/out/");
  r.spec.parents = true;
  copy_ok(r);
  EXPECT_EQ(read(dest("out/a/b/c/d.txt")), "d");
}

TEST_F(CopyEngineTest, ExcludeDropsMatchesRelativeToEachSource) {
  file(ctx("src/keep.txt"), "k");
  file(ctx("src/drop.log"), "d");
  file(ctx("src/sub/deep.log"), "d");
  file(ctx("src/sub/deep.txt"), "k");
  file(ctx("src/cache/a"), "c");
  file(ctx("src/logs/keep.log"), "k");
  CopyRequest r = request({"src"}, "/out/");
  r.spec.exclude = {"*.log", "cache", "*/*.log", "!logs/keep.log"};
  copy_ok(r);
  EXPECT_TRUE(exists(dest("out/keep.txt")));
  EXPECT_TRUE(exists(dest("out/sub/deep.txt")));
  EXPECT_FALSE(exists(dest("out/drop.log")));
  EXPECT_FALSE(exists(dest("out/sub/deep.log")));
  EXPECT_FALSE(exists(dest("out/cache")));
  EXPECT_EQ(read(dest("out/logs/keep.log")), "k");
}

TEST_F(CopyEngineTest, ExcludeAppliesToWildcardDirectoryMatches) {
  file(ctx("dir1/a.png"), "p");
  file(ctx("dir1/b.txt"), "t");
  file(ctx("dir2/c.mpeg"), "m");
  CopyRequest r = request({"dir*"}, "/4/");
  r.spec.exclude = {"*.png", "*.txt"};
  copy_ok(r);
  EXPECT_FALSE(exists(dest("4/a.png")));
  EXPECT_FALSE(exists(dest("4/b.txt")));
  EXPECT_EQ(read(dest("4/c.mpeg")), "m");
}

TEST_F(CopyEngineTest, DockerignoreHidesContextPaths) {
  file(ctx("app.c"), "c");
  file(ctx("README.md"), "r");
  file(ctx("docs/guide.md"), "g");
  file(ctx("docs/keep.md"), "k");
  file(ctx("secret/key"), "k");
  CopyRequest r = request({"."}, "/out/");
  r.ignore = {"*.md", "**/*.md", "!docs/keep.md", "secret"};
  copy_ok(r);
  EXPECT_TRUE(exists(dest("out/app.c")));
  EXPECT_FALSE(exists(dest("out/README.md")));
  EXPECT_FALSE(exists(dest("out/docs/guide.md")));
  EXPECT_TRUE(exists(dest("out/docs/keep.md")));
  EXPECT_FALSE(exists(dest("out/secret")));

  CopyRequest named = request({"README.md"}, "/x");
  named.ignore = r.ignore;
  Result<CopyStats> s = copy_files(named);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::not_found);
  EXPECT_EQ(s.error().hint(), "`README.md` is excluded by the ignore file (.dockerignore)");

  CopyRequest wild = request({"*.md"}, "/w/");
  wild.ignore = r.ignore;
  copy_ok(wild);
  EXPECT_FALSE(exists(dest("w")));

  CopyRequest stage = request({"README.md"}, "/stage");  // not a context: no ignore file
  stage.src_is_context = false;
  stage.ignore = r.ignore;
  copy_ok(stage);
  EXPECT_EQ(read(dest("stage")), "r");
}

TEST_F(CopyEngineTest, DockerignoreExceptionKeepsAnExcludedDirectoryVisible) {
  file(ctx("vendor/lib/keep.go"), "k");
  file(ctx("vendor/lib/drop.go"), "d");
  CopyRequest r = request({"vendor"}, "/out");
  r.ignore = {"vendor", "!vendor/lib/keep.go"};
  copy_ok(r);
  EXPECT_TRUE(exists(dest("out/lib/keep.go")));
  EXPECT_FALSE(exists(dest("out/lib/drop.go")));
}

TEST_F(CopyEngineTest, SourceOutsideTheRootIsRefused) {
  for (const char* s : {"../outside/secret", "a/../../outside/secret", "/../outside/secret", ".."}) {
    Result<CopyStats> r = copy_files(request({s}, "/x"));
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().code(), ErrorCode::invalid_input) << s;
    EXPECT_EQ(r.error().render(), std::string("copy source `") + s + "` is outside the build context");
  }
  EXPECT_FALSE(exists(dest("x")));
}

TEST_F(CopyEngineTest, SelectContextFilesListsWhatIsCopied) {
  file(ctx("src/a"), "a");
  file(ctx("src/sub/b"), "b");
  file(ctx("src/x.log"), "x");
  link(ctx("src/l"), "a");
  file(ctx("top.txt"), "t");
  Copy spec;
  spec.sources = {"src", "top.txt"};
  spec.dest = "/d/";
  spec.exclude = {"*.log"};
  Result<std::vector<SelectedEntry>> sel = select_context_files(ctx(), spec, {"src/sub"});
  ASSERT_TRUE(sel) << sel.error().render();
  std::vector<std::string> got;
  for (const SelectedEntry& e : *sel) {
    got.push_back(e.path + " -> " + e.dest_path + (e.source_root ? " (root)" : "") +
                  (e.link_target.empty() ? "" : " @" + e.link_target));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"src ->  (root)", "src/a -> a", "src/l -> l @a", "top.txt -> top.txt (root)"}));
}

TEST_F(CopyEngineTest, WhatIsSelectedIsWhatIsCopied) {
  file(ctx("src/a.c"), "a");
  file(ctx("src/a.o"), "o");
  file(ctx("src/inc/x.h"), "x");
  file(ctx("src/inc/gen/y.h"), "y");
  file(ctx("src/vendor/keep/k.c"), "k");
  file(ctx("src/vendor/drop/d.c"), "d");
  link(ctx("src/inc/l"), "x.h");
  CopyRequest r = request({"src"}, "/out/");
  r.ignore = {"src/vendor", "!src/vendor/keep"};
  r.spec.exclude = {"*.o", "inc/gen"};
  copy_ok(r);
  Result<std::vector<SelectedEntry>> sel = select_context_files(ctx(), r.spec, r.ignore);
  ASSERT_TRUE(sel) << sel.error().render();
  std::map<std::string, std::string> selected;
  for (const SelectedEntry& e : *sel) {
    if (!e.source_root) {
      selected[e.dest_path] = std::to_string(e.mode & S_IFMT);
    }
  }
  std::map<std::string, std::string> copied;
  for (const auto& [path, desc] : snapshot_tree(dest("out"))) {
    copied[path] = std::to_string(lstat_of(dest("out/" + path)).st_mode & S_IFMT);
  }
  EXPECT_EQ(selected, copied);
  EXPECT_TRUE(copied.count("vendor/keep/k.c"));
  EXPECT_FALSE(copied.count("vendor/drop"));
}

TEST_F(CopyEngineTest, DestEndingInDotIsADirectory) {
  file(ctx("a"), "a");
  file(ctx("b"), "b");
  copy_ok(request({"a", "b"}, "/w/."));
  EXPECT_EQ(read(dest("w/a")), "a");
  EXPECT_EQ(read(dest("w/b")), "b");
}

}  // namespace
}  // namespace kiln::solver::ops::test
