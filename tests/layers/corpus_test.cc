// Crafted archives (testdata/layers/malicious, made by make_corpus.py without
// kiln): after extracting each, in both modes, nothing outside the target
// changed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "layers/extract.h"
#include "tests/layers/layer_fixture.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln::layers {
namespace {

using namespace kiln::layers::test;

std::string corpus_dir() { return path_join(kiln::test::source_dir(), "testdata/layers/malicious"); }

std::vector<std::string> corpus() {
  auto names = list_dir(corpus_dir());
  std::vector<std::string> out;
  if (names) {
    for (const auto& n : *names) {
      if (n.ends_with(".tar")) {
        out.push_back(n);
      }
    }
  }
  return out;
}

// What must not change: host files a broken extractor would hit, and the
// sandbox around the target.
std::string host_state() {
  std::string out;
  // Not /tmp itself: other tests running in parallel change its link count.
  for (const char* p : {"/etc/passwd", "/etc/shadow"}) {
    struct stat st {};
    if (::lstat(p, &st) == 0) {
      out += cat(p, " ino=", st.st_ino, " nlink=", st.st_nlink, " size=", st.st_size, " mode=", st.st_mode, "\n");
    }
  }
  out += cat("passwd sha=", sha256_file_hex("/etc/passwd").value_or("?"), "\n");
  for (const char* p : {"/tmp/kiln-layers-pwned", "/etc/kiln-layers-pwned", "/kiln-layers-pwned"}) {
    out += cat(p, path_exists(p) ? " EXISTS\n" : " absent\n");
  }
  return out;
}

// Archives an extractor must refuse (a `..` name, a broken stream).
const std::set<std::string> k_must_fail = {
    "01-dotdot.tar",        "02-dotdot-nested.tar",       "11-whiteout-dotdot.tar", "12-whiteout-escape.tar",
    "18-huge-size.tar",     "19-truncated.tar",           "20-pax-path-dotdot.tar", "22-gnu-longname-dotdot.tar",
    "23-device-escape.tar", "08-hardlink-etc-passwd.tar", "09-hardlink-dotdot.tar",
};

class CorpusTest : public ::testing::TestWithParam<std::tuple<std::string, ExtractMode>> {};

TEST_P(CorpusTest, NothingOutsideTheTargetChanges) {
  auto [name, mode] = GetParam();
  auto tmp = TempDir::create("", "kiln-corpus-");
  ASSERT_TRUE(tmp.has_value());
  std::string sandbox = tmp->path();
  ASSERT_NO_FATAL_FAILURE(put_file(sandbox, "outside/canary", "canary\n", 0644));
  std::string target = path_join(sandbox, "target");
  if (mode == ExtractMode::merged) {
    ASSERT_NO_FATAL_FAILURE(put_dir(sandbox, "target"));
  }
  auto outside_before = describe_tree(path_join(sandbox, "outside"));
  std::string host_before = host_state();

  auto r = extract_from(path_join(corpus_dir(), name), test_options(target, mode));

  EXPECT_EQ(describe_tree(path_join(sandbox, "outside")), outside_before) << name;
  EXPECT_EQ(host_state(), host_before) << name;
  auto entries = list_dir(sandbox);
  ASSERT_TRUE(entries.has_value());
  for (const auto& e : *entries) {
    EXPECT_TRUE(e == "outside" || e == "target") << name << " created `" << e << "` beside the target";
  }
  if (k_must_fail.count(name) != 0) {
    EXPECT_FALSE(r.has_value()) << name << " was accepted";
  }
  if (!r.has_value()) {
    std::string msg = r.error().render();
    EXPECT_FALSE(msg.empty());
    if (mode == ExtractMode::overlay_lower) {
      EXPECT_FALSE(path_exists(target)) << name << ": partial output left: " << msg;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Malicious, CorpusTest,
                         ::testing::Combine(::testing::ValuesIn(corpus()),
                                            ::testing::Values(ExtractMode::overlay_lower, ExtractMode::merged)),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) {
                               c = '_';
                             }
                           }
                           return n + (std::get<1>(info.param) == ExtractMode::merged ? "_merged" : "_lower");
                         });

TEST(CorpusSizeTest, HasAtLeastFifteenArchives) { EXPECT_GE(corpus().size(), 15u); }

}  // namespace
}  // namespace kiln::layers
