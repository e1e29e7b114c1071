// Content descriptors (OCI image-spec descriptor.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/json.h"
#include "oci/platform.h"

namespace kiln::oci {

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;  ///< bytes
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::vector<std::string> urls;
  std::string artifact_type;
  Json extra = Json::object();  ///< unknown fields, written back unchanged

  /// The annotation value or "" when absent.
  std::string annotation(const std::string& key) const;
};

/// A descriptor with just the three required fields.
Descriptor make_descriptor(std::string_view media_type, Digest digest, int64_t size);

Json descriptor_to_json(const Descriptor& d);
/// Errors: parse when a field has the wrong type or the digest is malformed.
Result<Descriptor> descriptor_from_json(const Json& j);

}  // namespace kiln::oci
