// kiln copy, kiln add (stepwise builds; buildah's names and flags).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>

#include "frontend/api/container.h"
#include "frontend/api/namespace.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/stepwise_flags.h"
#include "frontend/dockerfile/lower.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

struct CopyOpts {
  bool add = false;
  std::string container;
  std::vector<std::string> args;  // SRC... DEST
  std::string chown;
  std::string chmod;
  std::string from;
  std::string ignorefile;
  std::string contextdir;
  bool quiet = false;
  SolveFlags solve;
};

bool is_url(const std::string& s) { return s.starts_with("http://") || s.starts_with("https://"); }

// What the files come from: another working container, an image, or the
// build context (--contextdir, else the current directory; absolute sources
// without --contextdir are host paths, so the context is then `/`).
Result<BuildState> copy_source(const ImageStore& store, const CopyOpts& o, std::vector<std::string>& sources,
                               BuildConfig& config) {
  if (!o.from.empty()) {
    auto state = container_state(store, o.from);
    if (state || state.error().code() != ErrorCode::not_found) {
      return state;
    }
    KILN_TRY_ASSIGN(ResolvedImage img, resolve_base_image(store, o.from).context(cat("--from `", o.from, "`")));
    return BuildState::image(img);
  }
  std::string dir = absolute_path(o.contextdir.empty() ? "." : o.contextdir);
  bool host_paths = o.contextdir.empty() && std::any_of(sources.begin(), sources.end(), [](const std::string& s) {
                      return s.starts_with("/");
                    });
  if (host_paths) {
    for (auto& s : sources) {
      if (!is_url(s)) {
        s = path_clean(s.starts_with("/") ? s : path_join(dir, s)).substr(1);
        s = s.empty() ? "." : s;
      }
    }
    dir = "/";
  }
  std::vector<std::string> ignore;
  if (!o.contextdir.empty() || !o.ignorefile.empty()) {
    KILN_TRY_ASSIGN(ignore, dockerfile::load_context_ignore("", dir, o.ignorefile));
  }
  config.contexts["context"] = dir;
  return BuildState::context("context", ignore);
}

// COPY/ADD as the Dockerfile lowering does it: URLs (ADD) are sources of
// their own, the rest come from one source state.
Result<BuildState> copy_step(const BuildState& s, const BuildState& source, const CopyOpts& o,
                             const std::vector<std::string>& sources, const std::string& dest) {
  CopyOptions co;
  co.dest = dest;
  co.chown = o.chown;
  co.chmod = o.chmod;
  co.add = o.add;
  co.unpack = o.add;
  std::string flags = (o.chown.empty() ? "" : cat("--chown=", o.chown, " ")) + (o.chmod.empty() ? "" : cat("--chmod=", o.chmod, " "));
  co.created_by = cat(o.add ? "ADD " : "COPY ", flags, o.from.empty() ? "" : cat("--from=", o.from, " "),
                      join(o.args, " "));
  co.origin.description = co.created_by;
  BuildState out = s;
  for (const auto& src : sources) {
    if (is_url(src)) {
      if (!o.add) {
        return Error(ErrorCode::usage, cat("copy cannot copy from a URL (`", src, "`); use kiln add"));
      }
      solver::HttpSource h;
      h.url = src;
      h.filename = path_basename(src.substr(0, src.find('?')));
      CopyOptions one = co;
      one.sources = {h.filename.empty() ? "download" : h.filename};
      one.unpack = false;
      out = out.copy(BuildState::http(h), one);
    } else {
      co.sources.push_back(src);
    }
  }
  return co.sources.empty() ? out : out.copy(source, co);
}

int run_copy(const CopyOpts& o, const Globals& g) {
  if (o.args.size() < 2) {
    return report_error(Error(ErrorCode::usage, cat("kiln ", o.add ? "add" : "copy", ": name SRC... and DEST"))
                            .with_hint(cat("kiln ", o.add ? "add" : "copy", " CONTAINER SRC [SRC...] DEST")));
  }
  auto config = stepwise_config(o.solve);
  if (!config) {
    return report_error(config.error());
  }
  auto store = open_store_in_namespace(g.root, g.argc, g.argv);
  if (!store) {
    return report_error(store.error());
  }
  std::vector<std::string> sources(o.args.begin(), o.args.end() - 1);
  std::string dest = o.args.back();
  auto source = copy_source(*store, o, sources, *config);
  if (!source) {
    return report_error(source.error());
  }
  auto r = apply_container_step(
      *store, o.container,
      [&](const BuildState& s) { return copy_step(s, *source, o, sources, dest); }, *config);
  if (!r) {
    return report_error(r.error());
  }
  if (!o.quiet && !r->layers.empty()) {
    print_line(r->layers.back().diff_id);
  }
  return 0;
}

Handler setup_copy_or_add(CLI::App& sub, bool add) {
  auto o = std::make_shared<CopyOpts>();
  o->add = add;
  sub.add_option("container", o->container, "Working container")->required();
  sub.add_option("args", o->args, add ? "SRC... (files, directories, URLs, local tar archives) and DEST"
                                      : "SRC... (files and directories) and DEST")
      ->required();
  sub.add_option("--chown", o->chown, "USER[:GROUP] owning the copied files (default 0:0)");
  sub.add_option("--chmod", o->chmod, "Mode of the copied files (octal)");
  sub.add_option("--from", o->from, "Copy from this working container or image instead of the context");
  sub.add_option("--ignorefile", o->ignorefile, "Ignore file for the context (default: CONTEXTDIR/.containerignore or .dockerignore)");
  sub.add_option("--contextdir", o->contextdir, "Context directory SRC is relative to (default: the current directory)");
  sub.add_flag("-q,--quiet", o->quiet, "Do not print the diffID of the container's top layer");
  add_storage_flag(sub, o->solve);
  return [o](const Globals& g) { return run_copy(*o, g); };
}

}  // namespace

Handler setup_copy(CLI::App& sub) { return setup_copy_or_add(sub, false); }
Handler setup_add(CLI::App& sub) { return setup_copy_or_add(sub, true); }

}  // namespace kiln::cli
