// kiln bud's flags (issue 6): -f (and `-f -`), -t, --label, --annotation,
// --iidfile, --quiet, --progress, each --output type, --squash,
// --compression, the RUN sandbox flags, --build-context, the ignore-file
// lookup order and --platform.
#include <sys/utsname.h>

#include "tests/e2e/bud_fixture.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using BudFlagsTest = BudTest;

TEST_F(BudFlagsTest, FileFlagNamesTheDockerfileAndDashReadsStdin) {
  std::string ctx = context({{"build/My.Dockerfile", "FROM busybox\nCOPY a.txt /from-file.txt\n"},
                             {"Dockerfile", "FROM busybox\nRUN exit 9\n"},
                             {"a.txt", "a\n"}});
  std::string fs = build_fs(ctx, {"-f", path_join(ctx, "build/My.Dockerfile")});
  EXPECT_EQ(file_text(path_join(fs, "from-file.txt")), "a\n");

  std::string dest = path("stdin-out");
  auto r = run_kiln(m_root, {"bud", "-f", "-", "-o", "type=local,dest=" + dest, ctx}, {},
                    "FROM busybox\nCOPY a.txt /from-stdin.txt\n");
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(file_text(path_join(dest, "from-stdin.txt")), "a\n");
  // A Containerfile wins over a Dockerfile when -f is not given.
  ASSERT_TRUE(write_file(path_join(ctx, "Containerfile"), "FROM busybox\nCOPY a.txt /from-containerfile.txt\n"));
  fs = build_fs(ctx);
  EXPECT_TRUE(path_exists(path_join(fs, "from-containerfile.txt")));
}

// One build checks -t (twice), --label, --annotation, --iidfile and --quiet.
TEST_F(BudFlagsTest, TagsLabelsAnnotationsIidfileAndQuiet) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nLABEL from.dockerfile=yes\nRUN echo out-of-run\n"}});
  std::string iid = path("iid");
  auto r = bud(ctx, {"-q", "-t", "one:1", "-t", "two:2", "--label", "from.cli=1", "--label", "from.dockerfile=cli",
                     "--annotation", "org.example.note=hello", "--iidfile", iid});
  ASSERT_EQ(r.status, 0) << r.describe();
  std::string id(trim(r.out));
  EXPECT_TRUE(id.starts_with("sha256:")) << r.out;
  EXPECT_EQ(split(trim(r.out), '\n').size(), 1u) << r.out;
  EXPECT_EQ(r.err, "");  // --quiet: not even the RUN's output
  EXPECT_EQ(file_text(iid), id);
  auto one = inspect("one:1");
  auto two = inspect("two:2");
  EXPECT_EQ(one["digest"], two["digest"]);
  EXPECT_EQ(one["config"]["config"]["Labels"]["from.cli"], "1");
  // --label wins over the Dockerfile's LABEL, as in buildah.
  EXPECT_EQ(one["config"]["config"]["Labels"]["from.dockerfile"], "cli");
  EXPECT_EQ(one["manifest"]["annotations"]["org.example.note"], "hello") << one["manifest"].dump();
}

