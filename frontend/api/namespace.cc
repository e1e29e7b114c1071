#include "frontend/api/namespace.h"

#include <cstdlib>

#include "executor/user_namespace.h"
#include "frontend/api/store_api.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

Result<void> enter_build_namespace(int argc, char** argv) { return executor::enter_user_namespace(argc, argv); }

Result<ImageStore> open_store_in_namespace(const std::string& root, int argc, char** argv) {
  if (!executor::in_kiln_namespace()) {
    std::string path = absolute_path(root.empty() ? default_store_root() : root);
    KILN_TRY(ImageStore::open(path));
    ::setenv("KILN_ROOT", path.c_str(), 1);
    KILN_TRY(executor::enter_user_namespace(argc, argv));
    return ImageStore::open(path);
  }
  return ImageStore::open(root);
}

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
