#include "oci/index.h"

#include "util/strings.h"

namespace kiln::oci {

Json index_to_json(const Index& idx) {
  Json j = idx.extra.is_object() ? idx.extra : Json::object();
  j["schemaVersion"] = idx.schema_version;
  if (!idx.media_type.empty()) {
    j["mediaType"] = idx.media_type;
  }
  if (!idx.artifact_type.empty()) {
    j["artifactType"] = idx.artifact_type;
  }
  Json ms = Json::array();
  for (const auto& d : idx.manifests) {
    ms.push_back(descriptor_to_json(d));
  }
  j["manifests"] = ms;
  if (!idx.annotations.empty()) {
    j["annotations"] = idx.annotations;
  }
  return j;
}

std::string serialize_index(const Index& idx) { return dump_json(index_to_json(idx)); }

Result<Index> parse_index(std::string_view bytes, std::string_view what) {
  KILN_TRY_ASSIGN(Json j, parse_json(bytes, what));
  JsonReader r(std::move(j), std::string(what));
  Index idx;
  idx.schema_version = static_cast<int>(r.integer("schemaVersion"));
  idx.media_type = r.string("mediaType");
  idx.artifact_type = r.string("artifactType");
  Json ms = r.take("manifests");
  idx.annotations = r.string_map("annotations");
  KILN_TRY(r.status());
  idx.extra = r.rest();
  if (idx.schema_version != 2) {
    return Error(ErrorCode::parse, cat("parse ", what, ": unsupported schemaVersion ", idx.schema_version));
  }
  if (!ms.is_null()) {
    if (!ms.is_array()) {
      return Error(ErrorCode::parse, cat("parse ", what, ": `manifests` must be a list"));
    }
    for (const auto& m : ms) {
      KILN_TRY_ASSIGN(Descriptor d, descriptor_from_json(m).context(cat("parse ", what)));
      idx.manifests.push_back(std::move(d));
    }
  }
  return idx;
}

}  // namespace kiln::oci
