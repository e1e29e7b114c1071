#include "frontend/dockerfile/parse_command.h"

#include <gtest/gtest.h>

#include "oci/json.h"
#include "tests/support/test_env.h"
#include "util/file.h"

namespace kiln::dockerfile {
namespace {

TEST(ParseCommandTest, SexprIsTheConformanceDumpWithNewline) {
  Result<std::string> out =
      render_parse("FROM alpine\nCOPY --from=b a /x\n", "Dockerfile", ParseOutput::sexpr, Validate::no);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "(from \"alpine\")\n(copy [\"--from=b\"] \"a\" \"/x\")\n");
}

TEST(ParseCommandTest, SexprMatchesConformanceResult) {
  KILN_REQUIRE_SHARED();
  std::string dir = test::shared_dir() + "/conformance/buildkit/frontend/dockerfile/parser/testfiles/docker";
  Result<std::string> text = read_file(dir + "/Dockerfile");
  Result<std::string> want = read_file(dir + "/result");
  ASSERT_TRUE(text && want);
  Result<std::string> out = render_parse(*text, "Dockerfile", ParseOutput::sexpr, Validate::no);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, *want);
}

TEST(ParseCommandTest, JsonHasExactShape) {
  std::string text =
      "# syntax=docker/dockerfile:1\n"
      "FROM alpine\n"
      "ENV A=1 \\\n  B=2\n"
      "COPY --chmod=644 <<-EOF /x\n"
      "\thello\n"
      "EOF\n"
      "ONBUILD RUN [\"make\"]\n";
  Result<std::string> out = render_parse(text, "Dockerfile", ParseOutput::json, Validate::yes);
  ASSERT_TRUE(out.has_value()) << out.error().message();
  EXPECT_EQ(
      *out,
      "{\"directives\":{\"check\":null,\"escape\":\"\\\\\",\"syntax\":\"docker/dockerfile:1\"},"
      "\"instructions\":["
      "{\"args\":[\"alpine\"],\"end_line\":2,\"flags\":[],\"heredocs\":[],\"json_form\":false,"
      "\"keyword\":\"FROM\",\"original\":\"FROM alpine\",\"start_line\":2},"
      "{\"args\":[\"A\",\"1\",\"=\",\"B\",\"2\",\"=\"],\"end_line\":4,\"flags\":[],\"heredocs\":[],"
      "\"json_form\":false,\"keyword\":\"ENV\",\"original\":\"ENV A=1   B=2\",\"start_line\":3},"
      "{\"args\":[\"<<-EOF\",\"/x\"],\"end_line\":7,\"flags\":[\"--chmod=644\"],\"heredocs\":[{\"body\":\"\\thello\\n\","
      "\"delimiter\":\"EOF\",\"expand\":true,\"strip_tabs\":true}],\"json_form\":false,\"keyword\":\"COPY\","
      "\"original\":\"COPY --chmod=644 <<-EOF /x\",\"start_line\":5},"
      "{\"args\":[],\"end_line\":8,\"flags\":[],\"heredocs\":[],\"json_form\":false,\"keyword\":\"ONBUILD\","
      "\"original\":\"ONBUILD RUN [\\\"make\\\"]\",\"start_line\":8,\"trigger\":{\"args\":[\"make\"],\"end_line\":8,"
      "\"flags\":[],\"heredocs\":[],\"json_form\":true,\"keyword\":\"RUN\",\"original\":\"RUN [\\\"make\\\"]\","
      "\"start_line\":8}}]}\n");
}

TEST(ParseCommandTest, JsonParsesBackWithNlohmann) {
  Result<std::string> out =
      render_parse("# escape=`\nFROM a\n", "Dockerfile", ParseOutput::json, Validate::no);
  ASSERT_TRUE(out.has_value());
  Result<oci::Json> j = oci::parse_json(*out, "parse output");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["directives"]["escape"], "`");
  EXPECT_EQ((*j)["instructions"].size(), 1u);
}

TEST(ParseCommandTest, ParseErrorIsRenderedWithLineAndCaret) {
  Result<std::string> out =
      render_parse("FROM a\nCMD [\"x\", 1]\n", "app.Dockerfile", ParseOutput::sexpr, Validate::no);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message(),
            "app.Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only\n"
            "CMD [\"x\", 1]\n"
            "^");
  EXPECT_EQ(out.error().source()->line_begin, 2);
  EXPECT_EQ(out.error().source()->file, "app.Dockerfile");
}

TEST(ParseCommandTest, ValidateRejectsWhatTheRawParseKeeps) {
  std::string text = "FROM a\nCOPY --frm=x a /b\n";
  EXPECT_TRUE(render_parse(text, "Dockerfile", ParseOutput::sexpr, Validate::no).has_value());
  Result<std::string> out = render_parse(text, "Dockerfile", ParseOutput::sexpr, Validate::yes);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message(),
            "Dockerfile:2: unknown flag `--frm` for COPY (COPY takes --chmod, --chown, --exclude, --from, --link, "
            "--parents)\n"
            "COPY --frm=x a /b\n"
            "     ^");
}

TEST(ParseCommandTest, WarningsNameFileAndLine) {
  std::vector<std::string> warnings;
  Result<std::string> out = render_parse("# syntax=example.com/other:1\nFROM a\n", "Dockerfile", ParseOutput::sexpr,
                                         Validate::no, &warnings);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("Dockerfile:1: ignoring `# syntax=example.com/other:1`", 0), 0u) << warnings[0];
}

}  // namespace
}  // namespace kiln::dockerfile
