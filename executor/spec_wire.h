// The wire format between run_sandbox (parent) and the kiln-sandbox helper
// (child): the fully resolved ChildSpec sent at sync 1, and the records the
// child sends back (trace lines, created mount stubs, setup OK, an Error).
//
// Every message is one SOCK_SEQPACKET record (STYLE.md S3). A record starts
// with a one-byte tag (MessageTag) followed by the payload. Payload encoding:
// u8, u32 and u64 little-endian as written by the host (parent and helper are
// built together, so no cross-version compatibility is needed), strings as
// u32 length + bytes, lists as u32 count + items.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::executor {

/// Largest record either side sends or accepts (the spec with a compiled
/// seccomp program is a few tens of KiB).
inline constexpr size_t k_max_message = 1 << 20;

enum class MessageTag : char {
  spec = 'S',     ///< parent -> child: the ChildSpec (sync 1)
  trace = 'T',    ///< child -> parent: one debug line (S4)
  stubs = 'M',    ///< child -> parent: mount targets the child created
  ok = 'O',       ///< child -> parent: setup finished, exec follows (sync 2)
  error = 'E',    ///< child -> parent: setup failed; the child exits
};

/// One mount the child applies inside the new rootfs, already validated.
struct ChildMount {
  enum class Kind : uint8_t { bind = 0, tmpfs = 1, file = 2 };
  Kind kind = Kind::bind;
  std::string source;       ///< bind: host path, or a path inside source_root
  std::string source_root;  ///< bind: "" or the directory `source` is confined to
  std::string destination;  ///< absolute path inside the rootfs
  bool read_only = false;
  bool recursive = true;    ///< bind: include submounts (rbind)
  std::string cow_upper;    ///< bind: copy-on-write overlay upper dir ("" = plain bind)
  std::string cow_work;     ///< bind: its work dir
  uint64_t tmpfs_size = 0;  ///< bytes, 0 = kernel default
  uint32_t tmpfs_mode = 01777;
  std::string contents;     ///< file: the bytes
  uint32_t file_mode = 0400;
  uint32_t file_uid = 0;
  uint32_t file_gid = 0;
};

struct ChildRlimit {
  int32_t resource = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

/// Everything the helper needs, resolved by the parent (S1): the child makes
/// no decisions beyond `if (spec.x)`.
struct ChildSpec {
  // Rootfs: a plain directory, or an overlay mounted by the child on
  // `mountpoint` in its private mount namespace.
  bool overlay = false;
  std::string rootfs_dir;
  std::vector<std::string> lowers;  ///< top first
  std::string upper;
  std::string work;
  std::string mountpoint;
  bool volatile_upper = true;

  std::vector<ChildMount> mounts;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  bool set_groups = true;  ///< false in single-id mode (setgroups is denied)
  bool devpts_gid5 = true; ///< gid 5 (tty) is mapped, so devpts may use gid=5

  std::string hostname;
  bool bind_hosts = false;
  std::string hosts;
  bool bind_resolv_conf = false;
  std::string resolv_conf;
  bool bind_hostname = false;
  std::string etc_hostname;

  bool network_none = false;
  uint64_t capabilities = 0;  ///< bit n = capability n
  std::string seccomp_bpf;    ///< struct sock_filter[]; empty = no filter
  bool no_new_privs = false;
  std::vector<ChildRlimit> rlimits;
  uint32_t umask = 022;
  bool trace = false;  ///< send a trace record per step (debug logging)
};

std::string encode_child_spec(const ChildSpec& spec);
Result<ChildSpec> decode_child_spec(std::string_view payload);

/// An Error as a record payload: code, errno, message, context, hint.
std::string encode_error(const Error& error);
/// A malformed payload decodes to an internal Error saying so.
Error decode_error(std::string_view payload);

std::string encode_strings(const std::vector<std::string>& items);
Result<std::vector<std::string>> decode_strings(std::string_view payload);

/// Sends one record (tag + payload) on a SOCK_SEQPACKET socket.
Result<void> send_message(int fd, MessageTag tag, std::string_view payload);

/// Receives one record; an empty string means the peer closed the socket.
/// Retries EINTR.
Result<std::string> receive_message(int fd);

}  // namespace kiln::executor
