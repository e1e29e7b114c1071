// JSON adapters: nlohmann::json throws; kiln does not (STYLE.md C1). These
// helpers catch at the boundary and turn failures into Errors.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace kiln::oci {

using Json = nlohmann::json;

/// Parses text; what names the document in errors ("manifest `sha256:...`").
Result<Json> parse_json(std::string_view text, std::string_view what);

/// Compact serialization with sorted keys (nlohmann's object is a std::map),
/// the form kiln writes for every document it creates.
std::string dump_json(const Json& j);

/// Reads typed fields out of an object and removes them, so what remains
/// is the document's unknown fields (kept and written back unchanged).
class JsonReader {
 public:
  JsonReader(Json object, std::string what) : m_obj(std::move(object)), m_what(std::move(what)) {}

  bool ok() const { return !m_error.has_value(); }
  Result<void> status() const;
  /// The fields not taken yet.
  Json rest() { return std::move(m_obj); }

  std::string string(const char* key);
  std::optional<std::string> opt_string(const char* key);
  int64_t integer(const char* key);
  std::optional<int64_t> opt_integer(const char* key);
  bool boolean(const char* key);
  std::optional<std::vector<std::string>> opt_strings(const char* key);
  std::map<std::string, std::string> string_map(const char* key);
  /// Keys of an object whose values are `{}` (ExposedPorts, Volumes).
  std::vector<std::string> key_set(const char* key);
  /// Raw sub-document (null when absent).
  Json take(const char* key);

 private:
  void fail(const std::string& msg);
  Json m_obj;
  std::string m_what;
  std::optional<Error> m_error;
};

}  // namespace kiln::oci
