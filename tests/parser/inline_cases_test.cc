// Every case of ../shared/conformance/buildkit-inline-cases.md (BuildKit
// expectations kept in Go test code, restated there as JSON lines).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "parser/directives.h"
#include "parser/heredoc.h"
#include "parser/ignore.h"
#include "parser/json_array.h"
#include "parser/line_parsers.h"
#include "parser/parser.h"
#include "parser/shell_lex.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::parser {
namespace {

using Json = nlohmann::json;

std::vector<Json> load_cases() {
  std::vector<Json> out;
  Result<std::string> md = read_file(test::shared_dir() + "/conformance/buildkit-inline-cases.md");
  EXPECT_TRUE(md.has_value());
  if (!md) {
    return out;
  }
  bool in_block = false;
  for (const std::string& line : split(*md, '\n')) {
    if (line == "```jsonl") {
      in_block = true;
    } else if (line == "```") {
      in_block = false;
    } else if (in_block && !line.empty()) {
      out.push_back(Json::parse(line));
    }
  }
  return out;
}

std::vector<std::string> strings(const Json& j) { return j.get<std::vector<std::string>>(); }

void check_heredoc_lines(const Json& c) {
  std::string text;
  for (const Json& l : c["lines"]) {
    text += l.get<std::string>() + "\n";
  }
  Result<Ast> ast = parse(text);
  ASSERT_TRUE(ast.has_value()) << ast.error().render();
  ASSERT_EQ(ast->instructions.size(), c["heredocs"].size());
  for (size_t i = 0; i < ast->instructions.size(); ++i) {
    const auto& got = ast->instructions[i].heredocs;
    const Json& want = c["heredocs"][i];
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].name, want[k]["name"].get<std::string>());
      EXPECT_EQ(got[k].fd, want[k]["fd"].get<unsigned>());
      EXPECT_EQ(got[k].expand, want[k]["expand"].get<bool>());
      EXPECT_EQ(got[k].chomp, want[k]["chomp"].get<bool>());
      EXPECT_EQ(got[k].content, want[k]["content"].get<std::string>());
    }
  }
}

void check_directive(const Json& c) {
  std::string op = c["op"];
  std::string text = c["text"];
  if (op == "all_directives") {
    Result<std::vector<DirectiveMatch>> got = all_directives(text);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), c["expect"].size());
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].name, c["expect"][i]["name"].get<std::string>());
      EXPECT_EQ((*got)[i].value, c["expect"][i]["value"].get<std::string>());
    }
    return;
  }
  std::optional<DetectedDirective> got = detect_directive(text, op == "detect_syntax" ? "syntax" : "check");
  ASSERT_EQ(got.has_value(), c["found"].get<bool>());
  if (got) {
    EXPECT_EQ(got->ref, c["ref"].get<std::string>());
    if (c.contains("value")) {
      EXPECT_EQ(got->value, c["value"].get<std::string>());
    }
    if (c.contains("line")) {
      EXPECT_EQ(got->line, c["line"].get<int>());
    }
  }
}

void check_expansion(const Json& c) {
  std::map<std::string, std::string, std::less<>> vars;
  for (const auto& [k, v] : c["env"].items()) {
    vars[k] = v.get<std::string>();
  }
  MapEnv env(vars);
  Result<ExpandResult> got = ShellLex().process(c["input"].get<std::string>(), env);
  if (c["result"].is_null()) {
    ASSERT_FALSE(got.has_value());
    if (c.contains("error_contains")) {
      EXPECT_NE(got.error().message().find(c["error_contains"].get<std::string>()), std::string::npos)
          << got.error().message();
    }
    return;
  }
  ASSERT_TRUE(got.has_value()) << got.error().render();
  EXPECT_EQ(got->word, c["result"].get<std::string>());
  if (c.contains("used")) {
    std::vector<std::string> used(got->matched.begin(), got->matched.end());
    std::vector<std::string> unset(got->unmatched.begin(), got->unmatched.end());
    EXPECT_EQ(used, strings(c["used"]));
    EXPECT_EQ(unset, strings(c["unset"]));
  }
}

