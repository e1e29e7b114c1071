// OCI content digests: "algorithm:encoded" (OCI image-spec, descriptor.md
// "Digests"). kiln writes sha256 only; sha512 is accepted when reading.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln::oci {

class Digest {
 public:
  Digest() = default;

  /// Parses "sha256:<64 lower-case hex>" or "sha512:<128 hex>". Errors:
  /// invalid_input naming the text when the algorithm is unknown or the
  /// encoded part has the wrong length or characters.
  static Result<Digest> parse(std::string_view text);
  /// From 64 lower-case hex digits of a SHA-256 (asserts the form).
  static Digest from_sha256_hex(std::string_view hex);
  /// The SHA-256 digest of bytes.
  static Digest sha256_of(std::string_view bytes);

  const std::string& algorithm() const { return m_algorithm; }
  /// The encoded part (hex).
  const std::string& hex() const { return m_hex; }
  /// "sha256:<hex>"; "" for an empty Digest.
  std::string str() const { return empty() ? std::string() : m_algorithm + ":" + m_hex; }
  /// The 12-digit short id tables show.
  std::string short_hex() const { return m_hex.substr(0, 12); }
  bool empty() const { return m_hex.empty(); }

  auto operator<=>(const Digest&) const = default;

 private:
  std::string m_algorithm;
  std::string m_hex;
};

}  // namespace kiln::oci
