#include "frontend/dockerfile/progress_json.h"

#include "oci/json.h"

namespace kiln::dockerfile {

std::string step_json(const StepInfo& s) {
  return oci::Json{{"event", "step"}, {"stage", s.stage_name}, {"stage_index", s.stage_index}, {"step", s.step},
                   {"step_count", s.step_count}, {"instruction", s.text}}
      .dump();
}

std::string event_json(const BuildEvent& ev) {
  static const char* names[] = {"step_start", "cache_hit", "step_end", "step_failed"};
  oci::Json j = {{"event", names[static_cast<int>(ev.kind)]}, {"stage", ev.stage}, {"step", ev.step},
                 {"instruction", ev.description}, {"cache_key", ev.key}};
  if (ev.kind == BuildEvent::Kind::step_finished || ev.kind == BuildEvent::Kind::step_failed) {
    j["duration_seconds"] = ev.seconds;
  }
  if (ev.layer_bytes > 0) {
    j["layer_bytes"] = ev.layer_bytes;
    j["layer_digest"] = ev.layer_digest;
  }
  if (!ev.explanation.empty()) {
    j["cache_miss_reasons"] = ev.explanation;
  }
  return j.dump();
}

std::string commit_json(const std::vector<std::string>& names, const BuiltImage& image, double seconds) {
  return oci::Json{{"event", "commit"},          {"names", names},
                   {"id", image.id},             {"manifest_digest", image.manifest_digest},
                   {"duration_seconds", seconds}, {"steps_run", image.steps_run},
                   {"steps_cached", image.steps_cached}}
      .dump();
}

std::string error_json(const Error& error) { return oci::Json{{"event", "error"}, {"message", error.render()}}.dump(); }

}  // namespace kiln::dockerfile