void check_case(const Json& c) {
  if (c.contains("words")) {
    EXPECT_EQ(parse_words(c["input"].get<std::string>(), '\\'), strings(c["words"]));
  } else if (c.contains("instruction")) {
    Result<Ast> ast = parse(c["instruction"].get<std::string>() + " " + c["rest"].get<std::string>());
    if (c.value("error", false)) {
      EXPECT_FALSE(ast.has_value());
    } else {
      ASSERT_TRUE(ast.has_value()) << ast.error().render();
      EXPECT_EQ(ast->instructions.at(0).args, strings(c["args"]));
    }
  } else if (c.contains("op")) {
    check_directive(c);
  } else if (c.contains("patterns")) {
    EXPECT_EQ(read_ignore_patterns(c["text"].get<std::string>()), strings(c["patterns"]));
  } else if (c.contains("text")) {
    std::vector<std::string> elements;
    JsonArrayStatus st = parse_json_string_array(c["text"].get<std::string>(), elements);
    if (c.value("error", false)) {
      EXPECT_EQ(st, JsonArrayStatus::not_strings);
    } else {
      EXPECT_EQ(st, JsonArrayStatus::ok);
      EXPECT_EQ(elements, strings(c["elements"]));
    }
  } else if (c.contains("lines")) {
    check_heredoc_lines(c);
  } else if (c.contains("word")) {
    Result<std::optional<Heredoc>> h = parse_heredoc_word(c["word"].get<std::string>());
    if (c.value("error", false)) {
      EXPECT_FALSE(h.has_value());
    } else {
      ASSERT_TRUE(h.has_value());
      if (c["heredoc_name"].is_null()) {
        EXPECT_FALSE(h->has_value());
      } else {
        ASSERT_TRUE(h->has_value());
        EXPECT_EQ((*h)->name, c["heredoc_name"].get<std::string>());
      }
    }
  } else if (c.contains("line")) {
    Result<std::vector<Heredoc>> docs = heredocs_from_line(c["line"].get<std::string>());
    ASSERT_TRUE(docs.has_value());
    std::vector<std::string> names;
    for (const Heredoc& h : *docs) {
      names.push_back(h.name);
    }
    EXPECT_EQ(names, strings(c["heredoc_names"]));
  } else if (c.contains("env")) {
    check_expansion(c);
  } else {
    ADD_FAILURE() << "unrecognised case " << c.dump();
  }
}

TEST(InlineCasesTest, EveryJsonCase) {
  KILN_REQUIRE_SHARED();
  std::vector<Json> cases = load_cases();
  EXPECT_GE(cases.size(), 150u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.dump());
    ASSERT_NO_FATAL_FAILURE(check_case(c));
  }
}

TEST(InlineCasesTest, EmptyContinuationLinesWarnOncePerInstruction) {
  const char* text =
      "FROM scratch\n"
      "RUN valid \\\n    continuation\n"
      "RUN something \\\n\n    following \\\n\n    more\n"
      "RUN another \\\n\n    thing\n"
      "RUN non-indented \\\n# comment\n   after-comment\n"
      "RUN indented \\\n    # comment\n    comment\n";
  Result<Ast> ast = parse(text);
  ASSERT_TRUE(ast.has_value()) << ast.error().render();
  ASSERT_EQ(ast->warnings.size(), 2u);
  EXPECT_NE(ast->warnings[0].message.find("Empty continuation line found in: RUN something     following     more"),
            std::string::npos)
      << ast->warnings[0].message;
  EXPECT_NE(ast->warnings[1].message.find("RUN another     thing"), std::string::npos);
  EXPECT_NE(ast->warnings[0].message.find("future release"), std::string::npos);
}

TEST(InlineCasesTest, OverlongLineFails) {
  Result<Ast> ast = parse("FROM scratch\nLABEL test=" + std::string(65536, 'a') + "\n");
  ASSERT_FALSE(ast.has_value());
  EXPECT_EQ(ast.error().message(), "dockerfile line greater than max allowed size of 65535");
  EXPECT_EQ(ast.error().source()->line_begin, 2);
  // 65535 bytes (without the LF) is still fine.
  EXPECT_TRUE(parse("LABEL " + std::string(65527, 'a') + "=b\n").has_value());
}

TEST(InlineCasesTest, ChompStripsLeadingTabs) { EXPECT_EQ(chomp_heredoc("\thello\n\tworld\n"), "hello\nworld\n"); }

}  // namespace
}  // namespace kiln::parser
