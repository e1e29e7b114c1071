// The scheduler with fake ops (STYLE.md T4): no containers are started.
#include "solver/solve.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace kiln::solver {
namespace {

class FakeRunner : public OpRunner {
 public:
  Result<std::string> content_digest(const Definition&, int, std::vector<std::string>* files) override {
    if (files != nullptr) {
      files->push_back("a.txt " + content);
    }
    return content;
  }
  Result<OpResult> run(const Definition& def, int op, const std::vector<const OpResult*>& inputs,
                       const CancelToken& cancel) override {
    {
      std::lock_guard<std::mutex> lock(m);
      ++calls[op];
    }
    int now = ++running;
    int prev = max_running.load();
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
    }
    OpResult r;
    if (!inputs.empty()) {
      r.layers = inputs[0]->layers;
    }
    const Op& o = def.ops[static_cast<size_t>(op)];
    if (std::holds_alternative<Exec>(o.attrs) || std::holds_alternative<Copy>(o.attrs)) {
      LayerRef l;
      l.diff_id = oci::Digest::sha256_of("diff" + std::to_string(op));
      l.digest = oci::Digest::sha256_of("blob" + std::to_string(op));
      l.size = 10;
      l.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
      r.layers.push_back(l);
      r.new_layer = l;
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
      while (std::chrono::steady_clock::now() < until && !cancel.cancelled()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (cancel.cancelled()) {
        ++saw_cancel;
      }
      if (fail_op == op) {
        --running;
        return Error(ErrorCode::failed_step, "exit status 2");
      }
    }
    --running;
    return r;
  }
  bool result_available(const OpResult&) override { return available; }

