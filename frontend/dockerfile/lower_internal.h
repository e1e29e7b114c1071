// Shared state of one lowering (lower.cc) and its handlers (lower_*.cc).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/dockerfile/lower.h"
#include "parser/ast.h"
#include "parser/expansion.h"
#include "parser/instructions.h"

namespace kiln::dockerfile {

struct Lowering;

/// One stage being lowered.
struct StageCtx {
  Lowering& l;
  int index = 0;            ///< position in the Dockerfile
  std::string name;         ///< the stage's name, or its index as text
  BuildState state;
  parser::StageScope scope;
  std::vector<std::string> shell;  ///< SHELL (default /bin/sh -c)
  int step = 0;                    ///< the current instruction's step number
  int step_count = 0;
  bool cmd_set = false;            ///< a CMD in this stage (ENTRYPOINT then keeps it, as in BuildKit)

  /// The origin of an op made by instruction `ins` (for progress and errors).
  solver::OpOrigin origin(const parser::Instruction& ins) const;
  /// Build args visible to RUN (K=V), ENV winning over ARG.
  std::vector<std::string> visible_args() const;
};

/// The whole build.
struct Lowering {
  const LowerOptions& opts;
  parser::Ast ast;
  parser::Stages stages;
  std::unique_ptr<parser::BuildArgs> args;
  std::vector<std::optional<BuildState>> done;  ///< per stage, once lowered
  std::vector<bool> in_progress;                ///< cycle detection
  std::vector<StepInfo> steps;
  std::vector<std::string> warnings;
  std::set<std::string> declared_args;
  std::map<std::string, std::string> generated_contexts;  ///< name -> dir (heredoc files)
  std::vector<std::shared_ptr<void>> keep_alive;          ///< temp dirs of generated contexts

  explicit Lowering(const LowerOptions& o) : opts(o) {}

  /// The stage named `name` (case-insensitive) or with that index; -1 if none.
  int find_stage(const std::string& name) const;
  /// Lowers stage i (and what it depends on) once; its final state.
  Result<BuildState> stage(int i);
  /// Attaches the Dockerfile location of `ins` to an error.
  Error located(Error e, const parser::Instruction& ins) const;
};

using Handler = Result<void> (*)(StageCtx&, const parser::Instruction&);

// Handlers (one file per family; F2).
Result<void> lower_run(StageCtx& s, const parser::Instruction& ins);
Result<void> lower_copy(StageCtx& s, const parser::Instruction& ins);
Result<void> lower_meta(StageCtx& s, const parser::Instruction& ins);
/// FROM: the stage's starting state (image, earlier stage or scratch) and its scope.
Result<void> lower_from(StageCtx& s, const parser::Instruction& ins);
/// Runs the ONBUILD triggers of the stage's base, then clears them.
Result<void> run_onbuild_triggers(StageCtx& s, const parser::Instruction& from);
/// Dispatches one (already typed) instruction: expansion, then its handler.
Result<void> dispatch(StageCtx& s, parser::Instruction ins);

/// The state a `--from=` value names: a named build context, a stage (name
/// or index), or an image.
Result<BuildState> from_source(StageCtx& s, const std::string& from);

/// Go's %q rendering of a string list (BuildKit's history text: CMD ["a" "b"]).
std::string go_quoted_list(const std::vector<std::string>& v);

}  // namespace kiln::dockerfile
