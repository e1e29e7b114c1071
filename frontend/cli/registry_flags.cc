#include "frontend/cli/registry_flags.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "util/strings.h"

namespace kiln::cli {

namespace {

void write_err(const std::string& s) {
  ssize_t ignored = ::write(2, s.data(), s.size());
  (void)ignored;
}

std::string short_digest(const std::string& d) {
  auto colon = d.find(':');
  return colon == std::string::npos ? d : d.substr(colon + 1, 12);
}

// Renders TransferEvents: on a terminal, one bar per blob redrawn in place
// (at most 10 times a second); otherwise one line when a blob finishes.
class Reporter {
 public:
  explicit Reporter(bool tty) : m_tty(tty) {}

  void on_event(const TransferEvent& e) {
    using K = TransferEvent::Kind;
    if (e.kind == K::retrying) {
      line_out(cat("Retrying ", e.what, ": ", e.message));
      return;
    }
    if (e.digest.empty()) {
      return;
    }
    auto& row = m_rows[e.digest];
    if (row.index < 0) {
      row.index = static_cast<int>(m_order.size());
      m_order.push_back(e.digest);
      row.what = e.what;
    }
    row.total = e.total;
    row.done = e.done;
    row.state = e.kind;
    if (!m_tty) {
      if (e.kind == K::finished) {
        line_out(cat("Copying ", e.what, " ", short_digest(e.digest), " done (", human_size(static_cast<uint64_t>(e.total)), ")"));
      } else if (e.kind == K::skipped) {
        line_out(cat("Copying ", e.what, " ", short_digest(e.digest), " skipped: already exists"));
      } else if (e.kind == K::mounted) {
        line_out(cat("Copying ", e.what, " ", short_digest(e.digest), " mounted from another repository"));
      }
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (e.kind == K::advanced && now - m_last < std::chrono::milliseconds(100)) {
      return;
    }
    m_last = now;
    redraw();
  }

 private:
  struct Row {
    int index = -1;
    std::string what;
    int64_t total = 0;
    int64_t done = 0;
    TransferEvent::Kind state = TransferEvent::Kind::started;
  };

  void line_out(const std::string& s) {
    if (m_tty && m_drawn > 0) {
      m_drawn = 0;  // the line scrolls the bars up; they are redrawn below it
    }
    write_err(s + "\n");
  }

  void redraw() {
    std::string out = m_drawn > 0 ? cat("\x1b[", m_drawn, "A") : "";
    for (const auto& d : m_order) {
      const Row& r = m_rows[d];
      std::string status;
      using K = TransferEvent::Kind;
      if (r.state == K::skipped) {
        status = "skipped: already exists";
      } else if (r.state == K::mounted) {
        status = "mounted";
      } else {
        int width = 30;
        int filled = r.total > 0 ? static_cast<int>(width * r.done / r.total) : 0;
        status = cat("[", std::string(static_cast<size_t>(filled), '='), std::string(static_cast<size_t>(width - filled), ' '),
                     "] ", human_size(static_cast<uint64_t>(r.done)), " / ", human_size(static_cast<uint64_t>(r.total)),
                     r.state == K::finished ? " done" : "");
      }
      out += cat("\x1b[2K", r.what, " ", short_digest(d), " ", status, "\n");
    }
    m_drawn = static_cast<int>(m_order.size());
    write_err(out);
  }

  bool m_tty;
  std::map<std::string, Row> m_rows;
  std::vector<std::string> m_order;
  int m_drawn = 0;
  std::chrono::steady_clock::time_point m_last{};
};

}  // namespace

void add_registry_flags(CLI::App& sub, RegistryFlags& f, bool with_quiet) {
  f.tls_option = sub.add_flag("--tls-verify", f.tls_verify,
                              "Require HTTPS and verify certificates (default true; --tls-verify=false also allows HTTP)");
  sub.add_option("--cert-dir", f.cert_dir, "Directory with CA certificates (*.crt) and client certificates (*.cert, *.key)");
  sub.add_option("--authfile", f.auth_file, "Auth file (default: $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json)");
  sub.add_option("--creds", f.creds, "Credentials USERNAME:PASSWORD for the registry");
  sub.add_option("--retry", f.retries, "Retries after connection errors, 429 and 5xx answers (default 3)");
  sub.add_option("--retry-delay", f.retry_delay, "First delay between retries, doubled each time (default 1s)");
  sub.add_option("--registries-conf", f.registries_conf, "registries.conf to use instead of the standard one");
  if (with_quiet) {
    sub.add_flag("-q,--quiet", f.quiet, "No progress output");
  }
}

std::optional<int64_t> parse_duration_ms(const std::string& text) {
  std::string t(trim(text));
  for (auto [suffix, mult] : {std::pair<const char*, int64_t>{"ms", 1}, {"s", 1000}, {"m", 60000}}) {
    if (t.ends_with(suffix)) {
      auto n = parse_uint(t.substr(0, t.size() - std::string_view(suffix).size()));
      if (!n) {
        return std::nullopt;
      }
      return static_cast<int64_t>(*n) * mult;
    }
  }
  auto n = parse_uint(t);
  return n ? std::optional<int64_t>(static_cast<int64_t>(*n)) : std::nullopt;
}

Result<RegistryOptions> registry_options(const RegistryFlags& f) {
  RegistryOptions o;
  if (f.tls_option != nullptr && f.tls_option->count() > 0) {
    o.tls_verify = f.tls_verify;
  }
  o.cert_dir = f.cert_dir;
  o.auth_file = f.auth_file;
  o.creds = Redacted<std::string>(f.creds);
  o.retries = f.retries;
  auto delay = parse_duration_ms(f.retry_delay);
  if (!delay) {
    return Error(ErrorCode::usage, cat("invalid --retry-delay `", f.retry_delay, "`: use e.g. 500ms or 2s"));
  }
  o.retry_delay_ms = *delay;
  o.registries_conf = f.registries_conf;
  if (!f.quiet) {
    auto reporter = std::make_shared<Reporter>(::isatty(2) == 1);
    o.progress = [reporter](const TransferEvent& e) { reporter->on_event(e); };
  }
  return o;
}

Result<void> hand_over_registry_files(const RegistryFlags& flags) {
  KILN_TRY_ASSIGN(RegistryOptions ro, registry_options(flags));
  return hand_over_credentials(ro);
}

}  // namespace kiln::cli
