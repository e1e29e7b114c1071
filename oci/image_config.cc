#include "oci/image_config.h"

#include <algorithm>

#include "util/strings.h"

namespace kiln::oci {

std::optional<std::string> ContainerConfig::getenv(const std::string& key) const {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
    if (e == key) {
      return std::string();
    }
  }
  return std::nullopt;
}

void ContainerConfig::setenv(const std::string& key, const std::string& value) {
  for (auto& e : env) {
    if ((e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') || e == key) {
      e = key + "=" + value;
      return;
    }
  }
  env.push_back(key + "=" + value);
}

void ContainerConfig::unsetenv(const std::string& key) {
  env.erase(std::remove_if(env.begin(), env.end(),
                           [&](const std::string& e) {
                             return e == key || (e.size() > key.size() && e.compare(0, key.size(), key) == 0 &&
                                                 e[key.size()] == '=');
                           }),
            env.end());
}

static Json key_set_json(const std::vector<std::string>& keys) {
  Json j = Json::object();
  for (const auto& k : keys) {
    j[k] = Json::object();
  }
  return j;
}

Json healthcheck_to_json(const Healthcheck& h) {
  Json j = Json::object();
  j["Test"] = h.test;
  if (h.interval_ns != 0) {
    j["Interval"] = h.interval_ns;
  }
  if (h.timeout_ns != 0) {
    j["Timeout"] = h.timeout_ns;
  }
  if (h.start_period_ns != 0) {
    j["StartPeriod"] = h.start_period_ns;
  }
  if (h.start_interval_ns != 0) {
    j["StartInterval"] = h.start_interval_ns;
  }
  if (h.retries != 0) {
    j["Retries"] = h.retries;
  }
  return j;
}

Result<Healthcheck> healthcheck_from_json(const Json& j) {
  JsonReader r(j, "Healthcheck");
  Healthcheck h;
  h.test = r.opt_strings("Test").value_or(std::vector<std::string>{});
  h.interval_ns = r.integer("Interval");
  h.timeout_ns = r.integer("Timeout");
  h.start_period_ns = r.integer("StartPeriod");
  h.start_interval_ns = r.integer("StartInterval");
  h.retries = static_cast<int>(r.integer("Retries"));
  KILN_TRY(r.status());
  return h;
}

static Json container_config_to_json(const ContainerConfig& c) {
  Json j = c.extra.is_object() ? c.extra : Json::object();
  if (!c.user.empty()) {
    j["User"] = c.user;
  }
  if (!c.exposed_ports.empty()) {
    j["ExposedPorts"] = key_set_json(c.exposed_ports);
  }
  if (!c.env.empty()) {
    j["Env"] = c.env;
  }
  if (c.entrypoint) {
    j["Entrypoint"] = *c.entrypoint;
  }
  if (c.cmd) {
    j["Cmd"] = *c.cmd;
  }
  if (!c.volumes.empty()) {
    j["Volumes"] = key_set_json(c.volumes);
  }
  if (!c.working_dir.empty()) {
    j["WorkingDir"] = c.working_dir;
  }
  if (!c.labels.empty()) {
    j["Labels"] = c.labels;
  }
  if (!c.stop_signal.empty()) {
    j["StopSignal"] = c.stop_signal;
  }
  if (c.args_escaped) {
    j["ArgsEscaped"] = true;
  }
  if (c.healthcheck) {
    j["Healthcheck"] = healthcheck_to_json(*c.healthcheck);
  }
  if (!c.on_build.empty()) {
    j["OnBuild"] = c.on_build;
  }
  if (!c.shell.empty()) {
    j["Shell"] = c.shell;
  }
  return j;
}

static Result<ContainerConfig> container_config_from_json(const Json& j) {
  JsonReader r(j, "image config `config`");
  ContainerConfig c;
  c.user = r.string("User");
  c.exposed_ports = r.key_set("ExposedPorts");
  c.env = r.opt_strings("Env").value_or(std::vector<std::string>{});
  c.entrypoint = r.opt_strings("Entrypoint");
  c.cmd = r.opt_strings("Cmd");
  c.volumes = r.key_set("Volumes");
  c.working_dir = r.string("WorkingDir");
  c.labels = r.string_map("Labels");
  c.stop_signal = r.string("StopSignal");
  c.args_escaped = r.boolean("ArgsEscaped");
  Json hc = r.take("Healthcheck");
  c.on_build = r.opt_strings("OnBuild").value_or(std::vector<std::string>{});
  c.shell = r.opt_strings("Shell").value_or(std::vector<std::string>{});
  KILN_TRY(r.status());
  c.extra = r.rest();
  if (hc.is_object()) {
    KILN_TRY_ASSIGN(Healthcheck h, healthcheck_from_json(hc));
    c.healthcheck = std::move(h);
  }
  return c;
}

Json image_config_to_json(const ImageConfig& c) {
  Json j = c.extra.is_object() ? c.extra : Json::object();
  if (!c.created.empty()) {
    j["created"] = c.created;
  }
  if (!c.author.empty()) {
    j["author"] = c.author;
  }
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  if (!c.os_version.empty()) {
    j["os.version"] = c.os_version;
  }
  if (!c.variant.empty()) {
    j["variant"] = c.variant;
  }
  j["config"] = container_config_to_json(c.config);
  Json diff_ids = Json::array();
  for (const auto& d : c.diff_ids) {
    diff_ids.push_back(d.str());
  }
  j["rootfs"] = Json{{"type", "layers"}, {"diff_ids", diff_ids}};
  if (!c.history.empty()) {
    Json hist = Json::array();
    for (const auto& h : c.history) {
      Json e = h.extra.is_object() ? h.extra : Json::object();
      if (!h.created.empty()) {
        e["created"] = h.created;
      }
      if (!h.created_by.empty()) {
        e["created_by"] = h.created_by;
      }
      if (!h.author.empty()) {
        e["author"] = h.author;
      }
      if (!h.comment.empty()) {
        e["comment"] = h.comment;
      }
      if (h.empty_layer) {
        e["empty_layer"] = true;
      }
      hist.push_back(e);
    }
    j["history"] = hist;
  }
  return j;
}

std::string serialize_image_config(const ImageConfig& c) { return dump_json(image_config_to_json(c)); }

Result<ImageConfig> parse_image_config(std::string_view bytes, std::string_view what) {
  KILN_TRY_ASSIGN(Json j, parse_json(bytes, what));
  JsonReader r(std::move(j), std::string(what));
  ImageConfig c;
  c.created = r.string("created");
  c.author = r.string("author");
  c.architecture = r.string("architecture");
  c.os = r.string("os");
  c.os_version = r.string("os.version");
  c.variant = r.string("variant");
  Json config = r.take("config");
  Json rootfs = r.take("rootfs");
  Json history = r.take("history");
  KILN_TRY(r.status());
  c.extra = r.rest();
  if (config.is_object()) {
    KILN_TRY_ASSIGN(c.config, container_config_from_json(config).context(cat("parse ", what)));
  }
  if (rootfs.is_object() && rootfs.contains("diff_ids")) {
    const Json& ids = rootfs["diff_ids"];
    if (!ids.is_array()) {
      return Error(ErrorCode::parse, cat("parse ", what, ": `rootfs.diff_ids` must be a list"));
    }
    for (const auto& id : ids) {
      if (!id.is_string()) {
        return Error(ErrorCode::parse, cat("parse ", what, ": `rootfs.diff_ids` must hold digests"));
      }
      KILN_TRY_ASSIGN(Digest d, Digest::parse(id.get<std::string>()).context(cat("parse ", what)));
      c.diff_ids.push_back(std::move(d));
    }
  }
  if (history.is_array()) {
    for (const auto& h : history) {
      JsonReader hr(h, cat(what, " history entry"));
      HistoryEntry e;
      e.created = hr.string("created");
      e.created_by = hr.string("created_by");
      e.author = hr.string("author");
      e.comment = hr.string("comment");
      e.empty_layer = hr.boolean("empty_layer");
      KILN_TRY(hr.status());
      e.extra = hr.rest();
      c.history.push_back(std::move(e));
    }
  }
  return c;
}

}  // namespace kiln::oci
