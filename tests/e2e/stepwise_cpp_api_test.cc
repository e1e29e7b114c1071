// The installed C++ library (issue 8): `cmake --install` kiln to a temporary
// prefix, build examples/cpp-api against it with cmake and pkg-config, run
// the program, and check the image it made with the kiln CLI.
#include "tests/e2e/stepwise_fixture.h"
#include "tests/support/test_env.h"

namespace kiln::test {
namespace {

class StepwiseCppApiTest : public StepwiseTest {};

TEST_F(StepwiseCppApiTest, ExampleBuildsAnImageAgainstTheInstalledLibrary) {
  if (!have_program("cmake") || !have_program("pkg-config")) {
    GTEST_SKIP() << "cmake or pkg-config not installed";
  }
  std::string prefix = path_join(m_tmp->path(), "prefix");
  auto install = run_cmd({"cmake", "--install", binary_dir(), "--prefix", prefix});
  ASSERT_EQ(install.status, 0) << install.describe();
  for (const char* f : {"include/kiln/kiln.h", "include/kiln/frontend/api/build_state.h", "bin/kiln-sandbox"}) {
    EXPECT_TRUE(path_exists(path_join(prefix, f))) << f;
  }
  std::string pc_dir = path_join(prefix, "lib/pkgconfig");
  if (!path_exists(path_join(pc_dir, "kiln.pc"))) {
    pc_dir = path_join(prefix, "lib/x86_64-linux-gnu/pkgconfig");
  }
  ASSERT_TRUE(path_exists(path_join(pc_dir, "kiln.pc"))) << "kiln.pc not installed under " << prefix;
  std::map<std::string, std::string> env = {{"PKG_CONFIG_PATH", pc_dir}};
  auto cflags = run_cmd({"pkg-config", "--cflags", "kiln"}, env);
  ASSERT_EQ(cflags.status, 0) << cflags.describe();
  // Relocatable: the first -I is PREFIX/include, as pkg-config reaches it
  // from the .pc file's own directory (PREFIX/lib/pkgconfig/../../include).
  std::string first_include;
  for (const auto& word : split(std::string(trim(cflags.out)), ' ')) {
    if (word.starts_with("-I")) {
      first_include = word.substr(2);
      break;
    }
  }
  EXPECT_TRUE(first_include.starts_with(prefix) && path_exists(path_join(first_include, "kiln/kiln.h")))
      << "relocatable prefix: " << cflags.out;

  std::string build = path_join(m_tmp->path(), "example-build");
  auto configure = run_cmd({"cmake", "-S", path_join(source_dir(), "examples/cpp-api"), "-B", build, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Release"},
                           env);
  ASSERT_EQ(configure.status, 0) << configure.describe();
  auto compile = run_cmd({"cmake", "--build", build}, env);
  ASSERT_EQ(compile.status, 0) << compile.describe();

  // The program re-executes itself in kiln's namespace and finds the
  // installed kiln-sandbox through the path compiled in from kiln.pc.
  auto run = run_cmd({path_join(build, "kiln-cpp-example"), "--root", m_root, "busybox", "from-cpp:1"},
                     {{"KILN_SANDBOX_HELPER", ""}});
  ASSERT_EQ(run.status, 0) << run.describe();
  EXPECT_TRUE(last_line(run.out).starts_with("sha256:")) << run.out;
  std::string c = ok({"from", "from-cpp:1"});
  EXPECT_EQ(ok({"run", c, "--", "cat", "/greeting"}), "hello, built with kiln's C++ API");
  EXPECT_NE(ok({"inspect", "from-cpp:1"}).find("\"cat\""), std::string::npos);
}

}  // namespace
}  // namespace kiln::test
