#include "oci/manifest.h"

#include "oci/media_types.h"
#include "util/strings.h"

namespace kiln::oci {

bool Manifest::is_docker() const { return media_type == media::k_docker_manifest; }

Json manifest_to_json(const Manifest& m) {
  Json j = m.extra.is_object() ? m.extra : Json::object();
  j["schemaVersion"] = m.schema_version;
  if (!m.media_type.empty()) {
    j["mediaType"] = m.media_type;
  }
  if (!m.artifact_type.empty()) {
    j["artifactType"] = m.artifact_type;
  }
  j["config"] = descriptor_to_json(m.config);
  Json layers = Json::array();
  for (const auto& l : m.layers) {
    layers.push_back(descriptor_to_json(l));
  }
  j["layers"] = layers;
  if (m.subject) {
    j["subject"] = descriptor_to_json(*m.subject);
  }
  if (!m.annotations.empty()) {
    j["annotations"] = m.annotations;
  }
  return j;
}

std::string serialize_manifest(const Manifest& m) { return dump_json(manifest_to_json(m)); }

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view what) {
  KILN_TRY_ASSIGN(Json j, parse_json(bytes, what));
  JsonReader r(std::move(j), std::string(what));
  Manifest m;
  m.schema_version = static_cast<int>(r.integer("schemaVersion"));
  m.media_type = r.string("mediaType");
  m.artifact_type = r.string("artifactType");
  Json config = r.take("config");
  Json layers = r.take("layers");
  Json subject = r.take("subject");
  m.annotations = r.string_map("annotations");
  KILN_TRY(r.status());
  m.extra = r.rest();
  if (m.schema_version != 2) {
    return Error(ErrorCode::parse, cat("parse ", what, ": unsupported schemaVersion ", m.schema_version));
  }
  if (!config.is_object()) {
    return Error(ErrorCode::parse, cat("parse ", what, ": missing `config` descriptor"));
  }
  KILN_TRY_ASSIGN(m.config, descriptor_from_json(config).context(cat("parse ", what)));
  if (!layers.is_null()) {
    if (!layers.is_array()) {
      return Error(ErrorCode::parse, cat("parse ", what, ": `layers` must be a list"));
    }
    for (const auto& l : layers) {
      KILN_TRY_ASSIGN(Descriptor d, descriptor_from_json(l).context(cat("parse ", what)));
      m.layers.push_back(std::move(d));
    }
  }
  if (subject.is_object()) {
    KILN_TRY_ASSIGN(Descriptor d, descriptor_from_json(subject).context(cat("parse ", what)));
    m.subject = std::move(d);
  }
  return m;
}

}  // namespace kiln::oci
