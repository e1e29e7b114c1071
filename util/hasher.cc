#include "util/hasher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>

#include "util/file.h"
#include "util/strings.h"

namespace kiln {

namespace {

// The SHA-256 implementation, fetched from OpenSSL's default provider once
// per process: an init with EVP_sha256() looks it up again on every call.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  KILN_ASSERT(md != nullptr);
  return md;
}

}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : m_ctx(std::make_unique<Ctx>()) {
  m_ctx->md = EVP_MD_CTX_new();
  KILN_ASSERT(m_ctx->md != nullptr);
  KILN_ASSERT(EVP_DigestInit_ex2(m_ctx->md, sha256_md(), nullptr) == 1);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
  if (size > 0) {
    EVP_DigestUpdate(m_ctx->md, data, size);
    m_bytes += size;
  }
}

std::array<uint8_t, 32> Sha256::finish() {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_ctx->md, out.data(), &len);
  EVP_DigestInit_ex2(m_ctx->md, sha256_md(), nullptr);
  m_bytes = 0;
  return out;
}

std::string Sha256::finish_hex() {
  auto d = finish();
  return hex_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string sha256_hex(std::string_view data) {
  Sha256 s;
  s.update(data);
  return s.finish_hex();
}

Result<std::string> sha256_file_hex(const std::string& path) {
  KILN_TRY_ASSIGN(auto fd, open_file(path, O_RDONLY));
  Sha256 s;
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error(ErrorCode::io, cat("read `", path, "`"), errno);
    }
    if (n == 0) {
      break;
    }
    s.update(buf.data(), static_cast<size_t>(n));
  }
  return s.finish_hex();
}

Hasher::Hasher(std::string_view scheme_salt) { field("kiln.scheme", scheme_salt); }

void Hasher::put_len(uint64_t n) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(n >> (8 * i));
  }
  m_sha.update(b, 8);
}

Hasher& Hasher::field(std::string_view tag, std::string_view value) {
  put_len(tag.size());
  m_sha.update(tag);
  put_len(value.size());
  m_sha.update(value);
  return *this;
}

Hasher& Hasher::field(std::string_view tag, int64_t value) { return field(tag, std::to_string(value)); }

std::string Hasher::finish_hex() { return m_sha.finish_hex(); }

}  // namespace kiln
