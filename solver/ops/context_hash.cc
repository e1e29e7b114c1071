#include "solver/ops/context_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <map>
#include <optional>
#include <thread>

#include "solver/ops/context_memo.h"
#include "solver/ops/copy_mode.h"
#include "solver/ops/copy_root.h"
#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::solver::ops {

using detail::HashMemo;
using detail::MemoKey;
using detail::Sha256Bytes;

struct ContextHasher::Impl {
  explicit Impl(std::string state_file) : memo(std::move(state_file)) {}
  HashMemo memo;
};

namespace {

constexpr size_t k_read_buffer = 256 * 1024;
constexpr uint64_t k_parallel_min_bytes = 1 << 20;  // below this, threads cost more than they save

int64_t wall_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

MemoKey key_of(const struct stat& st) {
  return MemoKey{st.st_dev, st.st_ino, static_cast<uint64_t>(st.st_size),
                 static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                 static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

MemoKey key_of(const SelectedEntry& e) { return MemoKey{e.dev, e.ino, e.size, e.mtime_ns, e.ctime_ns}; }

// Reads and hashes one context file, remembering the digest under the key
// of the file as opened (it may have changed since the walk).
Result<Sha256Bytes> hash_file(const detail::RootDir& root, const std::string& rel, HashMemo& memo, int64_t now_s) {
  KILN_TRY_ASSIGN(UniqueFd fd, root.open_file(rel, O_RDONLY | O_NONBLOCK).context("hash a build-context file"));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error(ErrorCode::io, cat("hash `", rel, "`: it changed while being read"));
  }
  int64_t started = wall_ns();
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local std::vector<char> buf(k_read_buffer);
  Sha256 sha;
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::from_errno(cat("read `", rel, "` in `", root.path(), "`"));
    }
    if (n == 0) {
      break;
    }
    sha.update(buf.data(), static_cast<size_t>(n));
  }
  Sha256Bytes out = sha.finish();
  memo.store(key_of(st), out, started, now_s);
  return out;
}

// Hashes the files at `todo` (indexes into entries) on up to
// hardware_concurrency threads, each taking the next file in turn.
Result<void> hash_files(const detail::RootDir& root, const std::vector<SelectedEntry>& entries,
                        const std::vector<size_t>& todo, std::vector<Sha256Bytes>& shas, HashMemo& memo,
                        int64_t now_s) {
  uint64_t bytes = 0;
  for (size_t i : todo) {
    bytes += entries[i].size;
  }
  size_t threads = std::min<size_t>(std::max(1U, std::thread::hardware_concurrency()), todo.size());
  if (bytes < k_parallel_min_bytes) {
    threads = 1;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::optional<Error>> errors(threads);
  auto work = [&](size_t t) {
    for (size_t k = next++; k < todo.size() && !failed; k = next++) {
      size_t i = todo[k];
      Result<Sha256Bytes> r = hash_file(root, entries[i].path, memo, now_s);
      if (!r) {
        errors[t] = std::move(r).error();
        failed = true;
        return;
      }
      shas[i] = *r;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) {
    pool.emplace_back(work, t);
  }
  work(0);
  for (std::thread& th : pool) {
    th.join();
  }
  for (std::optional<Error>& e : errors) {
    if (e) {
      return std::move(*e);
    }
  }
  return {};
}

const char* type_name(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    default:
      return "unknown";
  }
}

std::string octal(uint32_t v) {
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 8);
  return std::string(buf, r.ptr);
}

// Lower-case hex of a digest into a fixed buffer: this runs once per
// context file on every build.
std::string_view sha_hex(const Sha256Bytes& sha, std::array<char, 64>& buf) {
  static constexpr char k_digits[] = "0123456789abcdef";
  for (size_t i = 0; i < sha.size(); ++i) {
    buf[2 * i] = k_digits[sha[i] >> 4];
    buf[2 * i + 1] = k_digits[sha[i] & 15];
  }
  return std::string_view(buf.data(), buf.size());
}

