// images, tag, rmi, inspect
#include <CLI/CLI.hpp>

#include <memory>

#include "frontend/api/container.h"
#include "frontend/api/store_api.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

std::string short_id(const std::string& id) {
  std::string hex = id.starts_with("sha256:") ? id.substr(7) : id;
  return hex.substr(0, 12);
}

int run_images(bool json, const Globals& g) {
  auto store = ImageStore::open(g.root);
  if (!store) {
    return report_error(store.error());
  }
  auto images = list_images(*store);
  if (!images) {
    return report_error(images.error());
  }
  if (json) {
    print_line(images_to_json(*images));
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
  for (const auto& i : *images) {
    std::string created = relative_time(i.created);
    if (i.names.empty()) {
      rows.push_back({"<none>", "<none>", short_id(i.id), created, human_size(static_cast<uint64_t>(i.size))});
    }
    for (const auto& n : i.names) {
      auto [repo, tag] = split_repository_tag(n);
      rows.push_back({repo, tag, short_id(i.id), created, human_size(static_cast<uint64_t>(i.size))});
    }
  }
  std::fputs(format_table(rows).c_str(), stdout);
  return 0;
}

}  // namespace

Handler setup_images(CLI::App& sub) {
  auto json = std::make_shared<bool>(false);
  sub.add_flag("--json", *json, "Print JSON: [{id, names, digest, created, size}]");
  return [json](const Globals& g) { return run_images(*json, g); };
}

Handler setup_tag(CLI::App& sub) {
  auto args = std::make_shared<std::vector<std::string>>();
  sub.add_option("image", *args, "IMAGE NEW_NAME...")->required()->expected(2, -1);
  return [args](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    std::vector<std::string> names(args->begin() + 1, args->end());
    auto r = tag_image(*store, args->front(), names);
    return r ? 0 : report_error(r.error());
  };
}

Handler setup_rmi(CLI::App& sub) {
  struct Opts {
    std::vector<std::string> images;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("images", o->images, "Names or ids of images to remove")->required();
  sub.add_flag("-f,--force", o->force, "Remove even if a working container uses the image");
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    auto r = remove_images(*store, o->images, o->force);
    if (!r) {
      return report_error(r.error());
    }
    for (const auto& rm : *r) {
      print_line(rm.untagged_only ? cat("untagged: ", rm.query) : rm.id);
    }
    return 0;
  };
}

Handler setup_inspect(CLI::App& sub) {
  struct Opts {
    std::string image;
    std::string type;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("image", o->image, "Image name or id, or working container name")->required();
  sub.add_option("-t,--type", o->type, "What to inspect: image or container (default: the image, else the container)")
      ->check(CLI::IsMember({"image", "container"}));
  return [o](const Globals& g) {
    auto store = ImageStore::open(g.root);
    if (!store) {
      return report_error(store.error());
    }
    auto r = o->type == "container" ? inspect_container_json(*store, o->image) : inspect_image_json(*store, o->image);
    if (!r && o->type.empty() && r.error().code() == ErrorCode::not_found) {
      if (auto c = inspect_container_json(*store, o->image)) {
        r = std::move(c);
      }
    }
    if (!r) {
      return report_error(r.error());
    }
    print_line(*r);
    return 0;
  };
}

}  // namespace kiln::cli
