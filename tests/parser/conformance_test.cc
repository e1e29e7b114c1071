// Conformance with BuildKit's public parser and expander test data, read
// from ../shared/conformance at run time (README sections 1 and 2).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parser/parser.h"
#include "parser/shell_lex.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::parser {
namespace {

std::string parser_dir() { return test::shared_dir() + "/conformance/buildkit/frontend/dockerfile/parser"; }
std::string shell_dir() { return test::shared_dir() + "/conformance/buildkit/frontend/dockerfile/shell"; }

std::string read_or_fail(const std::string& path) {
  Result<std::string> r = read_file(path);
  EXPECT_TRUE(r.has_value()) << path;
  return r ? *r : std::string();
}

std::vector<std::string> case_dirs(const std::string& dir) {
  Result<std::vector<std::string>> names = list_dir(dir);
  EXPECT_TRUE(names.has_value()) << dir;
  return names ? *names : std::vector<std::string>{};
}

TEST(ConformanceTest, AllPositiveCasesDumpByteForByte) {
  KILN_REQUIRE_SHARED();
  std::vector<std::string> cases = case_dirs(parser_dir() + "/testfiles");
  EXPECT_EQ(cases.size(), 33u);
  for (const std::string& c : cases) {
    SCOPED_TRACE(c);
    std::string dir = parser_dir() + "/testfiles/" + c;
    Result<Ast> ast = parse(read_or_fail(dir + "/Dockerfile"));
    ASSERT_TRUE(ast.has_value()) << ast.error().render();
    EXPECT_EQ(dump(*ast) + "\n", read_or_fail(dir + "/result"));
  }
}

TEST(ConformanceTest, AllNegativeCasesFail) {
  KILN_REQUIRE_SHARED();
  std::vector<std::string> cases = case_dirs(parser_dir() + "/testfiles-negative");
  EXPECT_EQ(cases.size(), 4u);
  for (const std::string& c : cases) {
    SCOPED_TRACE(c);
    Result<Ast> ast = parse(read_or_fail(parser_dir() + "/testfiles-negative/" + c + "/Dockerfile"));
    EXPECT_FALSE(ast.has_value());
  }
}

TEST(ConformanceTest, LineNumbersOfTestfileLine) {
  KILN_REQUIRE_SHARED();
  Result<Ast> ast = parse(read_or_fail(parser_dir() + "/testfile-line/Dockerfile"));
  ASSERT_TRUE(ast.has_value()) << ast.error().render();
  ASSERT_EQ(ast->instructions.size(), 3u);
  const std::vector<std::pair<int, int>> want{{5, 5}, {11, 12}, {17, 31}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ast->instructions[i].start_line, want[i].first) << i;
    EXPECT_EQ(ast->instructions[i].end_line, want[i].second) << i;
  }
}

TEST(ConformanceTest, EnvVarTestNonWindowsLines) {
  KILN_REQUIRE_SHARED();
  MapEnv env({{"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}});
  ShellLex lex;
  int checked = 0;
  for (const std::string& raw : split(read_or_fail(shell_dir() + "/envVarTest"), '\n')) {
    if (!raw.empty() && raw[0] == '#') {
      continue;
    }
    std::string_view line = trim(raw);
    if (line.empty()) {
      continue;
    }
    std::vector<std::string> f = split(line, '|');
    ASSERT_EQ(f.size(), 3u) << raw;
    std::string platform(trim(f[0])), input(trim(f[1])), want(trim(f[2]));
    if (platform == "W") {
      continue;
    }
    ++checked;
    Result<std::string> got = lex.process_word(input, env);
    if (want == "error") {
      EXPECT_FALSE(got.has_value()) << input << " gave " << (got ? *got : "");
    } else {
      ASSERT_TRUE(got.has_value()) << input << ": " << got.error().render();
      EXPECT_EQ(*got, want) << input;
    }
  }
  EXPECT_EQ(checked, 228);
}

TEST(ConformanceTest, WordsTestAllLines) {
  KILN_REQUIRE_SHARED();
  MapEnv env;
  ShellLex lex;
  int checked = 0;
  for (const std::string& line : split(read_or_fail(shell_dir() + "/wordsTest"), '\n')) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line.rfind("ENV ", 0) == 0) {
      std::string def(line.substr(3));
      def.erase(0, def.find_first_not_of(' '));
      size_t eq = def.find('=');
      env.set(def.substr(0, eq), def.substr(eq + 1));
      continue;
    }
    size_t bar = line.find('|');
    ASSERT_NE(bar, std::string::npos) << line;
    std::string input(trim(line.substr(0, bar)));
    std::string right = line.substr(bar + 1);
    right.erase(0, right.find_first_not_of(' '));
    std::vector<std::string> want = split(right, ',');
    ++checked;
    Result<std::vector<std::string>> got = lex.process_words(input, env);
    if (want.size() == 1 && want[0] == "error") {
      EXPECT_FALSE(got.has_value()) << input;
    } else {
      ASSERT_TRUE(got.has_value()) << input << ": " << got.error().render();
      EXPECT_EQ(*got, want) << input;
    }
  }
  EXPECT_EQ(checked, 24);
}

}  // namespace
}  // namespace kiln::parser
