// Deterministic benchmark data: a tree of many files and one big file whose
// content mixes text-like, binary-like, random and zero blocks, so codecs see
// roughly what container layers hold (a fixed seed: every run, every machine
// gets the same bytes).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::bench {

namespace {

struct Rng {  // splitmix64
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

class Content {
 public:
  explicit Content(uint64_t seed) : m_rng{seed} {
    for (int i = 0; i < 4096; ++i) {  // a vocabulary, Zipf-ish by index
      std::string w;
      size_t len = 2 + m_rng.below(9);
      for (size_t j = 0; j < len; ++j) {
        w += static_cast<char>('a' + m_rng.below(26));
      }
      m_words.push_back(w);
    }
    for (int i = 0; i < 64; ++i) {
      m_ops.push_back(static_cast<uint32_t>(m_rng.next()));
    }
  }

  // Appends n bytes of one kind of content to out.
  void fill(std::string& out, size_t n) {
    uint64_t kind = m_rng.below(100);
    size_t start = out.size();
    if (kind < 45) {
      text(out, n);
    } else if (kind < 80) {
      binary(out, n);
    } else if (kind < 95) {
      while (out.size() - start < n) {
        uint64_t v = m_rng.next();
        out.append(reinterpret_cast<const char*>(&v), 8);
      }
    } else {
      out.append(n, '\0');
    }
    out.resize(start + n);
  }

 private:
  void text(std::string& out, size_t n) {
    size_t start = out.size();
    while (out.size() - start < n) {
      size_t words = 4 + m_rng.below(12);
      out.append(m_rng.below(4) * 2, ' ');
      for (size_t i = 0; i < words; ++i) {
        double u = static_cast<double>(m_rng.below(1000000)) / 1e6;
        size_t idx = static_cast<size_t>(std::pow(u, 3.0) * 4095);  // frequent words first
        out += m_words[idx];
        out += i + 1 == words ? '\n' : ' ';
      }
    }
  }
  void binary(std::string& out, size_t n) {
    size_t start = out.size();
    while (out.size() - start < n) {
      uint32_t op = m_ops[m_rng.below(64) % (8 + m_rng.below(56))];
      out.append(reinterpret_cast<const char*>(&op), 4);
      if (m_rng.below(3) == 0) {
        uint32_t imm = static_cast<uint32_t>(m_rng.below(4096));
        out.append(reinterpret_cast<const char*>(&imm), 4);
      }
    }
  }

  Rng m_rng;
  std::vector<std::string> m_words;
  std::vector<uint32_t> m_ops;
};

bool write_blob(const std::string& path, const std::string& data) {
  return write_file(path, data).has_value();
}

}  // namespace

// files/total_bytes: 20,000 files of ~300 MB by default. Returns bytes written.
int64_t generate_tree(const std::string& root, int files, int64_t total_bytes) {
  Content content(42);
  Rng rng{7};
  int large = files / 133;  // ~150 big files hold ~37% of the bytes
  int64_t large_bytes = total_bytes * 37 / 100;
  int64_t written = 0;
  std::string buf;
  for (int i = 0; i < files; ++i) {
    std::string dir = cat(root, "/d", i / 1000, "/s", (i / 20) % 50);
    if (i % 20 == 0 && !make_dirs(dir).has_value()) {
      return -1;
    }
    size_t size = 0;
    if (i % (files / large) == 0) {
      size = static_cast<size_t>(large_bytes / large);
    } else {
      double u = static_cast<double>(rng.below(1000000)) / 1e6;  // log-uniform 64 B .. 64 KiB
      size = static_cast<size_t>(64.0 * std::pow(1024.0, u));
    }
    buf.clear();
    while (buf.size() < size) {
      content.fill(buf, std::min<size_t>(size - buf.size(), 4096 + rng.below(28672)));
    }
    if (!write_blob(cat(dir, "/f", i, i % 3 == 0 ? ".txt" : ".bin"), buf)) {
      return -1;
    }
    written += static_cast<int64_t>(size);
  }
  return written;
}

int64_t generate_file(const std::string& path, int64_t size) {
  Content content(4242);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return -1;
  }
  std::string buf;
  int64_t written = 0;
  while (written < size) {
    buf.clear();
    size_t n = static_cast<size_t>(std::min<int64_t>(size - written, 1 << 20));
    while (buf.size() < n) {
      content.fill(buf, std::min<size_t>(n - buf.size(), 64 << 10));
    }
    if (!write_all(fd, buf).has_value()) {
      ::close(fd);
      return -1;
    }
    written += static_cast<int64_t>(n);
  }
  ::close(fd);
  return written;
}

}  // namespace kiln::bench
