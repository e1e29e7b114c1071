#include "executor/spec_wire.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace kiln::executor {

namespace {

class Writer {
 public:
  void u8(uint8_t v) { m_out.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    m_out.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) {
      str(s);
    }
  }
  std::string take() { return std::move(m_out); }

 private:
  void raw(const void* p, size_t n) { m_out.append(static_cast<const char*>(p), n); }
  std::string m_out;
};

// Reads what Writer wrote; every read is bounds-checked and a short or
// malformed payload sets a sticky failure flag checked once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : m_in(in) {}
  uint8_t u8() {
    uint8_t v = 0;
    raw(&v, 1);
    return v;
  }
  bool boolean() { return u8() != 0; }
  uint32_t u32() {
    uint32_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    raw(&v, sizeof v);
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (n > m_in.size()) {
      m_failed = true;
      return {};
    }
    std::string s(m_in.substr(0, n));
    m_in.remove_prefix(n);
    return s;
  }
  std::vector<std::string> strs() {
    uint32_t n = u32();
    std::vector<std::string> v;
    for (uint32_t i = 0; i < n && !m_failed; ++i) {
      v.push_back(str());
    }
    return v;
  }
  // A count for a list of structs; 0 when it cannot be right.
  uint32_t count(size_t min_item_size) {
    uint32_t n = u32();
    if (min_item_size != 0 && n > m_in.size() / min_item_size) {
      m_failed = true;
      return 0;
    }
    return n;
  }
  bool ok() const { return !m_failed && m_in.empty(); }

 private:
  void raw(void* p, size_t n) {
    if (m_in.size() < n) {
      m_failed = true;
      return;
    }
    std::memcpy(p, m_in.data(), n);
    m_in.remove_prefix(n);
  }
  std::string_view m_in;
  bool m_failed = false;
};

void write_mount(Writer& w, const ChildMount& m) {
  w.u8(static_cast<uint8_t>(m.kind));
  w.str(m.source);
  w.str(m.source_root);
  w.str(m.destination);
  w.boolean(m.read_only);
  w.boolean(m.recursive);
  w.str(m.cow_upper);
  w.str(m.cow_work);
  w.u64(m.tmpfs_size);
  w.u32(m.tmpfs_mode);
  w.str(m.contents);
  w.u32(m.file_mode);
  w.u32(m.file_uid);
  w.u32(m.file_gid);
}

ChildMount read_mount(Reader& r) {
  ChildMount m;
  uint8_t kind = r.u8();
  m.kind = kind == 1 ? ChildMount::Kind::tmpfs : kind == 2 ? ChildMount::Kind::file : ChildMount::Kind::bind;
  m.source = r.str();
  m.source_root = r.str();
  m.destination = r.str();
  m.read_only = r.boolean();
  m.recursive = r.boolean();
  m.cow_upper = r.str();
  m.cow_work = r.str();
  m.tmpfs_size = r.u64();
  m.tmpfs_mode = r.u32();
  m.contents = r.str();
  m.file_mode = r.u32();
  m.file_uid = r.u32();
  m.file_gid = r.u32();
  return m;
}

}  // namespace

std::string encode_child_spec(const ChildSpec& s) {
  Writer w;
  w.boolean(s.overlay);
  w.str(s.rootfs_dir);
  w.strs(s.lowers);
  w.str(s.upper);
  w.str(s.work);
  w.str(s.mountpoint);
  w.boolean(s.volatile_upper);
  w.u32(static_cast<uint32_t>(s.mounts.size()));
  for (const auto& m : s.mounts) {
    write_mount(w, m);
  }
  w.strs(s.argv);
  w.strs(s.env);
  w.str(s.cwd);
  w.u32(s.uid);
  w.u32(s.gid);
  w.u32(static_cast<uint32_t>(s.groups.size()));
  for (uint32_t g : s.groups) {
    w.u32(g);
  }
  w.boolean(s.set_groups);
  w.boolean(s.devpts_gid5);
  w.str(s.hostname);
  w.boolean(s.bind_hosts);
  w.str(s.hosts);
  w.boolean(s.bind_resolv_conf);
  w.str(s.resolv_conf);
  w.boolean(s.bind_hostname);
  w.str(s.etc_hostname);
  w.boolean(s.network_none);
  w.u64(s.capabilities);
  w.str(s.seccomp_bpf);
  w.boolean(s.no_new_privs);
  w.u32(static_cast<uint32_t>(s.rlimits.size()));
  for (const auto& l : s.rlimits) {
    w.u32(static_cast<uint32_t>(l.resource));
    w.u64(l.soft);
    w.u64(l.hard);
  }
  w.u32(s.umask);
  w.boolean(s.trace);
  return w.take();
}

