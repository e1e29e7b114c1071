// pull, push, prune, fsck
#include <CLI/CLI.hpp>

#include <memory>

#include "frontend/api/namespace.h"
#include "frontend/api/store_api.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/registry_flags.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cli {

Handler setup_pull(CLI::App& sub) {
  struct Opts {
    std::string source;
    std::string platform;
    RegistryFlags registry;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("source", o->source,
                 "[docker://]REGISTRY/REPO[:TAG|@DIGEST], a short name, oci:DIR[:REF], oci-archive:FILE[:REF] or "
                 "docker-archive:FILE")
      ->required();
  sub.add_option("--platform", o->platform, "Platform to pick from an image index (default: this machine's)");
  add_registry_flags(sub, o->registry, true);
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    PullOptions po;
    po.platform = o->platform;
    auto ro = registry_options(o->registry);
    if (!ro) {
      return report_error(ro.error());
    }
    po.registry = std::move(*ro);
    auto r = pull_image(*store, o->source, po);
    if (!r) {
      return report_error(r.error());
    }
    if (!o->registry.quiet) {
      for (const auto& n : r->names) {
        log::info("stored ", n);
      }
    }
    print_line(r->id);
    return 0;
  };
}

Handler setup_push(CLI::App& sub) {
  struct Opts {
    std::string image;
    std::string dest;
    std::string digestfile;
    RegistryFlags registry;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("image", o->image, "Image name or id")->required();
  sub.add_option("destination", o->dest,
                 "[docker://]REGISTRY/REPO[:TAG] (default: the image's own name), oci:DIR[:TAG], "
                 "oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME]");
  sub.add_option("--digestfile", o->digestfile, "Write the pushed manifest's digest to this file");
  add_registry_flags(sub, o->registry, true);
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    auto ro = registry_options(o->registry);
    if (!ro) {
      return report_error(ro.error());
    }
    auto r = push_image(*store, o->image, o->dest, *ro);
    if (!r) {
      return report_error(r.error());
    }
    if (!o->digestfile.empty()) {
      auto w = write_file(o->digestfile, r->digest);
      if (!w) {
        return report_error(w.error());
      }
    }
    if (!o->registry.quiet && r->blobs_uploaded + r->blobs_skipped + r->blobs_mounted > 0) {
      log::info("pushed ", r->reference, " (", r->blobs_uploaded, " uploaded, ", r->blobs_skipped, " present, ",
                r->blobs_mounted, " mounted; ", human_size(static_cast<uint64_t>(r->bytes_uploaded)), ")");
    }
    return 0;
  };
}

Handler setup_prune(CLI::App& sub) {
  struct Opts {
    bool build_cache = false;
    bool cache_mounts = false;
    std::string keep_storage;
  };
  auto o = std::make_shared<Opts>();
  sub.add_flag("--build-cache", o->build_cache, "Also remove build-cache records");
  sub.add_flag("--cache-mounts", o->cache_mounts, "Also remove RUN --mount=type=cache directories (listing each)");
  sub.add_option("--keep-storage", o->keep_storage, "With --build-cache: keep this much cache (e.g. 10GB), LRU first");
  return [o](const Globals& g) {
    // Cache mounts hold files of container ids: remove them inside kiln's namespace.
#ifdef KILN_HAVE_BUD
    auto store = o->cache_mounts ? open_store_in_namespace(g.root, g.argc, g.argv) : ImageStore::open(g.root);
#else
    auto store = ImageStore::open(g.root);
#endif
    if (!store) {
      return report_error(store.error());
    }
    PruneRequest req;
    req.cache_mounts = o->cache_mounts;
    req.build_cache = o->build_cache || !o->keep_storage.empty();
    if (!o->keep_storage.empty()) {
      auto size = parse_size(o->keep_storage);
      if (!size) {
        return report_error(Error(ErrorCode::usage, cat("invalid --keep-storage `", o->keep_storage, "`")));
      }
      req.keep_storage = *size;
    }
    auto r = prune_store(*store, req);
    if (!r) {
      return report_error(r.error());
    }
    for (const auto& m : r->cache_mounts_removed) {
      print_line(cat("removed cache mount ", m));
    }
    print_line(cat("removed ", r->blobs_removed, " blobs, ", r->layer_dirs_removed, " layer directories, ",
                   r->temp_files_removed, " temp files, ", r->cache_records_removed, " build-cache records; freed ",
                   human_size(r->bytes_freed)));
    return 0;
  };
}

Handler setup_fsck(CLI::App& sub) {
  (void)sub;
  return [](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    auto r = fsck_store(*store);
    if (!r) {
      return report_error(r.error());
    }
    for (const auto& n : r->notes) {
      log::warning(n);
    }
    for (const auto& p : r->problems) {
      print_line(p);
    }
    std::fprintf(stderr, "checked %llu blobs and %llu image entries: %s\n",
                 static_cast<unsigned long long>(r->blobs_checked), static_cast<unsigned long long>(r->images_checked),
                 r->problems.empty() ? "no problems" : cat(r->problems.size(), " problem(s)").c_str());
    return r->problems.empty() ? 0 : 1;
  };
}

}  // namespace kiln::cli
