// kiln containers, rm, mount, umount, unshare (stepwise builds; buildah's
// names and flags).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>

#include "frontend/api/container.h"
#include "frontend/api/namespace.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/stepwise_flags.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

std::string short_id(const std::string& id) {
  auto colon = id.find(':');
  std::string hex = colon == std::string::npos ? id : id.substr(colon + 1);
  return hex.substr(0, 12);
}

// Applies `one` to each named container (or all with --all); reports every
// failure and fails if any did.
int for_each_container(const ImageStore& store, std::vector<std::string> names, bool all,
                       const std::function<Result<void>(const std::string&)>& one) {
  if (all) {
    auto list = list_containers(store);
    if (!list) {
      return report_error(list.error());
    }
    names.clear();
    for (const auto& c : *list) {
      names.push_back(c.name);
    }
  } else if (names.empty()) {
    return report_error(Error(ErrorCode::usage, "name at least one container, or use --all"));
  }
  int rc = 0;
  for (const auto& n : names) {
    if (auto r = one(n); !r) {
      rc = report_error(r.error());
    }
  }
  return rc;
}

}  // namespace

Handler setup_containers(CLI::App& sub) {
  struct Opts {
    bool json = false;
    bool quiet = false;
    bool noheading = false;
    bool all = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_flag("--json", o->json, "Print JSON");
  sub.add_flag("-q,--quiet", o->quiet, "Print only the container names");
  sub.add_flag("-n,--noheading", o->noheading, "No header row");
  sub.add_flag("-a,--all", o->all, "Accepted for buildah compatibility (kiln lists only its own containers)");
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    auto list = list_containers(*store);
    if (!list) {
      return report_error(list.error());
    }
    if (o->json) {
      print_line(containers_to_json(*list));
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    if (!o->noheading && !o->quiet) {
      rows.push_back({"CONTAINER ID", "BUILDER", "IMAGE ID", "IMAGE NAME", "CONTAINER NAME"});
    }
    for (const auto& c : *list) {
      if (o->quiet) {
        print_line(c.name);
        continue;
      }
      rows.push_back({c.id.substr(0, 12), "*", c.image_id.empty() ? "" : short_id(c.image_id), c.image, c.name});
    }
    if (!rows.empty()) {
      std::fputs(format_table(rows).c_str(), stdout);
    }
    return 0;
  };
}

Handler setup_rm(CLI::App& sub) {
  struct Opts {
    std::vector<std::string> names;
    bool all = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("containers", o->names, "Working containers to remove");
  sub.add_flag("-a,--all", o->all, "Remove every working container");
  return [o](const Globals& g) {
    auto store = open_store_in_namespace(g.root, g.argc, g.argv);
    if (!store) {
      return report_error(store.error());
    }
    return for_each_container(*store, o->names, o->all, [&](const std::string& n) -> Result<void> {
      KILN_TRY(remove_container(*store, n));
      print_line(n);
      return {};
    });
  };
}

Handler setup_mount(CLI::App& sub) {
  struct Opts {
    std::vector<std::string> names;
    SolveFlags solve;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("containers", o->names, "Working containers to mount (none: list the mounted ones)");
  add_storage_flag(sub, o->solve);
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    if (o->names.empty()) {
      auto list = list_containers(*store);
      if (!list) {
        return report_error(list.error());
      }
      for (const auto& c : *list) {
        if (!c.mount_point.empty()) {
          print_line(cat(c.name, " ", c.mount_point));
        }
      }
      return 0;
    }
    auto config = stepwise_config(o->solve);
    if (!config) {
      return report_error(config.error());
    }
    bool many = o->names.size() > 1;
    return for_each_container(*store, o->names, false, [&](const std::string& n) -> Result<void> {
      KILN_TRY_ASSIGN(std::string path, mount_container(*store, n, *config));
      print_line(many ? cat(n, " ", path) : path);
      return {};
    });
  };
}

Handler setup_umount(CLI::App& sub) {
  struct Opts {
    std::vector<std::string> names;
    bool all = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("containers", o->names, "Working containers to unmount");
  sub.add_flag("-a,--all", o->all, "Unmount every working container");
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    return for_each_container(*store, o->names, o->all,
                              [&](const std::string& n) { return unmount_container(*store, n); });
  };
}

Handler setup_unshare(CLI::App& sub) {
  struct Opts {
    std::vector<std::string> mounts;
    SolveFlags solve;
    std::vector<std::string> command;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--mount", o->mounts, "[VAR=]CONTAINER: mount it and put its path in $VAR (default: $CONTAINER)");
  add_storage_flag(sub, o->solve);
  sub.add_option("command", o->command, "Command and arguments, after `--` (default: $SHELL)");
  return [o](const Globals& g) {
    // Re-executes `kiln unshare` inside kiln's namespace; the inner process
    // mounts what --mount names there, then becomes the command.
    auto store = open_store_in_namespace(g.root, g.argc, g.argv);
    if (!store) {
      return report_error(store.error());
    }
    auto config = stepwise_config(o->solve);
    if (!config) {
      return report_error(config.error());
    }
    for (const auto& m : o->mounts) {
      auto kv = split_once(m, '=');
      std::string var = kv ? kv->first : m;
      auto path = mount_container(*store, kv ? kv->second : m, *config);
      if (!path) {
        return report_error(path.error());
      }
      ::setenv(var.c_str(), path->c_str(), 1);
    }
    auto r = exec_in_build_namespace(command_after(o->command));
    return report_error(r.error());
  };
}

}  // namespace kiln::cli
