// kiln commit (stepwise builds; buildah's names and flags).
#include <CLI/CLI.hpp>

#include <memory>

#include "frontend/api/container.h"
#include "frontend/api/namespace.h"
#include "frontend/api/registry_api.h"
#include "frontend/api/store_api.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/registry_flags.h"
#include "frontend/cli/stepwise_flags.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

struct CommitOpts {
  std::string container;
  std::string image;
  bool squash = false;
  bool remove = false;
  bool push = false;
  bool disable_compression = false;
  std::string iidfile;
  std::vector<std::string> annotations;
  SolveFlags solve;
  RegistryFlags registry;
};

Result<std::string> push_committed(const ImageStore& store, const std::string& image, const CommitOpts& o) {
  if (image.empty()) {
    return Error(ErrorCode::usage, "commit --push: name the IMAGE to push (REGISTRY/REPO:TAG)");
  }
  KILN_TRY_ASSIGN(RegistryOptions ro, registry_options(o.registry));
  KILN_TRY_ASSIGN(PushSummary pushed, push_image(store, image, "", ro));
  return pushed.reference;
}

int run_commit(const CommitOpts& o, const Globals& g) {
  SolveFlags solve = o.solve;
  if (o.disable_compression) {
    solve.compression = "none";
  }
  auto config = stepwise_config(solve);
  if (!config) {
    return report_error(config.error());
  }
  // `docker://REF` (buildah's way to commit straight to a registry) means --push.
  std::string image = o.image;
  bool push = o.push;
  if (image.starts_with("docker://")) {
    image = image.substr(9);
    push = true;
  }
  ContainerCommitOptions co;
  if (!image.empty()) {
    co.tags.push_back(image);
  }
  co.squash = o.squash;
  co.remove = o.remove;
  auto ann = key_values(o.annotations, "--annotation");
  if (!ann) {
    return report_error(ann.error());
  }
  co.annotations.insert(ann->begin(), ann->end());
  if (push) {  // pushing happens inside the namespace, which may not read host root's auth files
    if (auto handed = hand_over_registry_files(o.registry); !handed) {
      return report_error(handed.error());
    }
  }
  auto store = open_store_in_namespace(g.root, g.argc, g.argv);
  if (!store) {
    return report_error(store.error());
  }
  auto built = commit_container(*store, o.container, co, *config);
  if (!built) {
    return report_error(built.error());
  }
  if (!o.iidfile.empty()) {
    if (auto w = write_file_atomic(absolute_path(o.iidfile), built->id); !w) {
      return report_error(w.error());
    }
  }
  if (push) {
    auto where = push_committed(*store, image, o);
    if (!where) {
      return report_error(Error(where.error()).wrap(cat("committed ", built->id, ", but push")));
    }
    log::info("pushed ", *where);
  }
  print_line(built->id);
  return 0;
}

}  // namespace

Handler setup_commit(CLI::App& sub) {
  auto o = std::make_shared<CommitOpts>();
  sub.add_option("container", o->container, "Working container")->required();
  sub.add_option("image", o->image, "Name for the image (default: none); docker://REF also pushes it");
  sub.add_option("-f,--format", o->solve.format, "Image format: oci (default) or docker");
  sub.add_flag("--squash", o->squash, "One layer for the whole filesystem, base image included");
  sub.add_option("--iidfile", o->iidfile, "Write the image id to this file");
  sub.add_flag("--rm", o->remove, "Remove the working container after committing");
  sub.add_option("--compression", o->solve.compression, "Layer compression: gzip (default), zstd, none");
  sub.add_flag("-D,--disable-compression", o->disable_compression, "Do not compress the new layer");
  sub.add_option("--timestamp", o->solve.timestamp,
                 "Created time and file mtimes, in seconds since 1970 (default: $SOURCE_DATE_EPOCH, else now)");
  sub.add_option("--annotation", o->annotations, "Manifest annotation KEY=VALUE (repeatable)");
  sub.add_flag("--push", o->push, "Push IMAGE to its registry after committing");
  add_registry_flags(sub, o->registry, true);
  add_storage_flag(sub, o->solve);
  return [o](const Globals& g) { return run_commit(*o, g); };
}

}  // namespace kiln::cli
