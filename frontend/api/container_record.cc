#include "frontend/api/container_record.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "oci/json.h"
#include "solver/ops/runner.h"
#include "util/atomic_file.h"
#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::detail {

namespace {

using oci::Json;

Json layer_to_json(const solver::LayerRef& l) {
  return {{"diff_id", l.diff_id.str()}, {"digest", l.digest.str()}, {"size", l.size}, {"media_type", l.media_type}};
}

Result<solver::LayerRef> layer_from_json(const Json& j) {
  if (!j.is_object()) {
    return Error(ErrorCode::cache_corrupt, "container record: a layer is not an object");
  }
  oci::JsonReader r(j, "container record layer");
  solver::LayerRef l;
  std::string diff_id = r.string("diff_id");
  std::string digest = r.string("digest");
  l.size = r.integer("size");
  l.media_type = r.string("media_type");
  KILN_TRY(r.status());
  KILN_TRY_ASSIGN(l.diff_id, oci::Digest::parse(diff_id));
  KILN_TRY_ASSIGN(l.digest, oci::Digest::parse(digest));
  return l;
}

Json layers_to_json(const std::vector<solver::LayerRef>& layers) {
  Json a = Json::array();
  for (const auto& l : layers) {
    a.push_back(layer_to_json(l));
  }
  return a;
}

Result<std::vector<solver::LayerRef>> layers_from_json(const Json& j) {
  std::vector<solver::LayerRef> out;
  if (!j.is_array()) {
    return out;
  }
  for (const auto& e : j) {
    KILN_TRY_ASSIGN(solver::LayerRef l, layer_from_json(e));
    out.push_back(std::move(l));
  }
  return out;
}

Json history_to_json(const std::vector<oci::HistoryEntry>& history) {
  oci::ImageConfig c;
  c.history = history;
  Json j = oci::image_config_to_json(c);
  return j.contains("history") ? j["history"] : Json::array();
}

Result<std::vector<oci::HistoryEntry>> history_from_json(const Json& j) {
  Json wrapper = {{"architecture", ""}, {"os", ""}, {"history", j.is_array() ? j : Json::array()}};
  KILN_TRY_ASSIGN(oci::ImageConfig c, oci::parse_image_config(oci::dump_json(wrapper), "container record history"));
  return c.history;
}

Result<Json> definition_json(const std::string& text) {
  if (text.empty()) {
    return Json(nullptr);
  }
  return oci::parse_json(text, "container definition");
}

// What the store must keep for this container (cache/gc.cc reads "blobs" and
// "layers"): the base image, every layer of the state's chain, of the last
// commit and of the step results.
void add_roots(const ContainerRecord& c, Json& j) {
  std::set<std::string> blobs;
  std::set<std::string> layers;
  if (!c.image_manifest.empty()) {
    blobs.insert(c.image_manifest);
    blobs.insert(c.image_id);
  }
  for (const auto* chain : {&c.chain, &c.committed.layers}) {
    for (const auto& l : *chain) {
      blobs.insert(l.digest.str());
      layers.insert(l.diff_id.str());
    }
  }
  for (const auto& s : c.steps) {
    for (const auto& b : s.blobs) {
      blobs.insert(b.str());
    }
    for (const auto& l : s.layers) {
      layers.insert(l.str());
    }
  }
  j["blobs"] = std::vector<std::string>(blobs.begin(), blobs.end());
  j["layers"] = std::vector<std::string>(layers.begin(), layers.end());
}

Result<Json> record_to_json(const ContainerRecord& c) {
  Json j = {{"format", "kiln-container"}, {"version", k_container_version}, {"name", c.name}, {"id", c.id},
            {"created", c.created}, {"created_by", c.created_by}, {"annotations", c.annotations}};
  j["image"] = c.image_manifest.empty()
                   ? Json(nullptr)
                   : Json{{"name", c.image_name}, {"id", c.image_id}, {"manifest", c.image_manifest}};
  KILN_TRY_ASSIGN(j["definition"], definition_json(c.definition));
  Json committed = {{"layers", layers_to_json(c.committed.layers)},
                    {"history", history_to_json(c.committed.history)},
                    {"pending", c.committed.pending},
                    {"count", c.committed.count}};
  KILN_TRY_ASSIGN(committed["definition"], definition_json(c.committed.definition));
  j["committed"] = committed;
  Json pins = Json::array();
  for (const auto& p : c.pins) {
    Json pin = {{"op", p.op}, {"hash", p.hash}, {"digest", p.digest}};
    if (p.input != 0) {
      pin["input"] = p.input;
    }
    pins.push_back(std::move(pin));
  }
  j["pins"] = pins;
  Json steps = Json::array();
  for (const auto& s : c.steps) {
    steps.push_back(cache::cache_record_to_json(s));
  }
  j["steps"] = steps;
  j["chain"] = layers_to_json(c.chain);
  add_roots(c, j);
  return j;
}

Result<void> read_body(const Json& j, ContainerRecord& c) {
  oci::JsonReader r(j, "container record");
  c.name = r.string("name");
  c.id = r.string("id");
  c.created = r.string("created");
  c.created_by = r.string("created_by");
  c.annotations = r.string_map("annotations");
  Json image = r.take("image");
  Json def = r.take("definition");
  Json committed = r.take("committed");
  Json pins = r.take("pins");
  Json steps = r.take("steps");
  Json chain = r.take("chain");
  KILN_TRY(r.status());
  if (image.is_object()) {
    c.image_name = image.value("name", "");
    c.image_id = image.value("id", "");
    c.image_manifest = image.value("manifest", "");
  }
  if (!def.is_object() || !committed.is_object()) {
    return Error(ErrorCode::cache_corrupt, "container record has no definition");
  }
  c.definition = oci::dump_json(def);
  c.committed.definition = oci::dump_json(committed["definition"]);
  KILN_TRY_ASSIGN(c.committed.layers, layers_from_json(committed.value("layers", Json::array())));
  KILN_TRY_ASSIGN(c.committed.history, history_from_json(committed.value("history", Json::array())));
  c.committed.pending = committed.value("pending", size_t{0});
  c.committed.count = committed.value("count", 0);
  for (const auto& p : pins.is_array() ? pins : Json::array()) {
    c.pins.push_back({p.value("op", -1), p.value("hash", ""), p.value("digest", ""), p.value("input", 0)});
  }
  for (const auto& s : steps.is_array() ? steps : Json::array()) {
    KILN_TRY_ASSIGN(cache::CacheRecord rec, cache::cache_record_from_json(s));
    c.steps.push_back(std::move(rec));
  }
  KILN_TRY_ASSIGN(c.chain, layers_from_json(chain));
  return {};
}

Result<ContainerRecord> parse_record(const std::string& text, const std::string& name) {
  auto parsed = oci::parse_json(text, cat("working container `", name, "`"));
  if (!parsed || !parsed->is_object() || parsed->value("format", "") != "kiln-container") {
    return Error(ErrorCode::cache_corrupt, cat("read working container `", name, "`: not a kiln container record"));
  }
  int version = parsed->value("version", 0);
  if (version != k_container_version) {
    return Error(ErrorCode::cache_corrupt,
                 cat("read working container `", name, "`: record version ", version, " is not supported (this kiln reads ",
                     k_container_version, ")"));
  }
  ContainerRecord c;
  KILN_TRY(read_body(*parsed, c).context(cat("read working container `", name, "`")));
  return c;
}

}  // namespace

