#include "frontend/cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

const char* k_description =
    "kiln: a rootless, daemonless container image builder.\n"
    "Builds OCI images from Dockerfiles (`kiln bud`) or step by step (`kiln from/run/copy/commit`).";

// argv[0] named `bud` behaves as `kiln bud`.
std::vector<std::string> effective_args(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  if (argc > 0 && path_basename(argv[0]) == "bud") {
    args.insert(args.begin(), "bud");
  }
  return args;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app(k_description, "kiln");
  app.require_subcommand(0, 1);
  app.fallthrough();
  Globals globals;
  globals.log_level = "warning";
  globals.argc = argc;
  globals.argv = argv;
  app.add_option("--root", globals.root, "Store location (default: /var/lib/kiln for root, ~/.local/share/kiln otherwise)")
      ->envname("KILN_ROOT");
  app.add_option("--log-level", globals.log_level, "error, warning, info, debug or trace")
      ->envname("KILN_LOG_LEVEL");
  app.set_version_flag("--version", std::string("kiln version ") + KILN_VERSION);

  std::vector<std::pair<CLI::App*, Handler>> handlers;
  for (const auto& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    for (const char* alias : c.aliases) {
      sub->alias(alias);
    }
    if (c.examples != nullptr && *c.examples != '\0') {
      sub->footer(std::string("Examples:\n") + c.examples);
    }
    handlers.emplace_back(sub, c.setup(*sub));
    // A repeatable option takes one value per occurrence (`-t a -t b CONTEXT`),
    // never the positional arguments after it.
    for (CLI::Option* opt : sub->get_options()) {
      if (!opt->get_positional() && opt->get_items_expected_max() > 1) {
        opt->allow_extra_args(false);
      }
    }
  }

  std::vector<std::string> args = effective_args(argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto level = log::parse_level(globals.log_level);
  if (!level) {
    return report_error(Error(ErrorCode::usage, cat("invalid --log-level `", globals.log_level, "`")));
  }
  log::set_level(*level);
  for (auto& [sub, handler] : handlers) {
    if (sub->parsed()) {
      return handler(globals);
    }
  }
  std::fputs(app.help().c_str(), stderr);
  return 2;
}

}  // namespace kiln::cli
