// A one-line s-expression of a typed instruction, for golden tests and
// debugging: `(copy :sources ("a") :dest "/x" :from "build" :link true)`.
// Fields at their default value are left out.
#pragma once

#include <string>

#include "parser/instructions.h"

namespace kiln::parser {

std::string dump_typed(const Instruction& ins);

}  // namespace kiln::parser
