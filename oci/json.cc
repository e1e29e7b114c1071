#include "oci/json.h"

#include "util/strings.h"

namespace kiln::oci {

Result<Json> parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    return Error(ErrorCode::parse, cat("parse ", what, ": ", e.what()));
  }
}

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> JsonReader::status() const {
  if (m_error) {
    return *m_error;
  }
  return {};
}

void JsonReader::fail(const std::string& msg) {
  if (!m_error) {
    m_error = Error(ErrorCode::parse, cat("parse ", m_what, ": ", msg));
  }
}

Json JsonReader::take(const char* key) {
  if (!m_obj.is_object()) {
    fail("expected a JSON object");
    return nullptr;
  }
  auto it = m_obj.find(key);
  if (it == m_obj.end()) {
    return nullptr;
  }
  Json v = std::move(*it);
  m_obj.erase(it);
  return v;
}

std::string JsonReader::string(const char* key) { return opt_string(key).value_or(""); }

std::optional<std::string> JsonReader::opt_string(const char* key) {
  Json v = take(key);
  if (v.is_null()) {
    return std::nullopt;
  }
  if (!v.is_string()) {
    fail(cat("field `", key, "` must be a string"));
    return std::nullopt;
  }
  return v.get<std::string>();
}

int64_t JsonReader::integer(const char* key) { return opt_integer(key).value_or(0); }

std::optional<int64_t> JsonReader::opt_integer(const char* key) {
  Json v = take(key);
  if (v.is_null()) {
    return std::nullopt;
  }
  if (!v.is_number_integer()) {
    fail(cat("field `", key, "` must be an integer"));
    return std::nullopt;
  }
  return v.get<int64_t>();
}

bool JsonReader::boolean(const char* key) {
  Json v = take(key);
  if (v.is_null()) {
    return false;
  }
  if (!v.is_boolean()) {
    fail(cat("field `", key, "` must be true or false"));
    return false;
  }
  return v.get<bool>();
}

std::optional<std::vector<std::string>> JsonReader::opt_strings(const char* key) {
  Json v = take(key);
  if (v.is_null()) {
    return std::nullopt;
  }
  if (!v.is_array()) {
    fail(cat("field `", key, "` must be a list of strings"));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) {
      fail(cat("field `", key, "` must be a list of strings"));
      return std::nullopt;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> JsonReader::string_map(const char* key) {
  Json v = take(key);
  std::map<std::string, std::string> out;
  if (v.is_null()) {
    return out;
  }
  if (!v.is_object()) {
    fail(cat("field `", key, "` must be an object of strings"));
    return out;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string()) {
      fail(cat("field `", key, ".", it.key(), "` must be a string"));
      return out;
    }
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::vector<std::string> JsonReader::key_set(const char* key) {
  Json v = take(key);
  std::vector<std::string> out;
  if (v.is_null()) {
    return out;
  }
  if (!v.is_object()) {
    fail(cat("field `", key, "` must be an object"));
    return out;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    out.push_back(it.key());
  }
  return out;
}

}  // namespace kiln::oci