TEST_F(BudFlagsTest, PlainAndJsonProgress) {
  std::string ctx =
      context({{"Dockerfile", "FROM busybox AS a\nRUN echo made > /m\nFROM busybox\nCOPY --from=a /m /m\n"}});
  auto plain = bud(ctx, {"-t", "prog:1"});
  ASSERT_EQ(plain.status, 0) << plain.describe();
  EXPECT_NE(plain.err.find("[1/2] STEP 2/2: RUN echo made > /m"), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("[2/2] STEP 2/2: COPY --from=a /m /m"), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("COMMIT localhost/prog:1"), std::string::npos) << plain.err;
  EXPECT_EQ(trim(plain.out), inspect("prog:1")["id"].get<std::string>()) << plain.out;

  auto json = bud(ctx, {"-t", "prog:1", "--progress=json"});
  ASSERT_EQ(json.status, 0) << json.describe();
  std::map<std::string, int> kinds;
  for (const auto& e : events(json.err)) {
    kinds[e.value("event", "")]++;
    if (e.value("event", "") == "cache_hit") {
      EXPECT_TRUE(e.value("cache_key", "").size() > 0) << e.dump();
    }
    if (e.value("event", "") == "commit") {
      EXPECT_EQ(e.value("id", ""), trim(json.out));
      EXPECT_EQ(e.value("steps_cached", 0), 2);
      EXPECT_TRUE(e.contains("duration_seconds"));
    }
  }
  EXPECT_EQ(kinds["cache_hit"], 2) << json.err;
  EXPECT_EQ(kinds["commit"], 1) << json.err;
  // Every stderr line is JSON.
  for (const auto& line : split(trim(json.err), '\n')) {
    EXPECT_TRUE(line.starts_with("{")) << line;
  }
  auto cold = bud(ctx, {"--no-cache", "--progress=json"});
  ASSERT_EQ(cold.status, 0) << cold.describe();
  bool layer_bytes = false;
  for (const auto& e : events(cold.err)) {
    if (e.value("event", "") == "step_end") {
      EXPECT_TRUE(e.contains("duration_seconds")) << e.dump();
      layer_bytes = layer_bytes || e.value("layer_bytes", 0LL) > 0;
    }
  }
  EXPECT_TRUE(layer_bytes) << cold.err;
}

// One build writes every --output type; the OCI and Docker tarballs load
// with skopeo.
TEST_F(BudFlagsTest, EveryOutputType) {
  std::string ctx =
      context({{"Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nRUN echo run > /run.txt\n"}, {"a.txt", "a\n"}});
  std::string local = path("o-local");
  std::string tar = path("o.tar");
  std::string oci = path("o-oci.tar");
  std::string docker = path("o-docker.tar");
  auto r = bud(ctx, {"-t", "out:1", "-o", "type=local,dest=" + local, "-o", "type=tar,dest=" + tar, "--output",
                     "type=oci,dest=" + oci, "--output", "type=docker,dest=" + docker});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(file_text(path_join(local, "a.txt")), "a\n");
  EXPECT_EQ(file_text(path_join(local, "run.txt")), "run\n");
  EXPECT_TRUE(path_exists(path_join(local, "bin/busybox")));

  auto listing = run_cmd({"tar", "-tf", tar});
  ASSERT_EQ(listing.status, 0) << listing.describe();
  auto names = split(listing.out, '\n');
  for (const char* want : {"a.txt", "run.txt", "bin/busybox"}) {
    bool found = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n == want || n == cat("./", want) || n == cat("/", want);
    });
    EXPECT_TRUE(found) << want << " not in " << listing.out.substr(0, 2000);
  }

  if (!have_program("skopeo")) {
    GTEST_SKIP() << "skopeo is not installed";
  }
  std::string digest = inspect("out:1")["digest"].get<std::string>();
  for (const auto& [transport, file] : {std::pair{"oci-archive:", oci}, std::pair{"docker-archive:", docker}}) {
    auto s = run_cmd({"skopeo", "inspect", "--raw", cat(transport, file)});
    ASSERT_EQ(s.status, 0) << s.describe();
    auto m = oci::parse_json(s.out, "manifest");
    ASSERT_TRUE(m) << s.out;
    EXPECT_EQ((*m)["layers"].size(), inspect("out:1")["manifest"]["layers"].size()) << s.out;
    auto cfg = run_cmd({"skopeo", "inspect", "--config", cat(transport, file)});
    ASSERT_EQ(cfg.status, 0) << cfg.describe();
    auto c = oci::parse_json(cfg.out, "config");
    ASSERT_TRUE(c);
    EXPECT_EQ((*c)["rootfs"]["diff_ids"], inspect("out:1")["config"]["rootfs"]["diff_ids"]) << transport;
  }
  // The OCI archive is the image itself: same manifest digest.
  auto s = run_cmd({"skopeo", "inspect", cat("oci-archive:", oci)});
  ASSERT_EQ(s.status, 0) << s.describe();
  auto j = oci::parse_json(s.out, "inspect");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["Digest"], digest);
}

