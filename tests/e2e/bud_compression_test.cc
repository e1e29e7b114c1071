// --compression of layers the build cache already holds (issue 6): a cached
// layer is given the requested compression at commit, as BuildKit's exporter
// does, while the base image's layers keep theirs. Also `kiln commit
// --compression` of a working container's layers.
#include <sys/stat.h>

#include "tests/e2e/bud_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

class BudCompressionTest : public BudTest {
 protected:
  static std::vector<std::string> field(const oci::Json& layers, const char* key, size_t from = 0) {
    std::vector<std::string> out;
    for (size_t i = from; i < layers.size(); ++i) {
      out.push_back(layers[i].value(key, ""));
    }
    return out;
  }
  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  }
  std::vector<std::string> conversion_records() const {
    auto names = list_dir(path_join(m_root, "kiln/cache/conversions"));
    return names ? *names : std::vector<std::string>{};
  }
};

constexpr const char* k_dockerfile =
    "FROM busybox\n"
    "RUN echo 1 > /one\n"
    "COPY a.txt /a.txt\n"
    "RUN rm /one && echo 2 > /two\n";

TEST_F(BudCompressionTest, CachedLayersTakeTheRequestedCompression) {
  std::string ctx = context({{"Dockerfile", k_dockerfile}, {"a.txt", "a\n"}});
  oci::Json base = inspect("busybox")["manifest"]["layers"];
  size_t nb = base.size();
  auto g = bud(ctx, {"-t", "g:1"});
  ASSERT_EQ(g.status, 0) << g.describe();
  oci::Json gzip = inspect("g:1");
  oci::Json gl = gzip["manifest"]["layers"];
  ASSERT_EQ(gl.size(), nb + 3);
  EXPECT_EQ(field(gl, "mediaType", nb), std::vector<std::string>(3, "application/vnd.oci.image.layer.v1.tar+gzip"));

  // Every step is a cache hit, yet every new layer is zstd now; the base's stay.
  auto z = kiln({"--log-level", "debug", "bud", "--progress", "json", "-t", "z:1", "--compression", "zstd", ctx});
  ASSERT_EQ(z.status, 0) << z.describe();
  EXPECT_EQ(cached(z.err).size(), 3u) << z.err;
  EXPECT_EQ(ran(z.err).size(), 0u) << z.err;
  EXPECT_EQ(count(z.err, "as zstd"), 3u) << z.err;  // three re-encodings (debug log)
  oci::Json zstd = inspect("z:1");
  oci::Json zl = zstd["manifest"]["layers"];
  ASSERT_EQ(zl.size(), nb + 3);
  EXPECT_EQ(field(zl, "mediaType", nb), std::vector<std::string>(3, "application/vnd.oci.image.layer.v1.tar+zstd"));
  for (size_t i = 0; i < nb; ++i) {
    EXPECT_EQ(zl[i], base[i]) << "base layer " << i << " is kept as it is";
  }
  for (size_t i = nb; i < zl.size(); ++i) {
    EXPECT_NE(zl[i]["digest"], gl[i]["digest"]) << i;
  }
  // Same tars: diffIDs, and so the config and the image id, are unchanged.
  EXPECT_EQ(zstd["config"]["rootfs"], gzip["config"]["rootfs"]);
  EXPECT_EQ(trim(z.out), trim(g.out));
  EXPECT_EQ(conversion_records().size(), 6u);  // each layer as zstd, and as the gzip it came from

  // A second zstd build re-encodes nothing: the conversions are recorded.
  auto z2 = kiln({"--log-level", "debug", "bud", "-t", "z:2", "--compression", "zstd", ctx});
  ASSERT_EQ(z2.status, 0) << z2.describe();
  EXPECT_EQ(count(z2.err, "re-encode"), 0u) << z2.err;
  EXPECT_EQ(count(z2.err, "reuse its zstd blob"), 3u) << z2.err;
  EXPECT_EQ(inspect("z:2")["manifest"]["layers"], zl);
  // Back to gzip: the original blobs, without re-encoding.
  auto g2 = kiln({"--log-level", "debug", "bud", "-t", "g:2", ctx});
  ASSERT_EQ(g2.status, 0) << g2.describe();
  EXPECT_EQ(count(g2.err, "re-encode"), 0u) << g2.err;
  EXPECT_EQ(inspect("g:2")["manifest"]["layers"], gl);

  // none: an uncompressed layer's digest is its diffID.
  ASSERT_EQ(bud(ctx, {"-t", "n:1", "--compression", "none"}).status, 0);
  oci::Json none = inspect("n:1");
  oci::Json nl = none["manifest"]["layers"];
  EXPECT_EQ(field(nl, "mediaType", nb), std::vector<std::string>(3, "application/vnd.oci.image.layer.v1.tar"));
  oci::Json diff_ids = none["config"]["rootfs"]["diff_ids"];
  for (size_t i = nb; i < nl.size(); ++i) {
    EXPECT_EQ(nl[i]["digest"], diff_ids[i]) << i;
  }
  EXPECT_EQ(none["config"]["rootfs"], gzip["config"]["rootfs"]);

  // Docker format: Docker's zstd layer type.
  ASSERT_EQ(bud(ctx, {"-t", "d:1", "--format", "docker", "--compression", "zstd"}).status, 0);
  EXPECT_EQ(field(inspect("d:1")["manifest"]["layers"], "mediaType", nb),
            std::vector<std::string>(3, "application/vnd.docker.image.rootfs.diff.tar.zstd"));
}

