// libFuzzer target for the Dockerfile parser and the word expander: parses
// the input, dumps it, types and expands every instruction, and expands the
// input itself as one word in every lexer mode. Seed with the conformance
// Dockerfiles (fuzz/CMakeLists.txt shows how).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/ast.h"
#include "parser/expansion.h"
#include "parser/ignore.h"
#include "parser/instructions.h"
#include "parser/parser.h"
#include "parser/shell_lex.h"
#include "parser/typed_dump.h"

namespace {

void fuzz_expander(std::string_view text, const kiln::parser::MapEnv& env) {
  using kiln::parser::ShellLex;
  using kiln::parser::ShellOptions;
  for (int mode = 0; mode < 8; ++mode) {
    ShellOptions o;
    o.escape = (mode & 4) != 0 ? '`' : '\\';
    o.raw_quotes = (mode & 1) != 0;
    o.raw_escapes = (mode & 2) != 0;
    o.skip_unset_env = (mode & 1) != 0;
    o.skip_process_quotes = mode == 7;
    (void)ShellLex(o).process(text, env);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kiln::parser::MapEnv env({{"A", "a b"}, {"EMPTY", ""}, {"STAR", "*x*"}, {"DOLLAR", "$A"}});
  if (size < 4096) {
    fuzz_expander(text, env);
    (void)kiln::parser::IgnoreMatcher::from_text(text);
  }
  kiln::Result<kiln::parser::Ast> ast = kiln::parser::parse(text);
  if (!ast) {
    return 0;
  }
  (void)kiln::parser::dump(*ast);
  (void)kiln::parser::dump_with_heredocs(*ast);
  for (const kiln::parser::Node& node : ast->instructions) {
    kiln::Result<kiln::parser::Instruction> ins = kiln::parser::type_instruction(node);
    if (!ins) {
      continue;
    }
    (void)kiln::parser::dump_typed(*ins);
    (void)kiln::parser::expand_instruction(*ins, env, ast->directives.escape);
  }
  return 0;
}