std::string container_dir(const cache::Store& store, const std::string& name) {
  return path_join(store.containers_dir(), name);
}

std::string merged_dir(const cache::Store& store, const std::string& name) {
  return path_join(container_dir(store, name), "merged");
}

bool is_mounted(const std::string& dir) {
  struct stat here {};
  struct stat parent {};
  if (::stat(dir.c_str(), &here) != 0 || ::stat(path_dirname(dir).c_str(), &parent) != 0) {
    return false;
  }
  return here.st_dev != parent.st_dev;
}

Result<void> validate_container_name(const std::string& name) {
  auto ok_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '.' || ch == '-';
  };
  bool ok = !name.empty() && name.size() <= 128 && ok_char(name[0]) && name[0] != '.' && name[0] != '-' &&
            name[0] != '_' && std::all_of(name.begin(), name.end(), ok_char);
  if (!ok) {
    return Error(ErrorCode::invalid_input, cat("invalid container name `", name, "`"))
        .with_hint("names start with a letter or digit and contain only letters, digits, `_`, `.` and `-`");
  }
  return {};
}

Result<std::optional<ContainerRecord>> read_container(const cache::Store& store, const std::string& name) {
  if (!validate_container_name(name)) {
    return std::optional<ContainerRecord>();
  }
  KILN_TRY_ASSIGN(auto text, read_file_if_exists(path_join(container_dir(store, name), "container.json")));
  if (!text) {
    return std::optional<ContainerRecord>();
  }
  KILN_TRY_ASSIGN(ContainerRecord c, parse_record(*text, name));
  return std::optional<ContainerRecord>(std::move(c));
}

