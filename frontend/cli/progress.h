// Progress reporters (STYLE.md F4, ninja's Status): what a build prints on
// stderr while it runs. Plain: buildah's lines ("[1/2] STEP 3/7: RUN make",
// "--> Using cache <id>", "COMMIT app:1"); JSON: one event object per line;
// quiet: nothing.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "frontend/api/build.h"
#include "frontend/dockerfile/lower.h"

namespace kiln::cli {

enum class ProgressMode { plain, json, quiet };

class Reporter {
 public:
  virtual ~Reporter() = default;
  /// The steps of the build, before it runs.
  virtual void plan(const std::vector<dockerfile::StepInfo>& steps) = 0;
  virtual void event(const BuildEvent& ev) = 0;
  /// After the solve: the remaining steps and the commit line.
  virtual void committed(const std::vector<std::string>& names, const BuiltImage& image, double seconds) = 0;
  virtual void failed(const Error& error) = 0;
};

std::unique_ptr<Reporter> make_reporter(ProgressMode mode);

}  // namespace kiln::cli
