// Flags every registry-facing command shares (--tls-verify, --cert-dir,
// --authfile, --creds, --retry, --retry-delay, --registries-conf) and the
// transfer progress reporter: per-blob bars on a terminal, one line per blob
// otherwise, nothing with --quiet. Progress goes to stderr (stdout carries
// only results).
#pragma once

#include <memory>
#include <string>

#include "frontend/api/registry_api.h"

namespace CLI {
class App;
class Option;
}

namespace kiln::cli {

struct RegistryFlags {
  bool tls_verify = true;                 ///< --tls-verify[=false]
  const CLI::Option* tls_option = nullptr;  ///< to tell "given" from the default
  std::string cert_dir;
  std::string auth_file;
  std::string creds;
  int retries = 3;
  std::string retry_delay = "1s";
  std::string registries_conf;
  bool quiet = false;
};

/// Registers the flags on a subcommand; `with_quiet` adds -q/--quiet.
void add_registry_flags(CLI::App& sub, RegistryFlags& flags, bool with_quiet);

/// The API options from parsed flags, with a progress reporter unless quiet.
/// Errors: usage for a malformed --retry-delay.
Result<RegistryOptions> registry_options(const RegistryFlags& flags);

/// For a command that reaches registries from inside kiln's namespace (bud,
/// from, commit --push): before open_store_in_namespace, hands the auth
/// files and --cert-dir over (frontend/api hand_over_credentials), since the
/// namespace may not read host root's files. Errors: usage, io, syscall.
Result<void> hand_over_registry_files(const RegistryFlags& flags);

/// Parses "250ms", "2s", "1m", "1500" (milliseconds); nullopt when bad.
std::optional<int64_t> parse_duration_ms(const std::string& text);

}  // namespace kiln::cli
