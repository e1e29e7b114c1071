// The subcommand table (STYLE.md F4; ninja's kTools[]): each entry names a
// command, its one-line help, examples shown by --help, and a setup function
// that registers its flags on a CLI11 subcommand and returns the handler.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kiln::cli {

/// Options every command takes.
struct Globals {
  std::string root;       ///< --root / KILN_ROOT ("" = default)
  std::string log_level;  ///< --log-level
  int argc = 0;           ///< the process's arguments, for re-executing in
  char** argv = nullptr;  ///< kiln's user namespace
};

/// Runs a parsed command and returns the exit status.
using Handler = std::function<int(const Globals&)>;

struct Command {
  const char* name;
  const char* summary;
  const char* examples;  ///< shown under "Examples:" in --help
  Handler (*setup)(CLI::App& sub);
  std::vector<const char*> aliases = {};
};

/// The table, in the order `kiln --help` lists it.
const std::vector<Command>& commands();

// setup functions, one per command (cmd_*.cc)
Handler setup_images(CLI::App& sub);
Handler setup_tag(CLI::App& sub);
Handler setup_rmi(CLI::App& sub);
Handler setup_inspect(CLI::App& sub);
Handler setup_prune(CLI::App& sub);
Handler setup_fsck(CLI::App& sub);
Handler setup_pull(CLI::App& sub);
Handler setup_push(CLI::App& sub);
Handler setup_parse(CLI::App& sub);
Handler setup_bud(CLI::App& sub);
Handler setup_login(CLI::App& sub);
Handler setup_logout(CLI::App& sub);
// stepwise builds (cmd_from_run.cc, cmd_copy.cc, cmd_config.cc, cmd_commit.cc, cmd_containers.cc)
Handler setup_from(CLI::App& sub);
Handler setup_run(CLI::App& sub);
Handler setup_copy(CLI::App& sub);
Handler setup_add(CLI::App& sub);
Handler setup_config(CLI::App& sub);
Handler setup_commit(CLI::App& sub);
Handler setup_containers(CLI::App& sub);
Handler setup_rm(CLI::App& sub);
Handler setup_mount(CLI::App& sub);
Handler setup_umount(CLI::App& sub);
Handler setup_unshare(CLI::App& sub);

}  // namespace kiln::cli
