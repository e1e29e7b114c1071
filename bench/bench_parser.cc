// Parsing speed (issue 3: a generated 10,000-instruction Dockerfile with
// heredocs and continuations parses in under 20 ms on the dev machine).
#include <benchmark/benchmark.h>

#include <string>

#include "parser/instructions.h"
#include "parser/parser.h"
#include "parser/shell_lex.h"

namespace {

// A Dockerfile of `count` instructions cycling through the common shapes:
// continuations, heredocs, flags, JSON form, ENV/LABEL pairs, comments.
std::string generate(int count) {
  std::string out = "# syntax=docker/dockerfile:1\n";
  for (int i = 0; i < count; ++i) {
    std::string n = std::to_string(i);
    switch (i % 10) {
      case 0:
        out += "FROM --platform=$BUILDPLATFORM golang:1.22 AS stage" + n + "\n";
        break;
      case 1:
        out += "RUN apt-get update && \\\n    apt-get install -y --no-install-recommends \\\n      curl ca-certificates git && \\\n    rm -rf /var/lib/apt/lists/*\n";
        break;
      case 2:
        out += "RUN --mount=type=cache,target=/root/.cache/go-build <<EOF\nset -e\ngo build -o /out/app" + n +
               " ./cmd/app\necho built $TARGETARCH\nEOF\n";
        break;
      case 3:
        out += "COPY --from=stage0 --chown=app:app --chmod=755 /out/app" + n + " /usr/local/bin/\n";
        break;
      case 4:
        out += "# comment line " + n + "\nENV PATH=/usr/local/go/bin:$PATH GOFLAGS=\"-mod=vendor\" N=" + n + "\n";
        break;
      case 5:
        out += "LABEL org.opencontainers.image.title=\"app " + n + "\" version=1.0\n";
        break;
      case 6:
        out += "COPY <<-EOT /etc/app" + n + ".conf\n\tlisten 80\n\tworkers 4\n\tEOT\n";
        break;
      case 7:
        out += "WORKDIR /src/" + n + "\n";
        break;
      case 8:
        out += "CMD [\"/usr/local/bin/app\", \"--port\", \"80" + n + "\"]\n";
        break;
      default:
        out += "ARG VERSION" + n + "=1.2.3\n";
        break;
    }
  }
  return out;
}

void BM_Parse10k(benchmark::State& state) {
  const std::string text = generate(10000);
  for (auto _ : state) {
    kiln::Result<kiln::parser::Ast> ast = kiln::parser::parse(text);
    benchmark::DoNotOptimize(ast);
    if (!ast) {
      state.SkipWithError("parse failed");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Parse10k)->Unit(benchmark::kMillisecond);

void BM_ParseAndType10k(benchmark::State& state) {
  const std::string text = generate(10000);
  for (auto _ : state) {
    kiln::Result<kiln::parser::Ast> ast = kiln::parser::parse(text);
    auto typed = kiln::parser::type_instructions(*ast);
    benchmark::DoNotOptimize(typed);
  }
}
BENCHMARK(BM_ParseAndType10k)->Unit(benchmark::kMillisecond);

void BM_ExpandWord(benchmark::State& state) {
  kiln::parser::MapEnv env({{"VERSION", "1.2.3"}, {"TARGETOS", "linux"}, {"TARGETARCH", "arm64"}});
  kiln::parser::ShellLex lex;
  for (auto _ : state) {
    auto r = lex.process_word("app-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tgz", env);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ExpandWord);

}  // namespace
