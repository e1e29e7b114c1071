// `--progress=json`: one JSON object per line on stderr, for each planned
// step, each solver event, the commit and a failure.
#pragma once

#include <string>
#include <vector>

#include "frontend/api/build.h"
#include "frontend/dockerfile/lower.h"

namespace kiln::dockerfile {

/// {"event":"step","stage":..,"stage_index":..,"step":..,"step_count":..,"instruction":..}
std::string step_json(const StepInfo& step);
/// {"event":"step_start"|"cache_hit"|"step_end"|"step_failed","stage","step","instruction","cache_key",
///  "duration_seconds"?,"layer_bytes"?,"layer_digest"?,"cache_miss_reasons"?}
std::string event_json(const BuildEvent& event);
/// {"event":"commit","names","id","manifest_digest","duration_seconds","steps_run","steps_cached"}
std::string commit_json(const std::vector<std::string>& names, const BuiltImage& image, double seconds);
/// {"event":"error","message"}
std::string error_json(const Error& error);

}  // namespace kiln::dockerfile
