// Hostile inputs end in errors or plain results, never in deep recursion or
// quadratic time (what the fuzzer cannot reach within its length limit).
#include <gtest/gtest.h>

#include "parser/parser.h"

namespace kiln::parser {
namespace {

TEST(RobustnessTest, DeepOnbuildNestingIsAnError) {
  std::string text = "FROM a\n";
  for (int i = 0; i < 100000; ++i) {
    text += "ONBUILD \\\n";
  }
  text += "RUN x\n";
  Result<Ast> ast = parse(text);
  ASSERT_FALSE(ast.has_value());
  EXPECT_EQ(ast.error().message(), "ONBUILD instructions nested too deeply");
}

TEST(RobustnessTest, DeepJsonNestingFallsBackToShellForm) {
  std::string text = "CMD ";
  for (int i = 0; i < 20000; ++i) {
    text += "[\\\n";
  }
  text += "\"a\"";
  text += std::string(20000, ']');
  Result<Ast> ast = parse(text);
  ASSERT_TRUE(ast.has_value());
  EXPECT_FALSE(ast->instructions[0].json_form);
}

TEST(RobustnessTest, ManyHeredocsOnOneLine) {
  std::string line = "RUN";
  std::string bodies;
  for (int i = 0; i < 2000; ++i) {
    line += " <<E" + std::to_string(i);
    bodies += "body\nE" + std::to_string(i) + "\n";
  }
  Result<Ast> ast = parse(line + "\n" + bodies);
  ASSERT_TRUE(ast.has_value());
  EXPECT_EQ(ast->instructions[0].heredocs.size(), 2000u);
  EXPECT_EQ(ast->instructions[0].end_line, 4001);
}

}  // namespace
}  // namespace kiln::parser
