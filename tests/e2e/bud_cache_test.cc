// kiln bud and the build cache (issue 6, STYLE.md K1-K3): what hits, what
// misses, --no-cache, --explain-cache, and reproducible images.
#include <fcntl.h>
#include <sys/stat.h>

#include "tests/e2e/bud_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

class BudCacheTest : public BudTest {
 protected:
  void SetUp() override {
    BudTest::SetUp();
    m_ctx = context({{"Dockerfile",
                      "FROM busybox\n"
                      "COPY a.txt /a.txt\n"
                      "RUN cat /a.txt > /copy-of-a\n"
                      "COPY . /all/\n"
                      "WORKDIR /w\n"},
                     {"a.txt", "aaaa\n"},
                     {"b.txt", "b\n"},
                     {"ignored.log", "log\n"},
                     {".dockerignore", "*.log\n"}});
  }
  // A build with --progress=json; the steps that ran and the image id.
  struct Build {
    std::vector<std::string> ran;
    std::vector<std::string> cached;
    std::string id;
    std::string err;
  };
  Build build(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--progress=json");
    auto r = bud(m_ctx, extra);
    EXPECT_EQ(r.status, 0) << r.describe();
    return Build{ran(r.err), cached(r.err), last_line(r.out), r.err};
  }
  std::string file(const std::string& name) const { return path_join(m_ctx, name); }
  // Rewrites a file and puts its size and mtime back as they were.
  void rewrite_keeping_mtime(const std::string& name, const std::string& content) {
    struct stat before {};
    ASSERT_EQ(::stat(file(name).c_str(), &before), 0);
    ASSERT_TRUE(write_file(file(name), content));
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, file(name).c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(::stat(file(name).c_str(), &after), 0);
    ASSERT_EQ(after.st_size, before.st_size);
    ASSERT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  }
  void touch(const std::string& name) {
    struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    ASSERT_EQ(::utimensat(AT_FDCWD, file(name).c_str(), times, 0), 0);
  }
  const std::vector<std::string> k_all = {"COPY a.txt /a.txt", "RUN cat /a.txt > /copy-of-a", "COPY . /all/",
                                          "WORKDIR /w"};
  std::string m_ctx;
};

TEST_F(BudCacheTest, RebuildWithNothingChangedHitsEveryStepAndGivesTheSameId) {
  Build first = build();
  EXPECT_EQ(first.ran, k_all);
  Build second = build();
  EXPECT_TRUE(second.ran.empty()) << second.err;
  EXPECT_EQ(second.cached, k_all);
  EXPECT_EQ(second.id, first.id);
  ASSERT_TRUE(first.id.starts_with("sha256:"));
}

TEST_F(BudCacheTest, SameSizeAndMtimeButOtherBytesMisses) {
  build();
  ASSERT_NO_FATAL_FAILURE(rewrite_keeping_mtime("a.txt", "bbbb\n"));
  Build b = build();
  EXPECT_EQ(b.ran, k_all) << b.err;
  std::string fs = build_fs(m_ctx);
  EXPECT_EQ(file_text(path_join(fs, "copy-of-a")), "bbbb\n");
}

TEST_F(BudCacheTest, ModeChangeAloneMisses) {
  build();
  ASSERT_EQ(::chmod(file("b.txt").c_str(), 0755), 0);
  Build b = build();
  // a.txt is unchanged: its COPY and the RUN hit; `COPY .` sees the new mode.
  EXPECT_EQ(b.ran, (std::vector<std::string>{"COPY . /all/", "WORKDIR /w"})) << b.err;
  EXPECT_EQ(b.cached, (std::vector<std::string>{"COPY a.txt /a.txt", "RUN cat /a.txt > /copy-of-a"}));
}

TEST_F(BudCacheTest, TouchingFilesOrChangingIgnoredOnesHits) {
  Build first = build();
  touch("a.txt");                                   // a copied file, content unchanged
  ASSERT_TRUE(write_file(file("ignored.log"), "another log line, longer\n"));  // ignored
  ASSERT_TRUE(write_file(path(cat("unrelated-", ::getpid())), "x"));            // outside the context
  Build b = build();
  EXPECT_TRUE(b.ran.empty()) << b.err;
  EXPECT_EQ(b.id, first.id);
}

TEST_F(BudCacheTest, NoCacheRunsEveryStep) {
  build();
  Build b = build({"--no-cache"});
  EXPECT_EQ(b.ran, k_all) << b.err;
  EXPECT_TRUE(b.cached.empty());
  Build layers_off = build({"--layers=false"});
  EXPECT_EQ(layers_off.ran, k_all) << layers_off.err;
}