  std::mutex m;
  std::map<int, int> calls;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> saw_cancel{0};
  int delay_ms = 0;
  int fail_op = -1;
  bool available = true;
  std::string content = "sha256:1111";
};

Op exec(int input, const std::string& cmd, const std::string& stage = "", int step = 0) {
  Exec e;
  e.args = {"/bin/sh", "-c", cmd};
  e.cwd = "/";
  Op op{e, {input}, {}};
  op.origin.description = "RUN " + cmd;
  op.origin.stage = stage;
  op.origin.step = step;
  op.origin.step_count = 3;
  return op;
}

// 0 scratch; 1 ctx; two independent stages 2->3 and 4->5; 6 copies from 3 onto 5.
Definition diamond() {
  Definition d;
  d.ops.push_back({ScratchSource{}, {}, {}});
  d.ops.push_back({ContextSource{"context", {}}, {}, {}});
  d.ops.push_back(exec(0, "a1", "a", 1));
  d.ops.push_back(exec(2, "a2", "a", 2));
  d.ops.push_back(exec(0, "b1", "b", 1));
  d.ops.push_back(exec(4, "b2", "b", 2));
  Copy c;
  c.sources = {"/out"};
  c.dest = "/in";
  d.ops.push_back({c, {5, 3}, {"COPY --from=a /out /in", "final", 1, 1, "", 0, 0}});
  return d;
}

TEST(SolveTest, SharedInputsRunOnceAndHitsDoNotExecute) {
  Definition d = diamond();
  FakeRunner runner;
  cache::MemoryKeyIndex keys;
  SolveOptions o;
  o.jobs = 2;
  o.keys = &keys;
  auto r = solve(d, {6}, runner, o);
  ASSERT_TRUE(r) << r.error().render();
  for (int i : {0, 2, 3, 4, 5, 6}) {
    EXPECT_EQ(runner.calls[i], 1) << "op " << i;
  }
  EXPECT_EQ(runner.calls.count(1), 0u);  // the context is not an input of the target
  EXPECT_EQ(r->results[6]->layers.size(), 3u);
  FakeRunner again;
  auto r2 = solve(d, {6}, again, o);
  ASSERT_TRUE(r2);
  for (int i = 2; i < 7; ++i) {
    EXPECT_EQ(again.calls[i], 0) << "op " << i << " should be a cache hit";
  }
  EXPECT_TRUE(r2->results[6]->cached);
  EXPECT_EQ(r2->results[6]->layers, r->results[6]->layers);
  EXPECT_EQ(r2->keys, r->keys);
}

TEST(SolveTest, ContentChangeMissesOnlyDependents) {
  Definition d = diamond();
  FakeRunner runner;
  cache::MemoryKeyIndex keys;
  SolveOptions o;
  o.keys = &keys;
  ASSERT_TRUE(solve(d, {6}, runner, o));
  FakeRunner changed;
  changed.content = "sha256:2222";
  ASSERT_TRUE(solve(d, {6}, changed, o));
  EXPECT_EQ(changed.calls[3], 0);
  EXPECT_EQ(changed.calls[5], 0);
  EXPECT_EQ(changed.calls[6], 1);
}

TEST(SolveTest, MissingBlobsTurnAHitIntoAMiss) {
  Definition d = diamond();
  FakeRunner runner;
  cache::MemoryKeyIndex keys;
  SolveOptions o;
  o.keys = &keys;
  ASSERT_TRUE(solve(d, {3}, runner, o));
  FakeRunner pruned;
  pruned.available = false;
  ASSERT_TRUE(solve(d, {3}, pruned, o));
  EXPECT_EQ(pruned.calls[3], 1);
}

TEST(SolveTest, IndependentStagesRunInParallel) {
  Definition d = diamond();
  FakeRunner runner;
  runner.delay_ms = 60;
  SolveOptions o;
  o.jobs = 2;
  ASSERT_TRUE(solve(d, {6}, runner, o));
  EXPECT_EQ(runner.max_running.load(), 2);
  FakeRunner serial;
  serial.delay_ms = 10;
  o.jobs = 1;
  ASSERT_TRUE(solve(d, {6}, serial, o));
  EXPECT_EQ(serial.max_running.load(), 1);
}

TEST(SolveTest, OnlyNeededOpsRun) {
  Definition d = diamond();
  FakeRunner runner;
  SolveOptions o;
  ASSERT_TRUE(solve(d, {3}, runner, o));
  EXPECT_EQ(runner.calls.count(4), 0u);
  EXPECT_EQ(runner.calls.count(5), 0u);
}

TEST(SolveTest, FailureCancelsAndNamesTheStep) {
  Definition d = diamond();
  d.ops[2].origin.file = "Dockerfile";
  d.ops[2].origin.line_begin = 3;
  d.ops[2].origin.line_end = 3;
  FakeRunner runner;
  runner.delay_ms = 100;
  runner.fail_op = 2;
  SolveOptions o;
  o.jobs = 2;
  auto r = solve(d, {6}, runner, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().render(), "building stage `a`: step 1/3 RUN a1: exit status 2");
  ASSERT_TRUE(r.error().source());
  EXPECT_EQ(r.error().source()->line_begin, 3);
  EXPECT_EQ(runner.calls.count(3), 0u);  // a2 never started
  EXPECT_EQ(runner.calls.count(6), 0u);
}

TEST(SolveTest, ExplainSaysWhatChanged) {
  Definition d = diamond();
  FakeRunner runner;
  cache::MemoryKeyIndex keys;
  SolveOptions o;
  o.keys = &keys;
  char tmpl[] = "/tmp/kiln-explain-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  o.explain_dir = tmpl;
  o.explain_identity = "test";
  std::vector<std::vector<std::string>> explanations;
  o.on_event = [&](const SolveEvent& ev) {
    if (ev.kind == SolveEvent::Kind::started && ev.op == 6) {
      explanations.push_back(ev.explanation);
    }
  };
  ASSERT_TRUE(solve(d, {6}, runner, o));
  FakeRunner changed;
  changed.content = "sha256:2222";
  ASSERT_TRUE(solve(d, {6}, changed, o));
  ASSERT_EQ(explanations.size(), 2u);
  EXPECT_EQ(explanations[0], std::vector<std::string>{"no earlier build of this step is recorded"});
  EXPECT_EQ(explanations[1], std::vector<std::string>{"COPY source `a.txt` content changed"});
  std::string cmd = std::string("rm -rf ") + tmpl;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace kiln::solver
