#include "frontend/api/host_inputs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "executor/user_namespace.h"
#include "util/file.h"
#include "util/socket_forward.h"
#include "util/strings.h"
#include "util/temp_dir.h"

namespace kiln {

namespace {

// Handed from kiln's outer process to the re-executed one: "HEXID:FD;..." and
// "HEXID:PATH;..." (ids hex-encoded, so any id survives the separators).
constexpr const char* k_secrets_env = "KILN_HOST_SECRETS";
constexpr const char* k_ssh_env = "KILN_HOST_SSH";

Error usage(std::string_view flag, std::string_view text, const std::string& why) {
  return Error(ErrorCode::usage, cat("invalid ", flag, " `", text, "`: ", why));
}

Result<Redacted<std::string>> read_secret(const SecretFlag& f) {
  if (!f.file.empty()) {
    auto bytes = read_file(f.file);
    if (!bytes) {
      return Error(bytes.error().code(), cat("read secret `", f.id, "` from `", f.file, "`"), bytes.error().sys_errno());
    }
    return Redacted<std::string>(std::move(*bytes));
  }
  std::string var = f.env.empty() ? f.id : f.env;
  if (const char* v = std::getenv(var.c_str())) {
    return Redacted<std::string>(v);
  }
  if (f.env.empty() && path_exists(f.id)) {
    KILN_TRY_ASSIGN(std::string bytes, read_file(f.id).context(cat("read secret `", f.id, "`")));
    return Redacted<std::string>(std::move(bytes));
  }
  return Error(ErrorCode::not_found, f.env.empty() ? cat("find secret `", f.id, "`: no variable or file of that name")
                                                   : cat("read secret `", f.id, "`: environment variable `", f.env,
                                                         "` is not set"));
}

Result<void> require_socket(const SshFlag& f) {
  struct stat st {};
  if (::stat(f.socket.c_str(), &st) != 0) {
    return Error(ErrorCode::not_found, cat("use SSH agent `", f.id, "`: `", f.socket, "`"), errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error(ErrorCode::unsupported, cat("use SSH agent `", f.id, "`: `", f.socket,
                                             "` is not a socket (kiln forwards agent sockets, not key files)"));
  }
  return {};
}

// A sealed memfd holding the bytes, inherited across exec (no CLOEXEC).
Result<int> secret_memfd(const Redacted<std::string>& value) {
  int fd = ::memfd_create("kiln-secret", MFD_ALLOW_SEALING);
  if (fd < 0) {
    return Error::from_errno("create a memfd for a secret");
  }
  UniqueFd owned(fd);
  KILN_TRY(write_all(fd, value.reveal()));
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return Error::from_errno("seal a secret's memfd");
  }
  return owned.release();
}

// The pipe every relay watches: the outer process holds the write end until
// it exits, which tells the relays to clean up and go. Each relay closes its
// inherited copy of the write end, or it would keep itself (and its siblings)
// alive.
struct StopPipe {
  int read_end = -1;
  int write_end = -1;
};
const StopPipe& relay_stop_pipe() {
  static StopPipe pipe = [] {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return StopPipe{};
    }
    return StopPipe{p[0], p[1]};  // both stay open for this process's life
  }();
  return pipe;
}

// Starts a relay process for one agent; returns the socket it listens on.
Result<std::string> start_agent_relay(const SshFlag& f, uint32_t uid, uint32_t gid) {
  KILN_TRY(require_socket(f));
  KILN_TRY_ASSIGN(TempDir dir, TempDir::create("", "kiln-ssh-"));
  std::string path = path_join(dir.path(), "agent.sock");
  KILN_TRY_ASSIGN(UniqueFd listen, listen_unix(path));
  if (::chown(path.c_str(), uid, gid) != 0 || ::chown(dir.path().c_str(), uid, gid) != 0 ||
      ::chmod(dir.path().c_str(), 0700) != 0) {
    return Error::from_errno(cat("hand the SSH agent relay `", path, "` to kiln's namespace"));
  }
  const StopPipe& stop = relay_stop_pipe();
  if (stop.read_end < 0) {
    return Error::from_errno("create a pipe for the SSH agent relay");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::from_errno("start the SSH agent relay");
  }
  if (pid == 0) {
    // The relay: the outer process's rights, no terminal signals (it ends
    // when the outer process does, after removing its socket).
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
      ::signal(sig, SIG_IGN);
    }
    ::close(stop.write_end);
    relay_unix_connections(listen.get(), f.socket, stop.read_end);
    ::unlink(path.c_str());
    ::rmdir(dir.path().c_str());
    ::_exit(0);
  }
  dir.release();  // the relay removes it
  return path;
}

std::string encode_pairs(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> parts;
  for (const auto& [id, value] : items) {
    parts.push_back(cat(hex_encode(id), ":", value));
  }
  return join(parts, ";");
}

std::vector<std::pair<std::string, std::string>> decode_pairs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& part : split(text, ';')) {
    auto kv = split_once(part, ':');
    auto id = kv ? hex_decode(kv->first) : std::nullopt;
    if (id) {
      out.emplace_back(*id, kv->second);
    }
  }
  return out;
}

