// Which instruction arguments are expanded with the stage's variables, and
// how (BuildKit's dockerfile2llb dispatch and the instructions' Expand
// methods), plus the variable scopes a build uses.
//
// How the lowering uses this (ARG/ENV expansion happens once, before
// dispatch, STYLE.md F2):
//
//   BuildArgs args(cli_build_args, automatic_platform_values(target, build));
//   for each global ARG (Stages::global_args): args.declare_global(...)
//   for each stage:
//     expand_instruction(stage.from, args.global_scope(), escape)   // FROM sees global ARGs only
//     StageScope scope(args);   scope.set_env(...) for the base image's Env
//     for each instruction: expand_instruction(ins, scope, escape); then
//       ARG -> scope.declare_arg(key, value); ENV -> scope.set_env(key, value)
//       and lower it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "parser/instructions.h"
#include "parser/shell_lex.h"

namespace kiln::parser {

/// How an argument is expanded.
enum class ExpandMode {
  word,   ///< ShellLex::process_word (quotes and escapes removed)
  words,  ///< ShellLex::process_words: expanded and split (EXPOSE)
  raw,    ///< heredoc content of COPY/ADD with expand=true: escape `\`,
          ///< quotes left alone (skip_process_quotes)
};

/// Which variables an argument sees.
enum class ExpandScope {
  stage,   ///< the stage's ARGs and ENV (StageScope)
  global,  ///< global ARGs and the automatic platform ARGs (FROM lines)
};

/// One row of the table: instruction, field (as named in instructions.h),
/// mode, scope. Instructions and fields not listed are never expanded by the
/// builder: RUN/CMD/ENTRYPOINT/SHELL arguments (the shell does it), RUN
/// heredocs, HEALTHCHECK, ONBUILD, MAINTAINER, FROM's stage name, the
/// booleans, RUN --network/--security/--device.
struct ExpansionRule {
  Keyword kind;
  std::string_view field;
  ExpandMode mode;
  ExpandScope scope;
};
std::span<const ExpansionRule> expansion_rules();

/// Expands, in place, every field of ins that expansion_rules() lists, with
/// env (the scope the rule names: pass the global scope for FROM, the stage
/// scope otherwise) and the Dockerfile's escape character; then re-checks the
/// values that could not be checked before (RUN --mount options, --chmod,
/// --checksum, EXPOSE ports, STOPSIGNAL). Names looked up and not found are
/// added to *unmatched when given (for "undefined variable" warnings).
/// Errors carry the instruction's SourceRange.
Result<void> expand_instruction(Instruction& ins, const EnvLookup& env, char escape,
                                std::set<std::string>* unmatched = nullptr);

/// The automatic platform ARGs, predefined in the global scope:
/// TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS
/// BUILDARCH BUILDVARIANT. In a stage they are visible only after
/// `ARG NAME` (without a value).
std::span<const std::string_view> automatic_platform_args();

/// The proxy ARGs: usable with --build-arg without an ARG instruction, kept
/// out of the image history and cache keys: HTTP_PROXY http_proxy
/// HTTPS_PROXY https_proxy FTP_PROXY ftp_proxy NO_PROXY no_proxy ALL_PROXY
/// all_proxy.
std::span<const std::string_view> proxy_args();
bool is_proxy_arg(std::string_view name);

/// Values of the automatic platform ARGs for "os/arch[/variant]" platforms.
std::map<std::string, std::string, std::less<>> automatic_platform_values(std::string_view target_platform,
                                                                        std::string_view build_platform);

/// Build arguments (--build-arg) and the global ARG scope.
class BuildArgs {
 public:
  BuildArgs(std::map<std::string, std::string, std::less<>> build_args,
            std::map<std::string, std::string, std::less<>> automatic);

  /// Declares a global ARG (before the first FROM); its value is the
  /// --build-arg when given, else default_value (already expanded).
  void declare_global(const std::string& name, std::optional<std::string> default_value);
  /// Global ARGs + automatic platform ARGs: the scope of FROM lines.
  const EnvLookup& global_scope() const { return m_global; }

  const std::map<std::string, std::string, std::less<>>& build_args() const { return m_build_args; }
  std::optional<std::string> global_value(std::string_view name) const;
  std::optional<std::string> automatic_value(std::string_view name) const;
  /// Build args no ARG instruction declared (BuildKit warns about those,
  /// except proxy args); call after the build.
  std::vector<std::string> unused(const std::set<std::string>& declared) const;

 private:
  std::map<std::string, std::string, std::less<>> m_build_args;
  std::map<std::string, std::string, std::less<>> m_automatic;
  MapEnv m_global;
  std::set<std::string, std::less<>> m_declared_globals;
};

/// The variables a stage's instructions see: ENV (base image Env, then ENV
/// instructions) wins over ARG of the same name; an ARG is visible from its
/// declaration on.
class StageScope : public EnvLookup {
 public:
  explicit StageScope(const BuildArgs& args) : m_args(&args) {}
  void set_env(const std::string& name, std::string value) { m_env.set(name, std::move(value)); }
  /// `ARG name[=default]` in the stage: the value is the --build-arg, else the
  /// default (already expanded), else the global ARG's value when it was
  /// declared globally, else an automatic platform value; else unset.
  void declare_arg(const std::string& name, std::optional<std::string> default_value);
  std::optional<std::string_view> lookup(std::string_view name) const override;
  const MapEnv& env() const { return m_env; }
  const MapEnv& args() const { return m_stage_args; }

 private:
  const BuildArgs* m_args;
  MapEnv m_env;
  MapEnv m_stage_args;
};

}  // namespace kiln::parser
