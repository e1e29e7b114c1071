#include "frontend/cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include "frontend/dockerfile/progress_json.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

void out(const std::string& s) {
  ssize_t ignored = ::write(2, s.data(), s.size());
  (void)ignored;
}

class PlainReporter : public Reporter {
 public:
  void plan(const std::vector<dockerfile::StepInfo>& steps) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_steps = steps;
    m_printed.assign(steps.size(), false);
  }
  void event(const BuildEvent& ev) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (ev.kind == BuildEvent::Kind::step_started || ev.kind == BuildEvent::Kind::step_cached) {
      print_through(ev.stage, ev.step);
    }
    if (ev.kind == BuildEvent::Kind::step_cached) {
      out(cat("--> Using cache ", ev.key.substr(0, 64), "\n"));
    } else if (ev.kind == BuildEvent::Kind::step_started && !ev.explanation.empty()) {
      for (const auto& why : ev.explanation) {
        out(cat("--> cache miss: ", why, "\n"));
      }
    }
  }
  void committed(const std::vector<std::string>& names, const BuiltImage& image, double seconds) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (size_t i = 0; i < m_steps.size(); ++i) {
      print_step(i);
    }
    std::string prefix = stage_prefix(m_steps.empty() ? dockerfile::StepInfo{} : m_steps.back());
    out(cat(prefix, "COMMIT", names.empty() ? "" : " " + join(names, " "), "\n"));
    std::string hex = image.id.starts_with("sha256:") ? image.id.substr(7) : image.id;
    out(cat("--> ", hex.substr(0, 12), "\n"));
    for (const auto& n : names) {
      out(cat("Successfully tagged ", n, "\n"));
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", seconds);
    out(cat("Built in ", buf, "s (", image.steps_run, " steps run, ", image.steps_cached, " cached)\n"));
  }
  void failed(const Error&) override {}

 private:
  static std::string stage_prefix(const dockerfile::StepInfo& s) {
    return s.stage_count > 1 ? cat("[", s.stage_index + 1, "/", s.stage_count, "] ") : std::string();
  }
  void print_step(size_t i) {
    if (m_printed[i]) {
      return;
    }
    m_printed[i] = true;
    const auto& s = m_steps[i];
    out(cat(stage_prefix(s), "STEP ", s.step, "/", s.step_count, ": ", s.text, "\n"));
  }
  // Prints the steps of `stage` up to `step` (metadata steps have no events).
  void print_through(const std::string& stage, int step) {
    for (size_t i = 0; i < m_steps.size(); ++i) {
      if (m_steps[i].stage_name == stage && m_steps[i].step <= step) {
        print_step(i);
      }
    }
  }
  std::mutex m_mutex;
  std::vector<dockerfile::StepInfo> m_steps;
  std::vector<bool> m_printed;
};

class JsonReporter : public Reporter {
 public:
  void plan(const std::vector<dockerfile::StepInfo>& steps) override {
    for (const auto& s : steps) {
      emit(dockerfile::step_json(s));
    }
  }
  void event(const BuildEvent& ev) override { emit(dockerfile::event_json(ev)); }
  void committed(const std::vector<std::string>& names, const BuiltImage& image, double seconds) override {
    emit(dockerfile::commit_json(names, image, seconds));
  }
  void failed(const Error& error) override { emit(dockerfile::error_json(error)); }

 private:
  void emit(const std::string& line) {
    std::lock_guard<std::mutex> lock(m_mutex);
    out(line + "\n");
  }
  std::mutex m_mutex;
};

class QuietReporter : public Reporter {
 public:
  void plan(const std::vector<dockerfile::StepInfo>&) override {}
  void event(const BuildEvent&) override {}
  void committed(const std::vector<std::string>&, const BuiltImage&, double) override {}
  void failed(const Error&) override {}
};

}  // namespace

std::unique_ptr<Reporter> make_reporter(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::plain: return std::make_unique<PlainReporter>();
    case ProgressMode::json: return std::make_unique<JsonReporter>();
    case ProgressMode::quiet: return std::make_unique<QuietReporter>();
  }
  return std::make_unique<PlainReporter>();
}

}  // namespace kiln::cli