TEST_F(BudFlagsTest, SquashAndCompression) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nRUN echo 1 > /one\nRUN echo 2 > /two\nRUN rm /one\n"}});
  size_t base_layers = inspect("busybox")["manifest"]["layers"].size();
  ASSERT_EQ(bud(ctx, {"-t", "plain:1"}).status, 0);
  EXPECT_EQ(inspect("plain:1")["manifest"]["layers"].size(), base_layers + 3);

  ASSERT_EQ(bud(ctx, {"-t", "squashed:1", "--squash"}).status, 0);
  auto sq = inspect("squashed:1");
  EXPECT_EQ(sq["manifest"]["layers"].size(), base_layers + 1) << sq["manifest"].dump();
  std::string fs = build_fs(ctx, {"--squash"});
  EXPECT_FALSE(path_exists(path_join(fs, "one")));
  EXPECT_EQ(file_text(path_join(fs, "two")), "2\n");

  for (const auto& [flag, suffix] : {std::pair{"zstd", "tar+zstd"}, std::pair{"none", "tar"}}) {
    // The steps are cache hits (made gzip above); the image still gets the
    // requested compression on every layer the build made.
    auto r = bud(ctx, {"-t", cat("c-", flag, ":1"), "--compression", flag});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("Using cache"), std::string::npos) << r.err;
    auto layers = inspect(cat("c-", flag, ":1"))["manifest"]["layers"];
    ASSERT_EQ(layers.size(), base_layers + 3);
    for (size_t i = base_layers; i < layers.size(); ++i) {
      EXPECT_EQ(layers[i].value("mediaType", ""), cat("application/vnd.oci.image.layer.v1.", suffix)) << flag << i;
    }
  }
  auto bad = bud(ctx, {"--compression", "lz4"});
  EXPECT_EQ(bad.status, 2);  // a usage error
  EXPECT_NE(bad.err.find("invalid --compression `lz4`"), std::string::npos) << bad.err;
}

