#include "oci/digest.h"

#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::oci {

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error(ErrorCode::invalid_input, cat("invalid digest `", text, "`: expected ALGORITHM:HEX"));
  }
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  size_t want = 0;
  if (algo == "sha256") {
    want = 64;
  } else if (algo == "sha512") {
    want = 128;
  } else {
    return Error(ErrorCode::invalid_input, cat("invalid digest `", text, "`: unsupported algorithm `", algo, "`"));
  }
  if (hex.size() != want || !is_lower_hex(hex)) {
    return Error(ErrorCode::invalid_input,
                 cat("invalid digest `", text, "`: expected ", want, " lower-case hex digits after `", algo, ":`"));
  }
  Digest d;
  d.m_algorithm = std::string(algo);
  d.m_hex = std::string(hex);
  return d;
}

Digest Digest::from_sha256_hex(std::string_view hex) {
  KILN_ASSERT(hex.size() == 64 && is_lower_hex(hex));
  Digest d;
  d.m_algorithm = "sha256";
  d.m_hex = std::string(hex);
  return d;
}

Digest Digest::sha256_of(std::string_view bytes) { return from_sha256_hex(sha256_hex(bytes)); }

}  // namespace kiln::oci