Result<ChildSpec> decode_child_spec(std::string_view payload) {
  Reader r(payload);
  ChildSpec s;
  s.overlay = r.boolean();
  s.rootfs_dir = r.str();
  s.lowers = r.strs();
  s.upper = r.str();
  s.work = r.str();
  s.mountpoint = r.str();
  s.volatile_upper = r.boolean();
  for (uint32_t i = 0, n = r.count(8); i < n; ++i) {
    s.mounts.push_back(read_mount(r));
  }
  s.argv = r.strs();
  s.env = r.strs();
  s.cwd = r.str();
  s.uid = r.u32();
  s.gid = r.u32();
  for (uint32_t i = 0, n = r.count(4); i < n; ++i) {
    s.groups.push_back(r.u32());
  }
  s.set_groups = r.boolean();
  s.devpts_gid5 = r.boolean();
  s.hostname = r.str();
  s.bind_hosts = r.boolean();
  s.hosts = r.str();
  s.bind_resolv_conf = r.boolean();
  s.resolv_conf = r.str();
  s.bind_hostname = r.boolean();
  s.etc_hostname = r.str();
  s.network_none = r.boolean();
  s.capabilities = r.u64();
  s.seccomp_bpf = r.str();
  s.no_new_privs = r.boolean();
  for (uint32_t i = 0, n = r.count(20); i < n; ++i) {
    ChildRlimit l;
    l.resource = static_cast<int32_t>(r.u32());
    l.soft = r.u64();
    l.hard = r.u64();
    s.rlimits.push_back(l);
  }
  s.umask = r.u32();
  s.trace = r.boolean();
  if (!r.ok()) {
    return Error(ErrorCode::internal, "decode the sandbox spec: malformed record");
  }
  return s;
}

std::string encode_error(const Error& e) {
  Writer w;
  w.u32(static_cast<uint32_t>(e.code()));
  w.u32(static_cast<uint32_t>(e.sys_errno()));
  w.str(e.message());
  w.strs(e.context());
  w.str(e.hint());
  return w.take();
}

Error decode_error(std::string_view payload) {
  Reader r(payload);
  auto code = static_cast<ErrorCode>(r.u32());
  int err = static_cast<int>(r.u32());
  std::string message = r.str();
  std::vector<std::string> context = r.strs();
  std::string hint = r.str();
  if (!r.ok() || code > ErrorCode::failed_step) {
    return Error(ErrorCode::internal, "decode an error from the sandbox: malformed record");
  }
  Error e(code, std::move(message), err);
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    e.wrap(*it);
  }
  if (!hint.empty()) {
    e.with_hint(std::move(hint));
  }
  return e;
}

std::string encode_strings(const std::vector<std::string>& items) {
  Writer w;
  w.strs(items);
  return w.take();
}

Result<std::vector<std::string>> decode_strings(std::string_view payload) {
  Reader r(payload);
  auto v = r.strs();
  if (!r.ok()) {
    return Error(ErrorCode::internal, "decode a list from the sandbox: malformed record");
  }
  return v;
}

Result<void> send_message(int fd, MessageTag tag, std::string_view payload) {
  std::string record;
  record.reserve(payload.size() + 1);
  record.push_back(static_cast<char>(tag));
  record.append(payload);
  while (true) {
    ssize_t n = ::send(fd, record.data(), record.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      return {};
    }
    if (errno != EINTR) {
      return Error::from_errno("send on the sandbox sync socket");
    }
  }
}

Result<std::string> receive_message(int fd) {
  while (true) {
    // Peek with MSG_TRUNC for the record's real size, then read it whole.
    char probe = 0;
    ssize_t size = ::recv(fd, &probe, 1, MSG_PEEK | MSG_TRUNC);
    if (size < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ECONNRESET) {
        return std::string();
      }
      return Error::from_errno("receive on the sandbox sync socket");
    }
    if (size == 0) {
      return std::string();
    }
    if (static_cast<size_t>(size) > k_max_message) {
      return Error(ErrorCode::internal, "receive on the sandbox sync socket: record too large");
    }
    std::string buf(static_cast<size_t>(size), '\0');
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::from_errno("receive on the sandbox sync socket");
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
}

}  // namespace kiln::executor
