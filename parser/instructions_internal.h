// Shared pieces of the instruction typing (instructions*.cc). Internal.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "parser/flags.h"
#include "parser/instructions.h"

namespace kiln::parser::detail {

/// An invalid_input error at node's lines; when `near` occurs on the first
/// line of the instruction, the caret points at it.
Error node_error(const Node& node, std::string message, std::string_view near = {});

/// parse_flags with the error located at the offending flag.
Result<FlagValues> node_flags(const Node& node, std::span<const FlagSpec> specs);

/// The upper-case instruction name for messages.
std::string upper_name(const Node& node);

/// The typed forms living in their own files.
Result<InstructionValue> type_copy(const Node& node);
Result<InstructionValue> type_run(const Node& node);
Result<InstructionValue> type_healthcheck(const Node& node);

/// Expands one value (used to expand --mount option values).
using ValueExpander = std::function<Result<std::string>(std::string_view)>;

/// Parses one --mount value (comma-separated, CSV quoting). Without an
/// expander, values containing `$` are kept raw and checked later; with one,
/// every value is expanded first. Errors name the mount option.
Result<Mount> parse_mount(std::string_view spec, const ValueExpander* expand);

/// The exec/shell command of RUN/CMD/ENTRYPOINT.
CommandLine command_line(const Node& node);

}  // namespace kiln::parser::detail
