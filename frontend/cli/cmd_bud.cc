// kiln bud (also `kiln build`, and `bud` through a symlink).
#include <CLI/CLI.hpp>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "frontend/api/build.h"
#include "frontend/api/host_inputs.h"
#include "frontend/api/host_outputs.h"
#include "frontend/api/namespace.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/progress.h"
#include "frontend/cli/image_flags.h"
#include "frontend/cli/registry_flags.h"
#include "frontend/dockerfile/lower.h"
#include "util/atomic_file.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

struct BudOptions {
  std::string context = ".";
  std::string file;
  std::vector<std::string> tags;
  std::vector<std::string> build_args;
  std::string target;
  bool no_cache = false;
  bool layers = true;
  std::string pull = "missing";
  std::string format = "oci";
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::string iidfile;
  std::vector<std::string> outputs;
  bool squash = false;
  std::string compression = "gzip";
  int jobs = 0;
  std::string network = "host";
  std::vector<std::string> security_opts;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> ulimits;
  std::vector<std::string> add_hosts;
  std::vector<std::string> build_contexts;
  std::string source_date_epoch;
  std::string ignorefile;
  bool quiet = false;
  std::string progress = "plain";
  std::string platform;
  bool explain_cache = false;
  std::string storage_driver;
  unsigned timeout = 0;
  std::vector<std::string> cache_from;
  std::vector<std::string> cache_to;
  std::vector<std::string> secrets;
  std::vector<std::string> ssh;
  bool push = false;
  RegistryFlags registry;
};

// --cache-from / --cache-to and the registry flags they use (build_cache.h).
Result<void> cache_config(const BudOptions& o, BuildConfig& c) {
  for (const auto& text : o.cache_from) {
    KILN_TRY_ASSIGN(CacheSpec spec, parse_cache_spec(text, CacheDirection::import));
    c.cache_from.push_back(std::move(spec));
  }
  for (const auto& text : o.cache_to) {
    KILN_TRY_ASSIGN(CacheSpec spec, parse_cache_spec(text, CacheDirection::export_));
    c.cache_to.push_back(std::move(spec));
  }
  RegistryFlags flags = o.registry;
  flags.quiet = true;
  KILN_TRY_ASSIGN(c.registry, registry_options(flags));
  return {};
}

// Before kiln's namespace: what the caches need from the host.
Result<void> prepare_caches(const BudOptions& o) {
  BuildConfig c;
  KILN_TRY(cache_config(o, c));
  return prepare_cache_access(c.cache_to);
}

