#include "oci/descriptor.h"

#include "util/strings.h"

namespace kiln::oci {

std::string Descriptor::annotation(const std::string& key) const {
  auto it = annotations.find(key);
  return it == annotations.end() ? std::string() : it->second;
}

Descriptor make_descriptor(std::string_view media_type, Digest digest, int64_t size) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

Json descriptor_to_json(const Descriptor& d) {
  Json j = d.extra.is_object() ? d.extra : Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.annotations.empty()) {
    j["annotations"] = d.annotations;
  }
  if (d.platform) {
    j["platform"] = platform_to_json(*d.platform);
  }
  if (!d.urls.empty()) {
    j["urls"] = d.urls;
  }
  if (!d.artifact_type.empty()) {
    j["artifactType"] = d.artifact_type;
  }
  return j;
}

Result<Descriptor> descriptor_from_json(const Json& j) {
  JsonReader r(j, "descriptor");
  Descriptor d;
  d.media_type = r.string("mediaType");
  std::string digest = r.string("digest");
  d.size = r.integer("size");
  d.annotations = r.string_map("annotations");
  Json platform = r.take("platform");
  d.urls = r.opt_strings("urls").value_or(std::vector<std::string>{});
  d.artifact_type = r.string("artifactType");
  KILN_TRY(r.status());
  d.extra = r.rest();
  KILN_TRY_ASSIGN(d.digest, Digest::parse(digest).context("parse descriptor"));
  if (d.size < 0) {
    return Error(ErrorCode::parse, cat("parse descriptor: negative size for `", digest, "`"));
  }
  if (!platform.is_null()) {
    KILN_TRY_ASSIGN(Platform p, platform_from_json(platform));
    d.platform = std::move(p);
  }
  return d;
}

}  // namespace kiln::oci
