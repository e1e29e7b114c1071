// login, logout
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "frontend/api/registry_api.h"
#include "frontend/cli/command.h"
#include "frontend/cli/output.h"
#include "frontend/cli/registry_flags.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

// Reads a password from the terminal without echo (or a line from a pipe).
Result<std::string> prompt_password() {
  bool tty = ::isatty(0) == 1;
  termios old{};
  if (tty) {
    std::fputs("Password: ", stderr);
    ::tcgetattr(0, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(0, TCSANOW, &old);
    std::fputs("\n", stderr);
  }
  return std::string(trim(line));
}

}  // namespace

Handler setup_login(CLI::App& sub) {
  struct Opts {
    std::string registry;
    std::string username;
    std::string password;
    bool password_stdin = false;
    RegistryFlags flags;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("registry", o->registry, "Registry host[:port]")->required();
  sub.add_option("-u,--username", o->username, "User name");
  sub.add_option("-p,--password", o->password, "Password (visible to other users in the process list; prefer --password-stdin)");
  sub.add_flag("--password-stdin", o->password_stdin, "Read the password (or token) from standard input");
  add_registry_flags(sub, o->flags, false);
  return [o](const Globals&) {
    auto ro = registry_options(o->flags);
    if (!ro) {
      return report_error(ro.error());
    }
    std::string password = o->password;
    if (o->password_stdin) {
      auto all = read_all(0);
      if (!all) {
        return report_error(all.error());
      }
      password = std::string(trim(*all));
    } else if (password.empty()) {
      auto p = prompt_password();
      if (!p) {
        return report_error(p.error());
      }
      password = *p;
    }
    if (o->username.empty()) {
      return report_error(Error(ErrorCode::usage, "login: give the user name with -u/--username"));
    }
    auto r = registry_login(o->registry, o->username, Redacted<std::string>(password), *ro);
    if (!r) {
      return report_error(r.error());
    }
    std::fprintf(stderr, "Login Succeeded! (credentials in %s)\n", r->c_str());
    return 0;
  };
}

Handler setup_logout(CLI::App& sub) {
  struct Opts {
    std::string registry;
    bool all = false;
    std::string auth_file;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("registry", o->registry, "Registry host[:port]");
  sub.add_flag("-a,--all", o->all, "Remove the credentials of every registry");
  sub.add_option("--authfile", o->auth_file, "Auth file (default: $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json)");
  return [o](const Globals&) {
    RegistryOptions ro;
    ro.auth_file = o->auth_file;
    auto r = registry_logout(o->registry, o->all, ro);
    if (!r) {
      return report_error(r.error());
    }
    if (!*r) {
      return report_error(Error(ErrorCode::not_found, cat("not logged in to `", o->all ? "any registry" : o->registry, "`")));
    }
    std::fprintf(stderr, "Removed login credentials for %s\n", o->all ? "all registries" : o->registry.c_str());
    return 0;
  };
}

}  // namespace kiln::cli
