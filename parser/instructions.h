// Typed instructions: the raw parse (ast.h) checked against the Dockerfile
// reference, one struct per instruction. This is the level `bud` works on
// and `kiln parse --validate` checks: unknown instructions, unknown or
// malformed flags, flags on instructions that take none, wrong argument
// counts and bad values are errors naming the flag and the line.
//
// Values that contain `$` are kept as written and checked after expansion
// (expand_instruction() in expansion.h re-validates them); everything else is
// checked here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parser/ast.h"
#include "util/result.h"

namespace kiln::parser {

struct KeyValue {
  std::string key;
  std::string value;
};

/// FROM [--platform=P] IMAGE [AS NAME]
struct FromInstr {
  std::string base;        ///< image reference or stage name, unexpanded
  std::string stage_name;  ///< lower-cased; "" when unnamed
  std::string platform;    ///< --platform, unexpanded ("" when absent)
};

/// The command of RUN/CMD/ENTRYPOINT: exec form (prepend_shell false) or
/// shell form (one string, run through SHELL).
struct CommandLine {
  std::vector<std::string> args;
  bool prepend_shell = false;
  std::vector<Heredoc> files;  ///< RUN heredocs (raw content; chomp pending)
};

enum class MountType { bind, cache, tmpfs, secret, ssh };
enum class MountSharing { shared, private_, locked };

/// One RUN --mount (BuildKit's runmount.go options).
struct Mount {
  MountType type = MountType::bind;
  std::string target;   ///< target/dst/destination
  std::string source;   ///< source/src
  std::string from;     ///< stage or image the source comes from
  std::string id;       ///< cache/secret/ssh id
  bool readonly = true; ///< default: true for bind/secret/ssh, false for cache/tmpfs
  MountSharing sharing = MountSharing::shared;
  std::optional<uint32_t> mode, uid, gid;
  bool required = false;         ///< secret/ssh only
  std::optional<int64_t> size;   ///< tmpfs only, bytes
  std::optional<std::string> env;  ///< secret only: expose as this env var
};

enum class NetworkMode { unset, default_, none, host };
enum class SecurityMode { unset, sandbox, insecure };

struct RunInstr {
  CommandLine cmd;
  std::vector<std::string> mount_specs;  ///< the --mount values as written
  /// Parsed. Before expansion, an option whose value contains `$` holds its
  /// raw text (paths, ids) or a valid stand-in (uid, mode, size, sharing,
  /// ro/rw/required); expand_instruction() re-parses mount_specs.
  std::vector<Mount> mounts;
  NetworkMode network = NetworkMode::unset;
  SecurityMode security = SecurityMode::unset;
  std::vector<std::string> devices;  ///< --device (CDI names), as written
};

struct CmdInstr {
  CommandLine cmd;
};
struct EntrypointInstr {
  CommandLine cmd;
};
/// SHELL ["executable", "params"...] (JSON form only)
struct ShellInstr {
  std::vector<std::string> shell;
};
struct LabelInstr {
  std::vector<KeyValue> labels;  ///< raw; expanded by expand_instruction
};
struct EnvInstr {
  std::vector<KeyValue> env;
};
struct MaintainerInstr {
  std::string maintainer;
};
struct ExposeInstr {
  std::vector<std::string> ports;  ///< as written; parse_port_spec after expansion
};

/// A COPY/ADD heredoc source: a file named path with data as content.
struct SourceContent {
  std::string path;
  std::string data;   ///< tabs already stripped for `<<-`
  bool expand = true; ///< expand variables in data (raw mode, see expansion.h)
};

/// COPY and ADD (kind says which; the flags each accepts differ).
struct CopyInstr {
  Keyword kind = Keyword::copy;
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
  std::string from;      ///< COPY --from
  std::string chown;
  std::string chmod;     ///< parse_chmod() after expansion
  bool link = false;
  bool parents = false;      ///< COPY --parents
  bool keep_git_dir = false; ///< ADD --keep-git-dir
  std::string checksum;      ///< ADD --checksum
  std::optional<bool> unpack;  ///< ADD --unpack (unset = default behaviour)
  std::vector<std::string> excludes;
};

struct VolumeInstr {
  std::vector<std::string> paths;
};
struct UserInstr {
  std::string user;
};
struct WorkdirInstr {
  std::string path;
};
struct ArgDecl {
  std::string key;
  std::optional<std::string> value;  ///< default, unexpanded
};
struct ArgInstr {
  std::vector<ArgDecl> args;
};
/// ONBUILD TRIGGER: stored as the trigger's text (with heredocs appended), as
/// the image config keeps it.
struct OnbuildInstr {
  std::string expression;
  Keyword trigger = Keyword::unknown;
};
struct StopsignalInstr {
  std::string signal;  ///< parse_signal() after expansion
};
/// HEALTHCHECK NONE | [options] CMD command. Durations in nanoseconds, 0 =
/// default.
struct HealthcheckInstr {
  std::vector<std::string> test;  ///< {"NONE"}, {"CMD", args...} or {"CMD-SHELL", cmd}
  int64_t interval = 0, timeout = 0, start_period = 0, start_interval = 0;
  int retries = 0;
};

using InstructionValue =
    std::variant<FromInstr, RunInstr, CmdInstr, EntrypointInstr, ShellInstr, LabelInstr, EnvInstr, MaintainerInstr,
                 ExposeInstr, CopyInstr, VolumeInstr, UserInstr, WorkdirInstr, ArgInstr, OnbuildInstr,
                 StopsignalInstr, HealthcheckInstr>;

/// One typed instruction with where it came from.
struct Instruction {
  Keyword kind = Keyword::unknown;
  std::string original;  ///< the logical line, trimmed (for history entries)
  int start_line = 0;
  int end_line = 0;
  InstructionValue value;
};

/// Types one raw instruction. Errors: ErrorCode::invalid_input with the
/// instruction's SourceRange (column at the offending flag where there is one).
Result<Instruction> type_instruction(const Node& node);

/// Types every instruction of a parse.
Result<std::vector<Instruction>> type_instructions(const Ast& ast);

/// Parses one RUN --mount value as written on a command line (`kiln run
/// --mount ...`): BuildKit's runmount.go grammar (a CSV record of key=value
/// options and the bare flags ro/rw/readonly/readwrite/required), only the
/// options the Dockerfile reference lists (any other is an error naming it),
/// values taken literally (no `$` expansion). Errors: invalid_input.
Result<Mount> parse_mount_value(std::string_view spec);

/// A Dockerfile split into stages: the ARGs before the first FROM (global
/// ARGs, visible only to FROM lines unless redeclared) and one entry per
/// FROM with the instructions up to the next FROM.
struct Stage {
  Instruction from;  ///< holds a FromInstr
  std::vector<Instruction> instructions;
};
struct Stages {
  std::vector<Instruction> global_args;  ///< each holds an ArgInstr
  std::vector<Stage> stages;
};
/// Errors: an instruction other than ARG before the first FROM, no FROM.
Result<Stages> split_stages(std::vector<Instruction> instructions);

}  // namespace kiln::parser