Result<ContainerRecord> load_container(const cache::Store& store, const std::string& name) {
  KILN_TRY_ASSIGN(auto rec, read_container(store, name));
  if (!rec) {
    return Error(ErrorCode::not_found, cat("no working container named `", name, "`"))
        .with_hint("`kiln containers` lists them; `kiln from IMAGE` makes one");
  }
  return std::move(*rec);
}

Result<void> write_container(const cache::Store& store, const ContainerRecord& record) {
  KILN_TRY_ASSIGN(Json j, record_to_json(record));
  return write_file_atomic(path_join(container_dir(store, record.name), "container.json"), oci::dump_json(j))
      .context(cat("write working container `", record.name, "`"));
}

Result<void> delete_container(const cache::Store& store, const std::string& name) {
  std::string dir = container_dir(store, name);
  std::string merged = merged_dir(store, name);
  std::string what = cat("remove working container `", name, "`");
  if (is_mounted(merged)) {
    KILN_TRY(solver::ops::BuildRunner::unmount_view(merged).context(what));
  }
  if (::unlink(path_join(dir, "container.json").c_str()) != 0 && errno != ENOENT) {
    return Error::from_errno(what);
  }
  return remove_tree(dir).context(what);
}

Result<std::vector<ContainerRecord>> all_containers(const cache::Store& store) {
  KILN_TRY_ASSIGN(auto names, list_dir(store.containers_dir()));
  std::sort(names.begin(), names.end());
  std::vector<ContainerRecord> out;
  for (const auto& n : names) {
    auto rec = read_container(store, n);
    if (!rec) {
      log::warning(rec.error().render());
      continue;
    }
    if (*rec) {
      out.push_back(std::move(**rec));
    }
  }
  return out;
}

Result<FileLock> lock_container(const cache::Store& store, const std::string& name) {
  std::string dir = path_join(store.root(), "kiln/locks/containers");
  KILN_TRY(make_dirs(dir));
  std::string path = path_join(dir, name + ".lock");
  KILN_TRY_ASSIGN(auto held, FileLock::try_acquire(path, LockMode::exclusive));
  if (held) {
    return std::move(*held);
  }
  log::info("waiting for working container `", name, "`: another kiln command is using it");
  return FileLock::acquire(path, LockMode::exclusive);
}

Result<FileLock> lock_container_names(const cache::Store& store) {
  return FileLock::acquire(path_join(store.root(), "kiln/locks/containers.lock"), LockMode::exclusive);
}

Result<std::string> random_id() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::from_errno("read random bytes for a container id");
    }
    got += static_cast<size_t>(n);
  }
  return hex_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace kiln::detail