Result<HostInputs> prepare_outside(const std::vector<SecretFlag>& secrets, const std::vector<SshFlag>& agents) {
  HostInputs in;
  std::vector<std::pair<std::string, std::string>> secret_fds;
  for (const auto& f : secrets) {
    KILN_TRY_ASSIGN(Redacted<std::string> value, read_secret(f));
    KILN_TRY_ASSIGN(int fd, secret_memfd(value));
    secret_fds.emplace_back(f.id, std::to_string(fd));
    in.secrets.push_back({f.id, std::move(value)});
  }
  std::vector<std::pair<std::string, std::string>> sockets;
  if (!agents.empty()) {
    KILN_TRY_ASSIGN(executor::IdMapping mapping, executor::compute_id_mapping());
    for (const auto& f : agents) {
      KILN_TRY_ASSIGN(std::string path, start_agent_relay(f, mapping.host_root_uid(), mapping.host_root_gid()));
      sockets.emplace_back(f.id, path);
      in.ssh_agents[f.id] = path;
    }
  }
  ::setenv(k_secrets_env, encode_pairs(secret_fds).c_str(), 1);
  ::setenv(k_ssh_env, encode_pairs(sockets).c_str(), 1);
  return in;
}

Result<HostInputs> prepare_inside(const std::vector<SecretFlag>& secrets, const std::vector<SshFlag>& agents) {
  HostInputs in;
  if (const char* handed = std::getenv(k_secrets_env)) {
    for (const auto& [id, fd_text] : decode_pairs(handed)) {
      auto fd = parse_int(fd_text);
      if (!fd || *fd < 0) {
        continue;
      }
      UniqueFd owned(static_cast<int>(*fd));
      if (::lseek(owned.get(), 0, SEEK_SET) != 0) {
        return Error::from_errno(cat("read secret `", id, "` handed over by kiln's outer process"));
      }
      KILN_TRY_ASSIGN(std::string bytes, read_all(owned.get()));
      in.secrets.push_back({id, Redacted<std::string>(std::move(bytes))});
    }
    ::unsetenv(k_secrets_env);
  } else {
    for (const auto& f : secrets) {
      KILN_TRY_ASSIGN(Redacted<std::string> value, read_secret(f));
      in.secrets.push_back({f.id, std::move(value)});
    }
  }
  if (const char* handed = std::getenv(k_ssh_env)) {
    for (const auto& [id, path] : decode_pairs(handed)) {
      in.ssh_agents[id] = path;
    }
    ::unsetenv(k_ssh_env);
  } else {
    for (const auto& f : agents) {
      KILN_TRY(require_socket(f));
      in.ssh_agents[f.id] = f.socket;
    }
  }
  return in;
}

}  // namespace

Result<SecretFlag> parse_secret_flag(std::string_view text) {
  SecretFlag f;
  std::string src;
  std::string type;
  for (const auto& field : split(text, ',')) {
    auto kv = split_once(field, '=');
    if (!kv) {
      return usage("--secret", text, cat("expected KEY=VALUE, got `", field, "`"));
    }
    std::string key = to_lower(trim(kv->first));
    if (key == "id") {
      f.id = kv->second;
    } else if (key == "src" || key == "source") {
      src = kv->second;
    } else if (key == "env") {
      f.env = kv->second;
    } else if (key == "type") {
      type = kv->second;
    } else {
      return usage("--secret", text, cat("unknown key `", kv->first, "` (use id, src, env, type)"));
    }
  }
  if (f.id.empty()) {
    return usage("--secret", text, "id= is required");
  }
  if (type == "env") {
    f.env = f.env.empty() ? src : f.env;
  } else if (type.empty() || type == "file") {
    f.file = src;
  } else {
    return usage("--secret", text, cat("unknown type `", type, "` (use file or env)"));
  }
  if (!f.file.empty() && !f.env.empty()) {
    return usage("--secret", text, "give either a file (src=) or a variable (env=), not both");
  }
  return f;
}

Result<SshFlag> parse_ssh_flag(std::string_view text) {
  SshFlag f;
  auto kv = split_once(text, '=');
  f.id = kv ? kv->first : std::string(text);
  f.socket = kv ? kv->second : "";
  if (f.id.empty()) {
    return usage("--ssh", text, "expected default, default=SOCKET or ID=SOCKET");
  }
  if (f.socket.find(',') != std::string::npos) {
    return usage("--ssh", text, "key files are not supported; pass an agent socket");
  }
  if (f.socket.empty()) {
    const char* sock = std::getenv("SSH_AUTH_SOCK");
    if (f.id != "default" || sock == nullptr || *sock == '\0') {
      return usage("--ssh", text,
                   f.id == "default" ? "$SSH_AUTH_SOCK is not set (start ssh-agent or give default=SOCKET)"
                                     : cat("give the agent socket: --ssh ", f.id, "=SOCKET"));
    }
    f.socket = sock;
  }
  f.socket = absolute_path(f.socket);
  return f;
}

Result<HostInputs> prepare_host_inputs(const std::vector<std::string>& secret_flags,
                                       const std::vector<std::string>& ssh_flags) {
  std::vector<SecretFlag> secrets;
  for (const auto& s : secret_flags) {
    KILN_TRY_ASSIGN(SecretFlag f, parse_secret_flag(s));
    if (!f.file.empty()) {
      f.file = absolute_path(f.file);
    }
    secrets.push_back(std::move(f));
  }
  std::vector<SshFlag> agents;
  for (const auto& s : ssh_flags) {
    KILN_TRY_ASSIGN(SshFlag f, parse_ssh_flag(s));
    agents.push_back(std::move(f));
  }
  if (executor::in_kiln_namespace()) {
    return prepare_inside(secrets, agents);
  }
  return prepare_outside(secrets, agents);
}

}  // namespace kiln