Result<std::map<std::string, std::string>> parse_build_args(const std::vector<std::string>& raw) {
  std::map<std::string, std::string> out;
  for (const auto& a : raw) {
    auto kv = split_once(a, '=');
    if (kv) {
      if (kv->first.empty()) {
        return Error(ErrorCode::usage, cat("invalid --build-arg `", a, "`: expected KEY=VALUE or KEY"));
      }
      out[kv->first] = kv->second;
    } else if (a.empty()) {
      return Error(ErrorCode::usage, "invalid --build-arg ``: expected KEY=VALUE or KEY");
    } else if (const char* v = std::getenv(a.c_str())) {
      out[a] = v;  // `K` alone takes the value from the environment
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& raw, const char* flag) {
  std::map<std::string, std::string> out;
  for (const auto& a : raw) {
    auto kv = split_once(a, '=');
    if (!kv || kv->first.empty()) {
      return Error(ErrorCode::usage, cat("invalid ", flag, " `", a, "`: expected KEY=VALUE"));
    }
    out[kv->first] = kv->second;
  }
  return out;
}

Result<std::string> dockerfile_path(const BudOptions& o) {
  if (!o.file.empty()) {
    return o.file;
  }
  std::string containerfile = path_join(o.context, "Containerfile");
  return path_exists(containerfile) ? containerfile : path_join(o.context, "Dockerfile");
}

// FROM and COPY --from images: pulled per --pull, each reference once per build.
dockerfile::ImageResolver image_resolver(const ImageStore& store, PullPolicy policy, const RegistryOptions& ro) {
  auto memo = std::make_shared<std::map<std::string, ResolvedImage>>();
  return [store, policy, ro, memo](const std::string& ref) -> Result<ResolvedImage> {
    if (auto it = memo->find(ref); it != memo->end()) {
      return it->second;
    }
    KILN_TRY_ASSIGN(ResolvedImage img, resolve_build_image(store, ref, policy, ro));
    (*memo)[ref] = img;
    return img;
  };
}

Result<dockerfile::LowerOptions> lower_options(const BudOptions& o, const std::string& df_path, const ImageStore& store) {
  dockerfile::LowerOptions lo;
  auto text = df_path == "-" ? read_all(0) : read_file(df_path);
  if (!text) {
    return Error(ErrorCode::not_found, cat("read Dockerfile `", df_path, "`"), text.error().sys_errno())
        .with_hint("name it with -f FILE, or put a Dockerfile (or Containerfile) in the build context");
  }
  lo.dockerfile_text = std::move(*text);
  lo.dockerfile_name = df_path;
  KILN_TRY_ASSIGN(lo.build_args, parse_build_args(o.build_args));
  lo.target = o.target;
  lo.platform = o.platform;
  auto policy = parse_pull_policy(o.pull.empty() ? "always" : o.pull);  // bare --pull: always
  if (!policy) {
    return Error(ErrorCode::usage, cat("invalid --pull `", o.pull, "`: expected always, missing or never"));
  }
  RegistryFlags flags = o.registry;
  flags.quiet = flags.quiet || o.quiet;
  KILN_TRY_ASSIGN(RegistryOptions ro, registry_options(flags));
  lo.resolve_image = image_resolver(store, *policy, ro);
  KILN_TRY_ASSIGN(lo.context_ignore, dockerfile::load_context_ignore(df_path, o.context, o.ignorefile));
  KILN_TRY_ASSIGN(auto contexts, parse_pairs(o.build_contexts, "--build-context"));
  for (const auto& [name, value] : contexts) {
    if (is_directory(value)) {
      lo.named_context_dirs[name] = absolute_path(value);
    } else {
      lo.named_context_images[name] = value.starts_with("docker-image://") ? value.substr(15) : value;
    }
  }
  if (o.network == "none") {
    lo.network = solver::NetworkMode::none;
  } else if (o.network != "host" && o.network != "default") {
    return Error(ErrorCode::usage, cat("invalid --network `", o.network, "`: expected host or none"));
  }
  lo.cap_add = o.cap_add;
  lo.cap_drop = o.cap_drop;
  lo.ulimits = o.ulimits;
  lo.extra_hosts = o.add_hosts;
  for (const auto& s : o.security_opts) {
    if (s == "no-new-privileges" || s == "no-new-privileges=true" || s == "no-new-privileges:true") {
      lo.no_new_privileges = true;
    } else if (s != "seccomp=unconfined") {
      log::warning("ignoring --security-opt `", s, "`");
    }
  }
  KILN_TRY_ASSIGN(lo.labels, parse_pairs(o.labels, "--label"));
  return lo;
}

Result<BuildConfig> build_config(const BudOptions& o, const dockerfile::LowerOptions& lo,
                                 const dockerfile::LoweredBuild& lowered) {
  BuildConfig c;
  c.contexts["context"] = absolute_path(o.context);
  for (const auto& [name, dir] : lo.named_context_dirs) {
    c.contexts[name] = dir;
  }
  for (const auto& [name, dir] : lowered.generated_contexts) {
    c.contexts[name] = dir;
  }
  c.jobs = o.jobs;
  c.no_cache = o.no_cache || !o.layers;
  c.explain_cache = o.explain_cache;
  c.storage_driver = o.storage_driver;
  std::string epoch = o.source_date_epoch;
  if (epoch.empty() && lo.build_args.count("SOURCE_DATE_EPOCH") != 0) {
    epoch = lo.build_args.at("SOURCE_DATE_EPOCH");
  }
  KILN_TRY(apply_image_flags(epoch, o.format, o.compression, c));
  for (const auto& s : o.security_opts) {
    c.seccomp_unconfined = c.seccomp_unconfined || s == "seccomp=unconfined";
  }
  c.step_timeout_seconds = o.timeout;
  c.explain_identity = cat(absolute_path(lo.dockerfile_name), "|", o.target);
  KILN_TRY(cache_config(o, c));
  return c;
}

// -t names that name a registry (what --push sends).
Result<std::vector<std::string>> push_targets(const BudOptions& o) {
  std::vector<std::string> out;
  for (const auto& t : o.tags) {
    if (reference_names_registry(t)) {
      out.push_back(t);
    }
  }
  if (out.empty()) {
    return Error(ErrorCode::usage, "--push: no -t name names a registry")
        .with_hint("name the image with -t REGISTRY/REPOSITORY[:TAG], e.g. -t registry.example:5000/team/app:1");
  }
  return out;
}

Result<void> push_built(const ImageStore& store, const BudOptions& o, const BuiltImage& built) {
  KILN_TRY_ASSIGN(auto targets, push_targets(o));
  RegistryFlags flags = o.registry;
  flags.quiet = flags.quiet || o.quiet;
  KILN_TRY_ASSIGN(RegistryOptions ro, registry_options(flags));
  for (const auto& t : targets) {
    KILN_TRY_ASSIGN(PushSummary pushed, push_image(store, built.id, t, ro));
    if (!o.quiet) {
      log::info("pushed `", pushed.reference, "` (", pushed.digest, ")");
    }
  }
  return {};
}

int run_bud(const BudOptions& o, const Globals& g) {
  auto t0 = std::chrono::steady_clock::now();
  ProgressMode mode = o.quiet ? ProgressMode::quiet : (o.progress == "json" ? ProgressMode::json : ProgressMode::plain);
  auto reporter = make_reporter(mode);
  if (auto r = prepare_caches(o); !r) {
    return report_error(r.error());
  }
  std::vector<OutputSpec> outputs;
  std::vector<std::string> host_paths;
  for (const auto& out : o.outputs) {
    auto spec = parse_output_spec(out);
    if (!spec) {
      return report_error(spec.error());
    }
    outputs.push_back(*spec);
    host_paths.push_back(spec->dest);
  }
  if (!o.iidfile.empty()) {
    host_paths.push_back(o.iidfile);
  }
  if (o.push) {
    if (auto t = push_targets(o); !t) {
      return report_error(t.error());
    }
  }
  auto host = HostOutputs::prepare(g.root, host_paths);  // host root: outputs are moved out by the outer process
  if (!host) {
    return report_error(host.error());
  }
  if (auto handed = hand_over_registry_files(o.registry); !handed) {
    return report_error(handed.error());
  }
  auto inputs = prepare_host_inputs(o.secrets, o.ssh);  // before the namespace: read with the user's rights
  if (!inputs) {
    return report_error(inputs.error());
  }
  auto store = open_store_in_namespace(g.root, g.argc, g.argv);
  if (!store) {
    return report_error(store.error());
  }
  auto df = dockerfile_path(o);
  if (!df) {
    return report_error(df.error());
  }
  auto lo = lower_options(o, *df, *store);
  if (!lo) {
    return report_error(lo.error());
  }
  auto lowered = dockerfile::lower_dockerfile(*lo);
  if (!lowered) {
    return report_error(lowered.error());
  }
  for (const auto& w : lowered->warnings) {
    log::warning(w);
  }
  auto config = build_config(o, *lo, *lowered);
  if (!config) {
    return report_error(config.error());
  }
  UniqueFd devnull;
  if (o.quiet) {  // --quiet: nothing but the image id, not even RUN's output
    devnull = UniqueFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (devnull.get() < 0) {
      return report_error(Error(ErrorCode::io, "open `/dev/null`", errno));
    }
    config->step_output_fd = devnull.get();
  }
  Reporter* rep = reporter.get();
  config->on_event = [rep](const BuildEvent& ev) { rep->event(ev); };
  config->secrets = std::move(inputs->secrets);
  config->ssh_agents = std::move(inputs->ssh_agents);
  rep->plan(lowered->steps);
  CommitOptions commit;
  commit.tags = o.tags;
  commit.squash = o.squash;
  auto ann = parse_pairs(o.annotations, "--annotation");
  if (!ann) {
    return report_error(ann.error());
  }
  commit.annotations = *ann;
  auto built = build_image(*store, lowered->state, *config, commit);
  if (!built) {
    rep->failed(built.error());
    return report_error(built.error());
  }
  for (auto out : outputs) {
    out.dest = host->path_for(out.dest);
    if (auto r = export_output(*store, *built, *config, out); !r) {
      return report_error(r.error());
    }
  }
  if (!o.iidfile.empty()) {
    if (auto r = write_file_atomic(host->path_for(o.iidfile), built->id); !r) {
      return report_error(r.error());
    }
  }
  if (o.push) {
    if (auto r = push_built(*store, o, *built); !r) {
      return report_error(r.error());
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep->committed(built->names, *built, secs);
  print_line(built->id);
  return 0;
}

}  // namespace

Handler setup_bud(CLI::App& sub) {
  auto o = std::make_shared<BudOptions>();
  sub.add_option("context", o->context, "Build context directory (default: .)");
  sub.add_option("-f,--file", o->file, "Dockerfile (default: CONTEXT/Containerfile or CONTEXT/Dockerfile; - = stdin)");
  sub.add_option("-t,--tag", o->tags, "Name the image (repeatable)");
  sub.add_option("--build-arg", o->build_args, "Build argument KEY=VALUE, or KEY to take it from the environment");
  sub.add_option("--target", o->target, "Build up to this stage");
  sub.add_flag("--no-cache", o->no_cache, "Run every step; do not use the build cache");
  sub.add_option("--layers", o->layers, "Use the build cache (default true)");
  sub.add_option("--pull", o->pull, "Base image pull policy: always, missing (default), never")
      ->check(CLI::IsMember({"always", "missing", "never", "true", "false", "ifmissing"}))
      ->expected(0, 1);
  sub.add_option("--format", o->format, "Image format: oci (default) or docker");
  sub.add_option("--label", o->labels, "Image label KEY=VALUE (repeatable)");
  sub.add_option("--annotation", o->annotations, "Manifest annotation KEY=VALUE (repeatable)");
  sub.add_option("--iidfile", o->iidfile, "Write the image id to this file");
  sub.add_option("-o,--output", o->outputs, "type=local,dest=DIR | type=tar,dest=FILE | type=oci,dest=FILE | type=docker,dest=FILE");
  sub.add_flag("--squash", o->squash, "Squash the new layers into one");
  sub.add_option("--compression", o->compression, "Layer compression: gzip (default), zstd, none");
  sub.add_option("--jobs", o->jobs, "Steps to run at once (default: number of CPUs)");
  sub.add_option("--network", o->network, "Network for RUN: host (default) or none");
  sub.add_option("--security-opt", o->security_opts, "no-new-privileges, seccomp=unconfined");
  sub.add_option("--cap-add", o->cap_add, "Add a capability to RUN steps");
  sub.add_option("--cap-drop", o->cap_drop, "Drop a capability from RUN steps");
  sub.add_option("--ulimit", o->ulimits, "RUN resource limit, e.g. nofile=1024:2048");
  sub.add_option("--add-host", o->add_hosts, "Add NAME:IP to /etc/hosts of RUN steps");
  sub.add_option("--build-context", o->build_contexts, "Named build context NAME=DIR or NAME=IMAGE");
  sub.add_option("--source-date-epoch", o->source_date_epoch, "Timestamp (seconds) for created times and file mtimes");
  sub.add_option("--ignorefile", o->ignorefile, "Ignore file instead of .containerignore/.dockerignore");
  sub.add_flag("-q,--quiet", o->quiet, "Print only the image id");
  sub.add_option("--progress", o->progress, "Progress output: plain (default) or json")
      ->check(CLI::IsMember({"plain", "json", "auto", "tty"}));
  sub.add_option("--platform", o->platform, "Target platform (only this machine's builds)");
  sub.add_flag("--explain-cache", o->explain_cache, "Say for each cache miss which input changed");
  sub.add_option("--storage-driver", o->storage_driver, "overlay, fuse-overlayfs or vfs (default: probe)");
  sub.add_option("--timeout", o->timeout, "Kill a RUN step after this many seconds (0 = never)");
  sub.add_option("--cache-from", o->cache_from,
                 "Import a build cache: type=registry,ref=REF | type=local,src=DIR[,tag=T] (repeatable)");
  sub.add_option("--cache-to", o->cache_to,
                 "Export the build cache: type=registry,ref=REF | type=local,dest=DIR "
                 "[,mode=min|max][,tag=T][,cache-mounts=true][,compression=zstd|gzip]");
  sub.add_option("--secret", o->secrets, "Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR");
  sub.add_option("--ssh", o->ssh, "SSH agent for RUN --mount=type=ssh: default, default=SOCKET or ID=SOCKET");
  sub.add_flag("--push", o->push, "Push the image to the registries its -t names give, after the build");
  add_registry_flags(sub, o->registry, false);
  return [o](const Globals& g) { return run_bud(*o, g); };
}

}  // namespace kiln::cli
