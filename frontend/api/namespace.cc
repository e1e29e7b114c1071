#include "frontend/api/namespace.h"

#include "executor/user_namespace.h"
#include "util/strings.h"

namespace kiln {

Result<void> enter_build_namespace(int argc, char** argv) { return executor::enter_user_namespace(argc, argv); }

Result<void> exec_in_build_namespace(const std::vector<std::string>& command) {
  return executor::exec_in_namespace(command);
}

Result<std::string> describe_id_mapping() {
  auto mapping = executor::in_kiln_namespace() ? executor::current_id_mapping() : executor::compute_id_mapping();
  if (!mapping) {
    return std::move(mapping).error();
  }
  return cat("uids ", executor::IdMapping::format(mapping->uids), "; gids ", executor::IdMapping::format(mapping->gids));
}

}  // namespace kiln
