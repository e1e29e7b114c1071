// Value syntaxes of instruction flags and arguments, each validated the
// way BuildKit (and the Go libraries it calls) does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln::parser {

/// Go's time.ParseDuration ("1h30m", "1.5s", "300ms", "0"); nanoseconds.
Result<int64_t> parse_go_duration(std::string_view s);

/// Go's strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
std::optional<bool> parse_go_bool(std::string_view s);

/// docker/go-units RAMInBytes ("64m", "1g", "512k", "100"); bytes, 1024-based.
Result<int64_t> parse_ram_size(std::string_view s);

/// `--chmod`: octal ("755", "0644", up to 07777) or symbolic chmod(1) clauses
/// ("u=rwx,g=rx,o=", "+x", "a-w", "u+s").
struct Chmod {
  std::optional<uint32_t> octal;
  std::string symbolic;  ///< set when not octal
  /// The mode a file with mode `current` gets; `is_dir` for the `X` rule.
  uint32_t apply(uint32_t current, bool is_dir) const;
};
Result<Chmod> parse_chmod(std::string_view s);

/// An EXPOSE port: `80`, `80/tcp`, `8000-8010/udp`, `53/sctp`.
struct PortSpec {
  uint16_t first = 0;
  uint16_t last = 0;
  std::string proto = "tcp";
};
Result<PortSpec> parse_port_spec(std::string_view s);

/// A STOPSIGNAL value: a number 1..64, a name with or without `SIG`
/// (`TERM`, `SIGKILL`), or `SIGRTMIN+n` / `SIGRTMAX-n`. Returns the number.
Result<int> parse_signal(std::string_view s);

/// An ADD `--checksum`: `sha256:<64 hex>`, `sha384:<96>` or `sha512:<128>`.
Result<void> validate_checksum(std::string_view s);

/// True when s contains `$`: its value is only known after expansion, so
/// value checks wait until then.
inline bool needs_expansion(std::string_view s) { return s.find('$') != std::string_view::npos; }

}  // namespace kiln::parser