// RUN's sandbox flags, all checked by one build.
TEST_F(BudFlagsTest, NetworkCapsUlimitsAndHosts) {
  std::string df =
      "FROM busybox\n"
      "RUN cat /proc/net/dev > /netdev.txt\n"
      "RUN grep CapEff /proc/self/status > /caps.txt\n"
      "RUN ulimit -n > /nofile.txt && ulimit -Hn >> /nofile.txt\n"
      "RUN cat /etc/hosts > /hosts.txt\n";
  std::string ctx = context({{"Dockerfile", df}});
  std::string fs = build_fs(ctx, {"--jobs", "1", "--network", "none", "--cap-drop", "CAP_CHOWN", "--cap-drop",
                                  "net_raw", "--ulimit", "nofile=100:200", "--add-host", "db.example:10.1.2.3"});
  // Only the loopback device in a fresh network namespace.
  std::string netdev = file_text(path_join(fs, "netdev.txt"));
  EXPECT_NE(netdev.find("lo:"), std::string::npos) << netdev;
  EXPECT_EQ(split(trim(netdev), '\n').size(), 3u) << netdev;  // two header lines + lo
  std::string caps(trim(file_text(path_join(fs, "caps.txt"))));
  std::string hex(trim(caps.substr(caps.find(':') + 1)));
  unsigned long long eff = std::stoull(hex, nullptr, 16);
  EXPECT_EQ(eff & (1ULL << 0), 0u) << caps;   // CAP_CHOWN
  EXPECT_EQ(eff & (1ULL << 13), 0u) << caps;  // CAP_NET_RAW
  EXPECT_NE(eff & (1ULL << 1), 0u) << caps;   // CAP_DAC_OVERRIDE kept
  EXPECT_EQ(file_text(path_join(fs, "nofile.txt")), "100\n200\n");
  std::string hosts = file_text(path_join(fs, "hosts.txt"));
  EXPECT_NE(hosts.find("10.1.2.3"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("db.example"), std::string::npos) << hosts;

  auto bad = bud(ctx, {"--network", "bridge"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("invalid --network `bridge`"), std::string::npos) << bad.err;
}

TEST_F(BudFlagsTest, BuildContextNamesADirectoryOrAnImage) {
  std::string extra = context({{"shared.txt", "from the named context\n"}}, "extra");
  std::string ctx = context({{"Dockerfile",
                              "FROM base AS b\n"
                              "FROM busybox\n"
                              "COPY --from=files shared.txt /shared.txt\n"
                              "COPY --from=b /etc/passwd /passwd-from-image\n"}});
  std::string fs = build_fs(ctx, {"--build-context", "files=" + extra, "--build-context", "base=busybox"});
  EXPECT_EQ(file_text(path_join(fs, "shared.txt")), "from the named context\n");
  EXPECT_NE(file_text(path_join(fs, "passwd-from-image")).find("root:"), std::string::npos);
  auto bad = bud(ctx, {"--build-context", "=x"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("invalid --build-context `=x`"), std::string::npos) << bad.err;
}

// --ignorefile, else <Dockerfile>.containerignore, <Dockerfile>.dockerignore,
// .containerignore, .dockerignore. Each file ignores a different name.
TEST_F(BudFlagsTest, IgnoreFileLookupOrder) {
  std::string ctx = context({{"Dockerfile", "FROM busybox\nCOPY . /c/\n"},
                             {"a", ""},
                             {"b", ""},
                             {"c", ""},
                             {"d", ""},
                             {"e", ""},
                             {".dockerignore", "a\nDockerfile\n"},
                             {".containerignore", "b\n"},
                             {"Dockerfile.dockerignore", "c\n"},
                             {"Dockerfile.containerignore", "d\n"},
                             {"custom.ignore", "e\n"}});
  auto missing = [&](const std::vector<std::string>& args) {
    std::string fs = build_fs(ctx, args);
    std::string out;
    for (const char* f : {"a", "b", "c", "d", "e"}) {
      out += path_exists(path_join(fs, cat("c/", f))) ? "" : f;
    }
    return out;
  };
  EXPECT_EQ(missing({"--ignorefile", path_join(ctx, "custom.ignore")}), "e");
  EXPECT_EQ(missing({}), "d");
  ASSERT_TRUE(remove_tree(path_join(ctx, "Dockerfile.containerignore")));
  EXPECT_EQ(missing({}), "c");
  ASSERT_TRUE(remove_tree(path_join(ctx, "Dockerfile.dockerignore")));
  EXPECT_EQ(missing({}), "b");
  ASSERT_TRUE(remove_tree(path_join(ctx, ".containerignore")));
  // .dockerignore ignores the Dockerfile too: it is still read.
  EXPECT_EQ(missing({}), "a");
}

TEST_F(BudFlagsTest, OnlyTheHostPlatformBuilds) {
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  std::string machine = u.machine;
  std::string host = machine == "x86_64" ? "linux/amd64" : machine == "aarch64" ? "linux/arm64" : "";
  std::string other = machine == "x86_64" ? "linux/arm64" : "linux/amd64";
  std::string ctx = context({{"Dockerfile", "FROM busybox\nRUN true\n"}});
  if (!host.empty()) {
    auto ok = bud(ctx, {"--platform", host});
    EXPECT_EQ(ok.status, 0) << ok.describe();
  }
  std::string before = store_state();
  auto r = bud(ctx, {"--platform", other});
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.err.find(cat("--platform `", other, "`: kiln builds only for this machine's platform")),
            std::string::npos)
      << r.err;
  EXPECT_EQ(store_state(), before);
}

}  // namespace
}  // namespace kiln::test
