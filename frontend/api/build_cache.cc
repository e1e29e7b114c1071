#include "frontend/api/build_cache.h"

#include "cache/gc.h"
#include "cache/store.h"
#include "frontend/api/store_api.h"
#include "oci/json.h"
#include "oci/reference.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

namespace {

Error bad_spec(const std::string& flag, const std::string& text, const std::string& why) {
  return Error(ErrorCode::usage, cat("invalid ", flag, " `", text, "`: ", why));
}

Result<bool> parse_flag_value(const std::string& flag, const std::string& text, const std::string& key,
                              const std::string& value) {
  std::string v = to_lower(value);
  if (v == "true" || v == "1" || v.empty()) {
    return true;
  }
  if (v == "false" || v == "0") {
    return false;
  }
  return bad_spec(flag, text, cat("`", key, "` takes true or false"));
}

// Applies one KEY=VALUE of a cache spec.
Result<void> apply_key(CacheSpec& spec, std::string& type, const std::string& key, const std::string& value,
                       CacheDirection direction, const std::string& flag) {
  bool exporting = direction == CacheDirection::export_;
  const std::string& text = spec.text;
  if (key == "type") {
    type = value;
  } else if (key == "ref") {
    spec.ref = value;
  } else if (key == (exporting ? "dest" : "src")) {
    spec.dir = value;
  } else if (key == "tag") {
    spec.tag = value;
  } else if (key == "mode" && exporting) {
    if (value != "min" && value != "max") {
      return bad_spec(flag, text, "mode is min or max");
    }
    spec.mode_max = value == "max";
  } else if (key == "compression" && exporting) {
    if (value == "zstd") {
      spec.mount_compression = oci::media::Compression::zstd;
    } else if (value == "gzip") {
      spec.mount_compression = oci::media::Compression::gzip;
    } else {
      return bad_spec(flag, text, "compression is zstd or gzip");
    }
  } else if (key == "cache-mounts") {
    KILN_TRY_ASSIGN(spec.cache_mounts, parse_flag_value(flag, text, key, value));
  } else {
    return bad_spec(flag, text, cat("unknown key `", key, "`"));
  }
  return {};
}

}  // namespace

Result<CacheSpec> parse_cache_spec(const std::string& text, CacheDirection direction) {
  bool exporting = direction == CacheDirection::export_;
  std::string flag = exporting ? "--cache-to" : "--cache-from";
  CacheSpec spec;
  spec.text = text;
  spec.cache_mounts = !exporting;
  if (text.empty()) {
    return bad_spec(flag, text, "expected type=registry,ref=REF or type=local,...");
  }
  std::string type = "registry";
  if (text.find('=') == std::string::npos) {
    spec.ref = text;  // a bare reference, as buildx accepts
  } else {
    for (const auto& part : split(text, ',')) {
      auto kv = split_once(part, '=');
      if (!kv || kv->first.empty()) {
        return bad_spec(flag, text, "expected KEY=VALUE pairs separated by commas");
      }
      KILN_TRY(apply_key(spec, type, kv->first, kv->second, direction, flag));
    }
  }
  if (type == "registry") {
    spec.type = CacheSpec::Type::registry;
    if (spec.ref.empty()) {
      return bad_spec(flag, text, "a registry cache needs ref=REGISTRY/REPOSITORY[:TAG]");
    }
    auto ref = oci::parse_reference(spec.ref);
    if (!ref) {
      return bad_spec(flag, text, ref.error().message());
    }
  } else if (type == "local") {
    spec.type = CacheSpec::Type::local;
    if (spec.dir.empty()) {
      return bad_spec(flag, text, exporting ? "a local cache needs dest=DIR" : "a local cache needs src=DIR");
    }
    spec.dir = absolute_path(spec.dir);
  } else {
    return bad_spec(flag, text, cat("unknown type `", type, "` (expected registry or local)"));
  }
  return spec;
}

Result<std::optional<uint64_t>> store_cache_limit(const ImageStore& store) {
  std::string path = path_join(store.root(), "kiln/config.json");
  KILN_TRY_ASSIGN(auto text, read_file_if_exists(path));
  if (!text) {
    return std::optional<uint64_t>();
  }
  KILN_TRY_ASSIGN(oci::Json j, oci::parse_json(*text, cat("`", path, "`")));
  if (!j.is_object() || !j.contains("max_cache_bytes") || j["max_cache_bytes"].is_null()) {
    return std::optional<uint64_t>();
  }
  const oci::Json& v = j["max_cache_bytes"];
  if (v.is_number_unsigned()) {
    return std::optional<uint64_t>(v.get<uint64_t>());
  }
  if (v.is_string()) {
    if (auto n = parse_size(v.get<std::string>())) {
      return std::optional<uint64_t>(*n);
    }
  }
  return Error(ErrorCode::parse, cat("`", path, "`: max_cache_bytes must be a byte count or a size such as \"10GB\""));
}

Result<CacheLimitReport> enforce_cache_limit(const ImageStore& store, uint64_t max_bytes) {
  cache::PruneOptions o;
  o.build_cache = true;
  o.keep_storage = max_bytes;
  KILN_TRY_ASSIGN(auto r, cache::try_prune(store.store(), o));
  CacheLimitReport out;
  if (r) {
    out.ran = true;
    out.records_removed = r->cache_records_removed;
    out.bytes_freed = r->bytes_freed;
  }
  return out;
}

}  // namespace kiln