// The converted image is sound where nothing is extracted yet: exported as
// an OCI archive and used as a base in a fresh store, its zstd layers are
// read, verified and applied.
TEST_F(BudCompressionTest, AConvertedImageExtractsInAFreshStore) {
  std::string ctx = context({{"Dockerfile", k_dockerfile}, {"a.txt", "a\n"}});
  ASSERT_EQ(bud(ctx, {"-t", "g:1"}).status, 0);
  // A directory container root may write in (whoever runs the suite).
  std::string out_dir = path("out");
  ASSERT_TRUE(make_dirs(out_dir));
  ASSERT_EQ(::chmod(out_dir.c_str(), 0777), 0);
  std::string archive = path_join(out_dir, "z.tar");
  auto z = bud(ctx, {"-t", "z:1", "--compression", "zstd", "-o", "type=oci,dest=" + archive});
  ASSERT_EQ(z.status, 0) << z.describe();
  EXPECT_EQ(cached(z.err).size(), 0u);  // plain progress; the hits show as "Using cache"
  EXPECT_NE(z.err.find("Using cache"), std::string::npos) << z.err;

  std::string use = context({{"Dockerfile", "FROM oci-archive:" + archive +
                                                "\nRUN cat /a.txt /two > /seen && test ! -e /one\n"}},
                            "use");
  std::string fresh = path("fresh-store");
  std::string dest = path_join(out_dir, "seen");
  auto r = run_kiln(fresh, {"bud", "-o", "type=local,dest=" + dest, use});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(file_text(path_join(dest, "seen")), "a\n2\n");
}

TEST_F(BudCompressionTest, SquashedAndStepwiseCommitsAgree) {
  std::string ctx = context({{"Dockerfile", k_dockerfile}, {"a.txt", "a\n"}});
  size_t nb = inspect("busybox")["manifest"]["layers"].size();
  ASSERT_EQ(bud(ctx, {"-t", "g:1"}).status, 0);
  ASSERT_EQ(bud(ctx, {"-t", "sq:1", "--squash"}).status, 0);  // writes the squashed layer (gzip)
  auto sq = bud(ctx, {"-t", "sq:2", "--squash", "--compression", "zstd"});
  ASSERT_EQ(sq.status, 0) << sq.describe();
  oci::Json sl = inspect("sq:2")["manifest"]["layers"];
  ASSERT_EQ(sl.size(), nb + 1);
  EXPECT_EQ(sl.back().value("mediaType", ""), "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(inspect("sq:2")["config"]["rootfs"], inspect("sq:1")["config"]["rootfs"]);

  // kiln commit: the container's layers (every commit's) take the
  // compression asked for; the base image's stay.
  auto from = kiln({"from", "busybox"});
  ASSERT_EQ(from.status, 0) << from.describe();
  std::string c(trim(from.out));
  ASSERT_EQ(kiln({"run", c, "--", "sh", "-c", "echo x > /x"}).status, 0);
  ASSERT_EQ(kiln({"commit", c, "s:1"}).status, 0);
  ASSERT_EQ(kiln({"run", c, "--", "sh", "-c", "echo y > /y"}).status, 0);
  auto commit = kiln({"commit", "--compression", "zstd", c, "s:2"});
  ASSERT_EQ(commit.status, 0) << commit.describe();
  oci::Json s1 = inspect("s:1");
  oci::Json s2 = inspect("s:2");
  oci::Json l2 = s2["manifest"]["layers"];
  ASSERT_EQ(l2.size(), nb + 2);
  EXPECT_EQ(field(l2, "mediaType", nb), std::vector<std::string>(2, "application/vnd.oci.image.layer.v1.tar+zstd"));
  EXPECT_EQ(s2["config"]["rootfs"]["diff_ids"][nb], s1["config"]["rootfs"]["diff_ids"][nb]);
  EXPECT_EQ(l2[0], s1["manifest"]["layers"][0]);
  auto flat = kiln({"commit", "--squash", "-D", c, "flat:1"});
  ASSERT_EQ(flat.status, 0) << flat.describe();
  oci::Json fl = inspect("flat:1")["manifest"]["layers"];
  ASSERT_EQ(fl.size(), 1u);
  EXPECT_EQ(fl[0].value("mediaType", ""), "application/vnd.oci.image.layer.v1.tar");
}

}  // namespace
}  // namespace kiln::test