// The fields of one entry, written to the total digest and, for listings,
// to a digest of its own.
struct EntryFields {
  const SelectedEntry& e;
  const std::string& mode;
  const std::string& owner;
  const Sha256Bytes* sha;
  const std::string* hardlink;

  void write(Hasher& h, bool with_path) const {
    if (with_path) {
      h.field(e.source_root ? "item" : "path", e.dest_path);
    }
    h.field("type", type_name(e.mode));
    if (e.source_root && S_ISDIR(e.mode)) {
      return;  // only its contents are copied: its own mode and owner do not reach the image
    }
    h.field("mode", mode);
    h.field("owner", owner);
    if (sha != nullptr) {
      std::array<char, 64> buf;
      h.field("sha256", sha_hex(*sha, buf));
    }
    if (S_ISLNK(e.mode)) {
      h.field("link", e.link_target);
    }
    if (hardlink != nullptr) {
      h.field("hardlink", *hardlink);
    }
    if (S_ISCHR(e.mode) || S_ISBLK(e.mode)) {
      h.field("rdev", static_cast<int64_t>(e.rdev));
    }
  }
};

}  // namespace

ContextHasher::ContextHasher(std::string state_file) : m_impl(std::make_unique<Impl>(std::move(state_file))) {}
ContextHasher::~ContextHasher() = default;

Result<std::string> ContextHasher::digest(const std::string& src_root, const Copy& spec,
                                          const std::vector<std::string>& ignore, std::vector<std::string>* listing) {
  std::optional<detail::ChmodSpec> chmod;
  if (!spec.chmod.empty()) {
    KILN_TRY_ASSIGN(chmod, detail::ChmodSpec::parse(spec.chmod));
  }
  KILN_TRY_ASSIGN(std::vector<SelectedEntry> entries, select_context_files(src_root, spec, ignore));
  m_impl->memo.load();
  int64_t now_s = static_cast<int64_t>(::time(nullptr));
  std::vector<Sha256Bytes> shas(entries.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (S_ISREG(entries[i].mode)) {
      if (std::optional<Sha256Bytes> known = m_impl->memo.lookup(key_of(entries[i]), now_s)) {
        shas[i] = *known;
      } else {
        todo.push_back(i);
      }
    }
  }
  if (!todo.empty()) {
    KILN_TRY_ASSIGN(detail::RootDir root, detail::RootDir::open(src_root));
    KILN_TRY(hash_files(root, entries, todo, shas, m_impl->memo, now_s));
  }
  const std::string owner = spec.chown.empty() ? std::string("0:0") : spec.chown;
  std::map<std::pair<uint64_t, uint64_t>, const std::string*> first_link;
  Hasher total("kiln.copy.context.v1");
  for (size_t i = 0; i < entries.size(); ++i) {
    const SelectedEntry& e = entries[i];
    uint32_t perm = e.mode & 07777;
    if (chmod && !S_ISLNK(e.mode)) {
      perm = chmod->apply(perm, S_ISDIR(e.mode));
    }
    std::string mode = octal(perm);
    const std::string* hardlink = nullptr;
    if (S_ISREG(e.mode) && e.nlink > 1) {
      auto [it, inserted] = first_link.emplace(std::make_pair(e.dev, e.ino), &e.dest_path);
      hardlink = inserted ? nullptr : it->second;
    }
    EntryFields fields{e, mode, owner, S_ISREG(e.mode) ? &shas[i] : nullptr, hardlink};
    fields.write(total, true);
    if (listing != nullptr) {
      Hasher one("kiln.copy.context.entry.v1");
      fields.write(one, true);
      listing->push_back(cat(e.path.empty() ? std::string(".") : e.path, " sha256:", one.finish_hex()));
    }
  }
  return cat("sha256:", total.finish_hex());
}

Result<void> ContextHasher::save() { return m_impl->memo.save(); }

}  // namespace kiln::solver::ops
