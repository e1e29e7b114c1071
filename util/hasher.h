// SHA-256 through OpenSSL, plain and tagged (STYLE.md K2).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln {

/// Streaming SHA-256 (OpenSSL EVP). Not copyable; cheap to create.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Finishes and returns the 32-byte digest; the object restarts empty.
  std::array<uint8_t, 32> finish();
  /// finish() as 64 lower-case hex digits.
  std::string finish_hex();
  /// Bytes fed so far since the last finish().
  uint64_t bytes() const { return m_bytes; }

 private:
  struct Ctx;
  std::unique_ptr<Ctx> m_ctx;
  uint64_t m_bytes = 0;
};

/// Hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view data);

/// Hex SHA-256 of a file's contents, streamed. Errors: not_found / io.
Result<std::string> sha256_file_hex(const std::string& path);

/// A tagged, length-delimited hasher for cache keys (K2): every field is
/// written as (tag length, tag, value length, value) with 64-bit
/// little-endian lengths, so ("ab","c") and ("a","bc") never collide. The
/// scheme salt is the first field, so changing it changes every key.
class Hasher {
 public:
  explicit Hasher(std::string_view scheme_salt);
  Hasher& field(std::string_view tag, std::string_view value);
  Hasher& field(std::string_view tag, int64_t value);
  /// Hex of the SHA-256 of everything written so far.
  std::string finish_hex();

 private:
  void put_len(uint64_t n);
  Sha256 m_sha;
};

}  // namespace kiln
