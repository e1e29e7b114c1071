// Golden cases (STYLE.md T3): testdata/parser/<case>/{Dockerfile,expected.ast}
// and testdata/parser-negative/<case>/{Dockerfile,expected.err}.
// KILN_UPDATE_GOLDEN=1 rewrites the expected files; review the diff like code.
#include <gtest/gtest.h>

#include <cstdlib>

#include "parser/errors.h"
#include "parser/instructions.h"
#include "parser/parser.h"
#include "parser/typed_dump.h"
#include "tests/support/test_env.h"
#include "util/file.h"

namespace kiln::parser {
namespace {

struct GoldenCase {
  std::string dir;
  std::string name;
  bool negative;
};

std::vector<GoldenCase> cases() {
  std::vector<GoldenCase> out;
  for (bool negative : {false, true}) {
    std::string root = test::source_dir() + (negative ? "/testdata/parser-negative" : "/testdata/parser");
    Result<std::vector<std::string>> names = list_dir(root);
    if (!names) {
      continue;
    }
    for (const std::string& n : *names) {
      if (!is_directory(root + "/" + n)) {
        continue;  // a case is a directory; stray files are not cases
      }
      out.push_back({root + "/" + n, n, negative});
    }
  }
  return out;
}

// The parse, then "--- typed", then each typed instruction (or the typing
// error).
std::string render_positive(std::string_view text, std::string* error) {
  Result<Ast> ast = parse(text);
  if (!ast) {
    *error = render_error(ast.error(), text, "Dockerfile");
    return {};
  }
  std::string out = dump_with_heredocs(*ast);
  for (const Warning& w : ast->warnings) {
    out += "warning: line " + std::to_string(w.line) + ": " + w.message + "\n";
  }
  out += "--- typed\n";
  for (const Node& node : ast->instructions) {
    Result<Instruction> ins = type_instruction(node);
    if (!ins) {
      *error = render_error(ins.error(), text, "Dockerfile");
      return {};
    }
    out += dump_typed(*ins) + "\n";
  }
  return out;
}

std::string render_negative(std::string_view text) {
  Result<Ast> ast = parse(text);
  if (!ast) {
    return render_error(ast.error(), text, "Dockerfile") + "\n";
  }
  Result<std::vector<Instruction>> typed = type_instructions(*ast);
  if (!typed) {
    return render_error(typed.error(), text, "Dockerfile") + "\n";
  }
  Result<Stages> stages = split_stages(std::move(*typed));
  if (!stages) {
    return render_error(stages.error(), text, "Dockerfile") + "\n";
  }
  return "(no error)\n";
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesExpected) {
  const GoldenCase& c = GetParam();
  Result<std::string> text = read_file(c.dir + "/Dockerfile");
  ASSERT_TRUE(text.has_value()) << c.dir;
  std::string got, error;
  if (c.negative) {
    got = render_negative(*text);
  } else {
    got = render_positive(*text, &error);
    ASSERT_EQ(error, "") << "positive case failed";
  }
  std::string expected_path = c.dir + (c.negative ? "/expected.err" : "/expected.ast");
  const char* update = std::getenv("KILN_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    ASSERT_TRUE(write_file(expected_path, got).has_value());
    return;
  }
  Result<std::string> expected = read_file(expected_path);
  ASSERT_TRUE(expected.has_value()) << expected_path << " (run with KILN_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(got, *expected);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string n = (info.param.negative ? "neg_" : "") + info.param.name;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) {
                               ch = '_';
                             }
                           }
                           return n;
                         });

}  // namespace
}  // namespace kiln::parser