TEST_F(BudCacheTest, ExplainCacheSaysWhichInputChanged) {
  auto first = bud(m_ctx, {"--explain-cache"});
  ASSERT_EQ(first.status, 0) << first.describe();
  ASSERT_TRUE(write_file(file("b.txt"), "changed\n"));
  auto r = bud(m_ctx, {"--explain-cache"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.err.find("--> cache miss: COPY source `b.txt` content changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--> Using cache"), std::string::npos) << r.err;
  auto j = bud(m_ctx, {"--explain-cache", "--progress=json", "--build-arg", "UNUSED=1"});
  ASSERT_EQ(j.status, 0) << j.describe();
  // Nothing changed since the last build: no miss, no reasons.
  for (const auto& e : events(j.err)) {
    EXPECT_FALSE(e.contains("cache_miss_reasons")) << e.dump();
  }
}

TEST_F(BudCacheTest, ExplainCacheNamesAChangedBuildArg) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nARG V=1\nRUN echo $V > /v\n"}}, "args");
  ASSERT_EQ(bud(ctx, {"--explain-cache"}).status, 0);
  auto r = bud(ctx, {"--explain-cache", "--build-arg", "V=2"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.err.find("--> cache miss: env V changed"), std::string::npos) << r.err;
}

// Two --no-cache builds on two fresh stores with SOURCE_DATE_EPOCH: the
// same manifest digest (created times are the epoch, later mtimes clamped).
TEST_F(BudCacheTest, SourceDateEpochGivesTheSameDigestOnFreshStores) {
  std::string other = path("store2");
  ASSERT_EQ(run_kiln(other, {"pull", "oci:" + busybox_layout()}).status, 0);
  std::vector<std::string> args = {"bud", "--no-cache", "-t", "repro:1", m_ctx};
  auto a = run_kiln(m_root, args, {{"SOURCE_DATE_EPOCH", "1700000000"}});
  ASSERT_EQ(a.status, 0) << a.describe();
  auto b = run_kiln(other, args, {{"SOURCE_DATE_EPOCH", "1700000000"}});
  ASSERT_EQ(b.status, 0) << b.describe();
  auto ia = inspect("repro:1");
  auto ib_run = run_kiln(other, {"inspect", "repro:1"});
  auto ib = oci::parse_json(ib_run.out, "inspect");
  ASSERT_TRUE(ib);
  EXPECT_EQ(ia["digest"], (*ib)["digest"]);
  EXPECT_EQ(ia["config"]["created"], "2023-11-14T22:13:20Z");
  for (const auto& h : ia["config"]["history"]) {
    if (h.value("comment", "") == "buildkit.dockerfile.v0") {
      EXPECT_EQ(h.value("created", ""), "2023-11-14T22:13:20Z") << h.dump();
    }
  }
  // The flag and the build arg say the same.
  auto c = bud(m_ctx, {"--no-cache", "--source-date-epoch", "1700000000", "-t", "repro:2"});
  ASSERT_EQ(c.status, 0) << c.describe();
  EXPECT_EQ(inspect("repro:2")["digest"], ia["digest"]);
}

// Without SOURCE_DATE_EPOCH, two builds on fresh stores of steps that make
// no new timestamps (COPY keeps the context's mtimes) differ only in
// `created`. (A RUN's new files carry the time they were made: that is what
// SOURCE_DATE_EPOCH is for.)
TEST_F(BudCacheTest, WithoutEpochOnlyCreatedTimesDiffer) {
  std::string ctx = context({{"Dockerfile",
                              "FROM busybox\nCOPY a.txt /a.txt\nCOPY dir/ /srv/\nENV A=1\nLABEL l=v\nCMD [\"sh\"]\n"},
                             {"a.txt", "a\n"},
                             {"dir/x.txt", "x\n"}},
                            "plain");
  std::string other = path("store2");
  ASSERT_EQ(run_kiln(other, {"pull", "oci:" + busybox_layout()}).status, 0);
  auto a = bud(ctx, {"-t", "p:1"});
  ASSERT_EQ(a.status, 0) << a.describe();
  ::sleep(1);  // so that `created` really differs
  auto b = run_kiln(other, {"bud", "-t", "p:1", ctx});
  ASSERT_EQ(b.status, 0) << b.describe();
  oci::Json ca = inspect("p:1")["config"];
  auto ib = oci::parse_json(run_kiln(other, {"inspect", "p:1"}).out, "inspect");
  ASSERT_TRUE(ib);
  oci::Json cb = (*ib)["config"];
  EXPECT_NE(ca["created"], cb["created"]);
  for (auto* c : {&ca, &cb}) {
    c->erase("created");
    for (auto& h : (*c)["history"]) {
      h.erase("created");
    }
  }
  EXPECT_EQ(ca.dump(), cb.dump());
}

}  // namespace
}  // namespace kiln::test
