#include "parser/expansion.h"

#include <gtest/gtest.h>

#include "parser/parser.h"
#include "parser/typed_dump.h"

namespace kiln::parser {
namespace {

Instruction typed(const std::string& line) {
  Result<Ast> ast = parse(line + "\n");
  EXPECT_TRUE(ast.has_value());
  Result<Instruction> ins = type_instruction(ast->instructions.at(0));
  EXPECT_TRUE(ins.has_value()) << ins.error().render();
  return std::move(*ins);
}

std::string expanded(const std::string& line, const EnvLookup& env, char escape = '\\') {
  Instruction ins = typed(line);
  Result<void> r = expand_instruction(ins, env, escape);
  if (!r) {
    return "error: " + r.error().message();
  }
  return dump_typed(ins);
}

TEST(ExpansionTest, CopyExpandsPathsFlagsAndHeredocContent) {
  MapEnv env({{"SRC", "a b"}, {"DST", "/dst"}, {"USR", "app"}, {"MODE", "0755"}, {"X", "1"}});
  EXPECT_EQ(expanded("COPY --chown=$USR --chmod=$MODE --from=st${X} $SRC \"${DST}/\"", env),
            "(copy :sources (\"a b\") :dest \"/dst/\" :from \"st1\" :chown \"app\" :chmod \"0755\")");
  Result<Ast> ast = parse("COPY <<EOF <<'RAW' /x\nv=$X \"q\"\nEOF\nv=$X\nRAW\n");
  ASSERT_TRUE(ast.has_value());
  Result<Instruction> ins = type_instruction(ast->instructions[0]);
  ASSERT_TRUE(ins.has_value());
  ASSERT_TRUE(expand_instruction(*ins, env, '\\').has_value());
  const auto& c = std::get<CopyInstr>(ins->value);
  EXPECT_EQ(c.contents[0].data, "v=1 \"q\"\n");  // raw mode keeps quotes
  EXPECT_EQ(c.contents[1].data, "v=$X\n");       // quoted delimiter: no expansion
}

TEST(ExpansionTest, ExposeSplitsWords) {
  MapEnv env({{"PORTS", "80/tcp 443"}});
  EXPECT_EQ(expanded("EXPOSE $PORTS 53/udp", env), "(expose :ports (\"80/tcp\" \"443\" \"53/udp\"))");
  MapEnv bad({{"PORTS", "http"}});
  EXPECT_EQ(expanded("EXPOSE $PORTS", bad), "error: invalid containerPort: http");
}

TEST(ExpansionTest, EnvLabelArgKeysAndValues) {
  MapEnv env({{"K", "key"}, {"V", "value"}});
  EXPECT_EQ(expanded("ENV ${K}1=$V \"${K}2\"=\"a $V\"", env),
            "(env :pair (\"key1\" \"value\") :pair (\"key2\" \"a value\"))");
  EXPECT_EQ(expanded("LABEL \"x y\"=\"$V\"", env), "(label :pair (\"x y\" \"value\"))");
  EXPECT_EQ(expanded("ARG A=$V B", env), "(arg :pair (\"A\" \"value\") :name (\"B\"))");
}

TEST(ExpansionTest, RunMountsAreReparsedAndChecked) {
  MapEnv env({{"DIR", "/cache"}, {"UID", "1000"}, {"BAD", "x"}});
  EXPECT_EQ(expanded("RUN --mount=type=cache,target=$DIR,uid=$UID ls", env),
            "(run :args (\"ls\") :form shell :mount (cache :target \"/cache\" :ro false :uid 1000))");
  std::string err = expanded("RUN --mount=type=cache,target=$DIR,uid=$BAD ls", env);
  EXPECT_NE(err.find("invalid value `x` for mount option `uid`"), std::string::npos) << err;
}

TEST(ExpansionTest, UnexpandedThingsStayRaw) {
  MapEnv env({{"A", "1"}});
  EXPECT_EQ(expanded("RUN echo $A", env), "(run :args (\"echo $A\") :form shell)");
  EXPECT_EQ(expanded("CMD [\"$A\"]", env), "(cmd :args (\"$A\") :form exec)");
  EXPECT_EQ(expanded("HEALTHCHECK CMD echo $A", env), "(healthcheck :test (\"CMD-SHELL\" \"echo $A\"))");
}

TEST(ExpansionTest, BacktickEscapeIsUsed) {
  MapEnv env({{"A", "1"}});
  EXPECT_EQ(expanded("WORKDIR c:\\dir\\`$A", env, '`'), "(workdir :path \"c:\\\\dir\\\\$A\")");
}

TEST(ExpansionTest, UnmatchedNamesAreReported) {
  MapEnv env;
  Instruction ins = typed("WORKDIR /$NOPE/${ALSO:-x}");
  std::set<std::string> unmatched;
  ASSERT_TRUE(expand_instruction(ins, env, '\\', &unmatched).has_value());
  EXPECT_EQ(unmatched, (std::set<std::string>{"ALSO", "NOPE"}));
}

TEST(ExpansionTest, ErrorsCarryTheLine) {
  MapEnv env;
  Result<Ast> ast = parse("FROM a\nUSER ${NAME:?is required}\n");
  ASSERT_TRUE(ast.has_value());
  Result<Instruction> ins = type_instruction(ast->instructions[1]);
  ASSERT_TRUE(ins.has_value());
  Result<void> r = expand_instruction(*ins, env, '\\');
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().source()->line_begin, 2);
  EXPECT_EQ(r.error().message(), "failed to process \"${NAME:?is required}\": NAME: is required");
}

TEST(ExpansionTest, GlobalArgsAreSeenByFromOnlyUntilRedeclared) {
  BuildArgs args({{"VERSION", "2.0"}, {"HTTP_PROXY", "http://p"}, {"UNUSED", "x"}},
                 automatic_platform_values("linux/arm64/v8", "linux/amd64"));
  args.declare_global("VERSION", std::string("1.0"));
  args.declare_global("BASE", std::string("alpine"));
  EXPECT_EQ(expanded("FROM --platform=$BUILDPLATFORM ${BASE}:${VERSION}", args.global_scope()),
            "(from :base \"alpine:2.0\" :platform \"linux/amd64\")");
  StageScope stage(args);
  EXPECT_FALSE(stage.lookup("BASE").has_value());
  EXPECT_FALSE(stage.lookup("TARGETARCH").has_value());
  stage.declare_arg("BASE", std::nullopt);
  stage.declare_arg("TARGETARCH", std::nullopt);
  stage.declare_arg("LOCAL", std::string("l"));
  EXPECT_EQ(stage.lookup("BASE"), std::optional<std::string_view>("alpine"));
  EXPECT_EQ(stage.lookup("TARGETARCH"), std::optional<std::string_view>("arm64"));
  EXPECT_EQ(stage.lookup("LOCAL"), std::optional<std::string_view>("l"));
  stage.set_env("LOCAL", "env wins");
  EXPECT_EQ(stage.lookup("LOCAL"), std::optional<std::string_view>("env wins"));
  EXPECT_EQ(args.unused({"LOCAL"}), std::vector<std::string>{"UNUSED"});
}

TEST(ExpansionTest, AutomaticValuesAndLists) {
  auto v = automatic_platform_values("linux/arm/v7", "linux/amd64");
  EXPECT_EQ(v["TARGETPLATFORM"], "linux/arm/v7");
  EXPECT_EQ(v["TARGETOS"], "linux");
  EXPECT_EQ(v["TARGETARCH"], "arm");
  EXPECT_EQ(v["TARGETVARIANT"], "v7");
  EXPECT_EQ(v["BUILDVARIANT"], "");
  EXPECT_EQ(automatic_platform_args().size(), 8u);
  EXPECT_TRUE(is_proxy_arg("no_proxy"));
  EXPECT_FALSE(is_proxy_arg("PROXY"));
  bool from_base = false;
  for (const ExpansionRule& r : expansion_rules()) {
    from_base |= r.kind == Keyword::from && r.field == "base" && r.scope == ExpandScope::global;
  }
  EXPECT_TRUE(from_base);
}

}  // namespace
}  // namespace kiln::parser
