#include "parser/values.h"

#include <gtest/gtest.h>

#include "parser/errors.h"
#include "parser/shell_lex.h"

namespace kiln::parser {
namespace {

TEST(ValuesTest, GoDurations) {
  EXPECT_EQ(*parse_go_duration("1h30m"), 5400LL * 1000000000);
  EXPECT_EQ(*parse_go_duration("1.5s"), 1500000000);
  EXPECT_EQ(*parse_go_duration("300ms"), 300000000);
  EXPECT_EQ(*parse_go_duration("-2us"), -2000);
  EXPECT_EQ(*parse_go_duration("0"), 0);
  EXPECT_FALSE(parse_go_duration("5").has_value());
  EXPECT_FALSE(parse_go_duration("").has_value());
  EXPECT_FALSE(parse_go_duration("1d").has_value());
  EXPECT_FALSE(parse_go_duration(".s").has_value());
}

TEST(ValuesTest, ChmodOctalAndSymbolic) {
  EXPECT_EQ(parse_chmod("755")->octal, 0755u);
  EXPECT_FALSE(parse_chmod("10000").has_value());
  EXPECT_FALSE(parse_chmod("u=rwz").has_value());
  EXPECT_FALSE(parse_chmod("").has_value());
  EXPECT_EQ(parse_chmod("u=rwx,go=rx")->apply(0600, false), 0755u);
  EXPECT_EQ(parse_chmod("+x")->apply(0644, false), 0755u);
  EXPECT_EQ(parse_chmod("a-w")->apply(0666, false), 0444u);
  EXPECT_EQ(parse_chmod("go-rwx")->apply(0777, false), 0700u);
  EXPECT_EQ(parse_chmod("a+X")->apply(0644, true), 0755u);
  EXPECT_EQ(parse_chmod("a+X")->apply(0644, false), 0644u);
  EXPECT_EQ(parse_chmod("u+s")->apply(0755, false), 04755u);
  EXPECT_EQ(parse_chmod("g=u")->apply(0740, false), 0770u);
}

TEST(ValuesTest, PortsSignalsSizesChecksums) {
  PortSpec p = *parse_port_spec("8000-8010/UDP");
  EXPECT_EQ(p.first, 8000);
  EXPECT_EQ(p.last, 8010);
  EXPECT_EQ(p.proto, "udp");
  EXPECT_FALSE(parse_port_spec("70000").has_value());
  EXPECT_FALSE(parse_port_spec("90-80").has_value());
  EXPECT_EQ(*parse_signal("SIGTERM"), 15);
  EXPECT_EQ(*parse_signal("kill"), 9);
  EXPECT_EQ(*parse_signal("SIGRTMIN+3"), 37);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_FALSE(parse_signal("0").has_value());
  EXPECT_EQ(*parse_ram_size("64m"), 64LL << 20);
  EXPECT_EQ(*parse_ram_size("1.5GiB"), 3LL << 29);
  EXPECT_EQ(*parse_ram_size("100"), 100);
  EXPECT_FALSE(parse_ram_size("lots").has_value());
  EXPECT_TRUE(validate_checksum("sha256:" + std::string(64, 'a')).has_value());
  EXPECT_FALSE(validate_checksum("sha256:" + std::string(63, 'a')).has_value());
  EXPECT_EQ(parse_go_bool("T"), std::optional<bool>(true));
  EXPECT_EQ(parse_go_bool("yes"), std::nullopt);
}

TEST(ErrorsTest, RenderPointsAtColumnAndKeepsTabs) {
  Error e = located_error(ErrorCode::invalid_input, "bad flag", 2, 2, 7);
  EXPECT_EQ(render_error(e, "FROM a\n\tRUN --x y\n", "Dockerfile"), "Dockerfile:2: bad flag\n\tRUN --x y\n\t     ^");
  Error no_line = located_error(ErrorCode::parse, "file with no instructions", 0);
  EXPECT_EQ(render_error(no_line, "", "Containerfile"), "Containerfile: file with no instructions");
  Error wrapped = located_error(ErrorCode::parse, "inner", 1).wrap("outer");
  EXPECT_EQ(render_error(wrapped, "  CMD x\r\n", "D"), "D:1: outer: inner\n  CMD x\n  ^");
}

TEST(ShellLexTest, SkipUnsetEnvKeepsReferences) {
  ShellOptions o;
  o.skip_unset_env = true;
  MapEnv env({{"SET", "v"}});
  EXPECT_EQ(*ShellLex(o).process_word("$SET $UNSET ${UNSET} ${UNSET:-d} ${U/a/b}", env),
            "v $UNSET ${UNSET} ${UNSET:-d} ${U/a/b}");
}

TEST(ShellLexTest, RawQuotesAndEscapes) {
  ShellOptions o;
  o.raw_quotes = true;
  o.raw_escapes = true;
  MapEnv env;
  EXPECT_EQ(*ShellLex(o).process_word("'a b' \"c\\\"d\" e\\ f", env), "'a b' \"c\\\"d\" e\\ f");
}

TEST(ShellLexTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) {
    deep += "${A:-";
  }
  deep += "x";
  deep += std::string(5000, '}');
  MapEnv env;
  EXPECT_FALSE(ShellLex().process_word(deep, env).has_value());
}

TEST(ShellLexTest, InvalidUtf8BecomesReplacementCharacter) {
  MapEnv env;
  EXPECT_EQ(*ShellLex().process_word("a\xff" "b", env), "a\xEF\xBF\xBD" "b");
}

}  // namespace
}  // namespace kiln::parser
