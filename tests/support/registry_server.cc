#include "tests/support/registry_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/token_server.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

namespace kiln::test {

namespace {

constexpr const char* k_registry_bin = "/usr/bin/docker-registry";
constexpr const char* k_service = "kiln-test-registry";
constexpr const char* k_issuer = "kiln-test-issuer";

Result<void> run_checked(const std::vector<std::string>& argv) {
  KILN_TRY_ASSIGN(ProgramResult r, run_program(argv));
  if (r.exit_status != 0) {
    return Error(ErrorCode::io, cat("`", join(argv, " "), "` failed: ", r.stderr_data));
  }
  return {};
}

// A self-signed certificate (also its own CA) for 127.0.0.1.
Result<void> make_cert(const std::string& dir, const std::string& name) {
  return run_checked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path_join(dir, name + ".key"), "-out",
                      path_join(dir, name + ".crt")});
}

}  // namespace

std::string RegistryServer::unavailable_reason(RegistryAuth auth) {
  if (::access(k_registry_bin, X_OK) != 0) {
    return "docker-registry is not installed (apt-get install docker-registry); skipping registry tests";
  }
  if (auth != RegistryAuth::none && find_program("openssl").empty()) {
    return "openssl is not installed; skipping the TLS/auth registry tests";
  }
  if (auth == RegistryAuth::htpasswd_tls && find_program("htpasswd").empty()) {
    return "htpasswd is not installed (apt-get install apache2-utils); skipping the htpasswd registry tests";
  }
  return "";
}

Result<void> RegistryServer::write_config() {
  std::string c = cat("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ",
                      m_storage, "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:", m_port, "\n");
  if (m_options.auth == RegistryAuth::htpasswd_tls) {
    c += cat("  tls:\n    certificate: ", path_join(m_dir, "tls.crt"), "\n    key: ", path_join(m_dir, "tls.key"),
             "\nauth:\n  htpasswd:\n    realm: kiln-test\n    path: ", path_join(m_dir, "htpasswd"), "\n");
  } else if (m_options.auth == RegistryAuth::token) {
    c += cat("auth:\n  token:\n    realm: ", m_token->realm(), "\n    service: ", k_service, "\n    issuer: ", k_issuer,
             "\n    rootcertbundle: ", path_join(m_dir, "token.crt"), "\n");
  }
  return write_file(path_join(m_dir, "config.yml"), c);
}

Result<std::unique_ptr<RegistryServer>> RegistryServer::start(const RegistryServerOptions& options) {
  std::string why = unavailable_reason(options.auth);
  if (!why.empty()) {
    return Error(ErrorCode::not_found, why);
  }
  std::unique_ptr<RegistryServer> s(new RegistryServer());
  s->m_options = options;
  KILN_TRY_ASSIGN(TempDir dir, TempDir::create("", "kiln-registry-"));
  s->m_dir = dir.release();
  s->m_storage = path_join(s->m_dir, "storage");
  KILN_TRY(make_dirs(s->m_storage));
  if (options.auth == RegistryAuth::htpasswd_tls) {
    KILN_TRY(make_cert(s->m_dir, "tls"));
    s->m_cert_dir = path_join(s->m_dir, "certs");
    KILN_TRY(make_dirs(s->m_cert_dir));
    KILN_TRY_ASSIGN(std::string crt, read_file(path_join(s->m_dir, "tls.crt")));
    KILN_TRY(write_file(path_join(s->m_cert_dir, "ca.crt"), crt));
    KILN_TRY_ASSIGN(ProgramResult h, run_program({"htpasswd", "-Bbn", options.user, options.password}));
    KILN_TRY(write_file(path_join(s->m_dir, "htpasswd"), h.stdout_data));
  } else if (options.auth == RegistryAuth::token) {
    KILN_TRY(make_cert(s->m_dir, "token"));
    KILN_TRY_ASSIGN(ProgramResult der, run_program({"openssl", "x509", "-in", path_join(s->m_dir, "token.crt"), "-outform",
                                                    "DER", "-out", path_join(s->m_dir, "token.der")}));
    (void)der;
    KILN_TRY_ASSIGN(ProgramResult b64, run_program({"base64", "-w0", path_join(s->m_dir, "token.der")}));
    s->m_token = std::make_unique<TokenServer>(path_join(s->m_dir, "token.key"), std::string(trim(b64.stdout_data)),
                                               options.user, options.password, k_service, k_issuer);
  }
  // The free port may be taken between probing and binding: try a few.
  Result<void> launched = Error(ErrorCode::io, "registry not started");
  for (int attempt = 0; attempt < 3 && !launched; ++attempt) {
    s->m_port = free_port();
    KILN_TRY(s->write_config());
    launched = s->launch();
  }
  KILN_TRY(std::move(launched));
  return s;
}

Result<void> RegistryServer::launch() {
  std::string log = path_join(m_dir, "registry.log");
  std::string config = path_join(m_dir, "config.yml");
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::from_errno("fork docker-registry");
  }
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::execl(k_registry_bin, k_registry_bin, "serve", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  m_pid = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      m_pid = -1;
      return Error(ErrorCode::io, cat("docker-registry exited at start: ", read_file(log).value_or("")));
    }
    int fd = connect_loopback(m_port);
    if (fd >= 0) {
      bool ready = true;
      if (m_options.auth != RegistryAuth::htpasswd_tls) {
        write_all_ignoring(fd, "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        auto head = read_http_head(fd);
        ready = head && (head->raw.find(" 200 ") != std::string::npos || head->raw.find(" 401 ") != std::string::npos);
      }
      ::close(fd);
      if (ready) {
        return {};
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error(ErrorCode::io, cat("docker-registry did not answer on port ", m_port, " within 10 s: ",
                                  read_file(log).value_or("")));
}

int RegistryServer::token_requests() const { return m_token ? m_token->requests() : 0; }

RegistryServer::~RegistryServer() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, &status, 0);
    }
  }
  m_token.reset();
  if (!m_dir.empty() && std::getenv("KILN_KEEP_REGISTRY") == nullptr) {
    log_warning_and_drop(remove_tree(m_dir));
  }
}

}  // namespace kiln::test
