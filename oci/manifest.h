// Image manifests (OCI image-spec manifest.md; Docker image manifest v2
// schema 2 has the same shape with Docker media types).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/descriptor.h"

namespace kiln::oci {

struct Manifest {
  int schema_version = 2;
  std::string media_type;  ///< k_oci_manifest or k_docker_manifest
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
  Json extra = Json::object();

  bool is_docker() const;
};

Json manifest_to_json(const Manifest& m);
/// The bytes kiln writes for a manifest it creates (compact, sorted keys).
std::string serialize_manifest(const Manifest& m);
/// Parses manifest bytes. Errors: parse, naming `what`.
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view what = "manifest");

}  // namespace kiln::oci
