// Build-context digests for COPY/ADD cache keys.
#include "solver/ops/context_hash.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "copy_fixture.h"
#include "oci/json.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::solver::ops::test {
namespace {

class ContextHashTest : public CopyTest {
 protected:
  static Copy spec(std::vector<std::string> sources, const std::string& dest_path = "/d/") {
    Copy c;
    c.sources = std::move(sources);
    c.dest = dest_path;
    return c;
  }
  std::string digest(ContextHasher& h, const Copy& c, const std::vector<std::string>& ignore = {},
                     std::vector<std::string>* listing = nullptr) {
    Result<std::string> d = h.digest(ctx(), c, ignore, listing);
    EXPECT_TRUE(d) << d.error().render();
    return d ? *d : std::string();
  }
  std::string fresh(const Copy& c, const std::vector<std::string>& ignore = {}) {
    ContextHasher h("");
    return digest(h, c, ignore);
  }
  std::string state() const { return path_join(m_tmp->path(), "state/context-hashes.json"); }

  // A state file remembering `sha_hex` for ctx(rel) as it is now.
  void forge(const std::string& rel, const std::string& sha_hex, int64_t hashed_after_ctime_ns, bool pretty = false) {
    struct stat st = lstat_of(ctx(rel));
    int64_t ctime = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    std::string text = cat("{\"version\":1,\"entries\":[[", st.st_dev, ",", st.st_ino, ",", st.st_size, ",", mtime,
                           ",", ctime, ",", ctime + hashed_after_ctime_ns, ",", ::time(nullptr), ",\"", sha_hex,
                           "\"]]}");
    if (pretty) {  // not save()'s layout: read by the general JSON parser
      Result<oci::Json> j = oci::parse_json(text, "forged state");
      ASSERT_TRUE(j);
      text = j->dump(2);
    }
    ASSERT_TRUE(make_dirs(path_dirname(state())));
    ASSERT_TRUE(write_file(state(), text));
  }
};

TEST_F(ContextHashTest, CompositionIsTheDocumentedTaggedFields) {
  file(ctx("a.txt"), "alpha", 0644);
  std::string expected = cat("sha256:", Hasher("kiln.copy.context.v1")
                                            .field("item", "a.txt")
                                            .field("type", "file")
                                            .field("mode", "644")
                                            .field("owner", "0:0")
                                            .field("sha256", sha256_hex("alpha"))
                                            .finish_hex());
  EXPECT_EQ(fresh(spec({"a.txt"})), expected);
}

TEST_F(ContextHashTest, TheModeOfACopiedDirectoryItselfDoesNotMatter) {
  file(ctx("src/a"), "a");
  dir(ctx("src/sub"), 0755);
  dir(ctx("src"), 0755);
  std::string d = fresh(spec({"src"}));
  dir(ctx("src"), 0700);
  EXPECT_EQ(fresh(spec({"src"})), d) << "the target directory keeps its own mode";
  dir(ctx("src/sub"), 0700);
  EXPECT_NE(fresh(spec({"src"})), d) << "a directory below it is copied with its mode";
}

TEST_F(ContextHashTest, MtimeOnlyChangesDoNotChangeTheDigest) {
  file(ctx("a"), "a", 0644, 1'000'000'000);
  file(ctx("sub/b"), "b", 0644, 1'000'000'000);
  ContextHasher h(state());
  std::string d1 = digest(h, spec({"."}));
  EXPECT_EQ(d1.size(), 71U);
  file(ctx("a"), "a", 0644, 1'700'000'000);
  dir(ctx("sub"), 0755, 1'700'000'000);
  EXPECT_EQ(digest(h, spec({"."})), d1);
}

TEST_F(ContextHashTest, RewriteWithSameSizeAndMtimeChangesTheDigest) {
  file(ctx("a"), "aaaa", 0644, 1'000'000'000);
  ContextHasher h(state());
  std::string d1 = digest(h, spec({"a"}));
  file(ctx("a"), "bbbb", 0644, 1'000'000'000);
  EXPECT_EQ(lstat_of(ctx("a")).st_mtim.tv_sec, 1'000'000'000);
  EXPECT_NE(digest(h, spec({"a"})), d1);
}

TEST_F(ContextHashTest, RememberedDigestsAreUsedAndCtimeIsInTheirKey) {
  file(ctx("a"), "old1", 0644, 1'000'000'000);
  std::string real_old = fresh(spec({"a"}));
  forge("a", std::string(64, 'f'), 10'000'000'000);
  ContextHasher h(state());
  std::string forged = digest(h, spec({"a"}));
  EXPECT_NE(forged, real_old) << "the remembered (forged) digest was not used";
  // Same size, same mtime, new bytes: only ctime tells.
  file(ctx("a"), "new1", 0644, 1'000'000'000);
  std::string after = digest(h, spec({"a"}));
  EXPECT_NE(after, forged);
  EXPECT_EQ(after, fresh(spec({"a"})));
}

TEST_F(ContextHashTest, StateFilesInAnyJsonLayoutAreRead) {
  file(ctx("a"), "data", 0644, 1'000'000'000);
  std::string real = fresh(spec({"a"}));
  forge("a", std::string(64, 'e'), 10'000'000'000, true);
  ContextHasher h(state());
  EXPECT_NE(digest(h, spec({"a"})), real) << "the pretty-printed state was not used";
}

TEST_F(ContextHashTest, RacilyRememberedDigestsAreCheckedAgain) {
  file(ctx("a"), "data", 0644, 1'000'000'000);
  forge("a", std::string(64, 'f'), 1'000'000);  // hashed 1 ms after the last change
  ContextHasher h(state());
  EXPECT_EQ(digest(h, spec({"a"})), fresh(spec({"a"})));
}

TEST_F(ContextHashTest, ModeChangesChangeTheDigestUnlessChmodFixesIt) {
  file(ctx("a"), "a", 0644);
  ContextHasher h("");
  std::string d1 = digest(h, spec({"a"}));
  ASSERT_EQ(::chmod(ctx("a").c_str(), 0755), 0);
  std::string d2 = digest(h, spec({"a"}));
  EXPECT_NE(d2, d1);
  Copy fixed = spec({"a"});
  fixed.chmod = "600";
  std::string f1 = digest(h, fixed);
  ASSERT_EQ(::chmod(ctx("a").c_str(), 0644), 0);
  EXPECT_EQ(digest(h, fixed), f1);
  fixed.chmod = "u+x";
  EXPECT_NE(digest(h, fixed), d1);
}

TEST_F(ContextHashTest, IgnoredAndUnselectedFilesDoNotMatter) {
  file(ctx("a"), "a");
  file(ctx("b"), "b");
  file(ctx("build.log"), "log 1");
  file(ctx("node_modules/x/y"), "y");
  std::vector<std::string> ignore = {"*.log", "node_modules"};
  ContextHasher h("");
  std::string all = digest(h, spec({"."}), ignore);
  std::string only_a = digest(h, spec({"a"}), ignore);
  file(ctx("build.log"), "log 2, longer");
  file(ctx("node_modules/x/y"), "changed");
  file(ctx("b"), "b changed");
  EXPECT_EQ(digest(h, spec({"a"}), ignore), only_a);
  EXPECT_NE(digest(h, spec({"."}), ignore), all) << "b is selected by `.`";
  file(ctx("b"), "b");
  EXPECT_EQ(digest(h, spec({"."}), ignore), all);
}

TEST_F(ContextHashTest, OwnerPathsAndLinkTargetsMatter) {
  file(ctx("a"), "a");
  link(ctx("l"), "a");
  ContextHasher h("");
  std::string d = digest(h, spec({"."}));
  Copy owned = spec({"."});
  owned.chown = "app:app";
  EXPECT_NE(digest(h, owned), d);
  ASSERT_EQ(::unlink(ctx("l").c_str()), 0);
  link(ctx("l"), "b");
  std::string relinked = digest(h, spec({"."}));
  EXPECT_NE(relinked, d);
  ASSERT_EQ(::rename(ctx("a").c_str(), ctx("a2").c_str()), 0);
  EXPECT_NE(digest(h, spec({"."})), relinked);
  EXPECT_NE(fresh(spec({"a2"})), fresh(spec({"."})));
}

TEST_F(ContextHashTest, HardLinksAreNotTwoFiles) {
  file(ctx("src/a"), "x");
  file(ctx("src/b"), "x");
  std::string copies = fresh(spec({"src"}));
  ASSERT_EQ(::unlink(ctx("src/b").c_str()), 0);
  ASSERT_EQ(::link(ctx("src/a").c_str(), ctx("src/b").c_str()), 0);
  EXPECT_NE(fresh(spec({"src"})), copies);
}

TEST_F(ContextHashTest, ListingNamesEachEntry) {
  file(ctx("a"), "a");
  file(ctx("sub/b"), "b");
  ContextHasher h("");
  std::vector<std::string> l1;
  digest(h, spec({"."}), {}, &l1);
  ASSERT_EQ(l1.size(), 4U);
  EXPECT_EQ(l1[0].substr(0, 9), ". sha256:");
  EXPECT_EQ(l1[1].substr(0, 9), "a sha256:");
  EXPECT_EQ(l1[3].substr(0, 13), "sub/b sha256:");
  file(ctx("sub/b"), "B");
  std::vector<std::string> l2;
  digest(h, spec({"."}), {}, &l2);
  ASSERT_EQ(l2.size(), 4U);
  EXPECT_EQ(l2[0], l1[0]);
  EXPECT_EQ(l2[1], l1[1]);
  EXPECT_NE(l2[3], l1[3]);
}

TEST_F(ContextHashTest, StateIsSavedAtomicallyAndReadBack) {
  for (int i = 0; i < 300; ++i) {
    file(ctx(cat("d", i % 7, "/f", i)), std::string(8 * 1024, static_cast<char>('a' + i % 26)));
  }
  std::string d1;
  {
    ContextHasher h(state());
    d1 = digest(h, spec({"."}));
    ASSERT_TRUE(h.save());
  }
  Result<std::string> text = read_file(state());
  ASSERT_TRUE(text);
  Result<oci::Json> j = oci::parse_json(*text, "state");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["version"], 1);
  EXPECT_EQ((*j)["entries"].size(), 300U);
  ContextHasher again(state());
  EXPECT_EQ(digest(again, spec({"."})), d1);
  EXPECT_EQ(d1, fresh(spec({"."})));
  ASSERT_TRUE(write_file(state(), "{not json"));
  ContextHasher corrupt(state());
  EXPECT_EQ(digest(corrupt, spec({"."})), d1) << "a corrupt state file only costs a rehash";
}

TEST_F(ContextHashTest, ErrorsAreThoseOfTheCopy) {
  ContextHasher h("");
  Result<std::string> d = h.digest(ctx(), spec({"missing"}), {}, nullptr);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::not_found);
  file(ctx("a"), "a");
  file(ctx("b"), "b");
  d = h.digest(ctx(), spec({"a", "b"}, "/x"), {}, nullptr);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::invalid_input);
}

}  // namespace
}  // namespace kiln::solver::ops::test
