// Image indexes (OCI image-spec image-index.md; Docker manifest lists), also
// the `index.json` of an OCI image layout (image-layout.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oci/descriptor.h"

namespace kiln::oci {

struct Index {
  int schema_version = 2;
  std::string media_type;  ///< k_oci_index, k_docker_manifest_list, or "" (allowed in a layout)
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  Json extra = Json::object();
};

Json index_to_json(const Index& idx);
std::string serialize_index(const Index& idx);
Result<Index> parse_index(std::string_view bytes, std::string_view what = "image index");

}  // namespace kiln::oci
