#include "solver/cache_key.h"

#include <algorithm>
#include <map>

#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::solver {

namespace {

void add(KeyParts& p, std::string name, std::string value) { p.fields.emplace_back(std::move(name), std::move(value)); }

void add_list(KeyParts& p, const std::string& name, const std::vector<std::string>& values) {
  add(p, name + ".count", std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    add(p, cat(name, "[", i, "]"), values[i]);
  }
}

std::string bool_str(bool b) { return b ? "1" : "0"; }

struct PartsBuilder {
  KeyParts& p;
  void operator()(const ScratchSource&) const { p.tag = "kiln.source.scratch.v1"; }
  void operator()(const ImageSource& s) const {
    p.tag = "kiln.source.image.v1";
    add(p, "manifest", s.manifest.str());
  }
  void operator()(const ContextSource& s) const {
    p.tag = "kiln.source.context.v1";
    add(p, "name", s.name);
    add_list(p, "exclude", s.exclude);
  }
  void operator()(const HttpSource& s) const {
    p.tag = "kiln.source.http.v1";
    add(p, "url", s.url);
    add(p, "checksum", s.checksum);
    add(p, "filename", s.filename);
  }
  void operator()(const GitSource& s) const {
    p.tag = "kiln.source.git.v1";
    add(p, "url", s.url);
    add(p, "ref", s.ref);
    add(p, "subdir", s.subdir);
    add(p, "keep_git_dir", bool_str(s.keep_git_dir));
  }
  void operator()(const Exec& e) const {
    p.tag = "kiln.exec.v1";
    add_list(p, "args", e.args);
    std::vector<std::string> env;
    for (const auto& v : e.env) {
      if (!is_proxy_env(v)) {
        env.push_back(v);
      }
    }
    add_list(p, "env", env);
    add(p, "cwd", e.cwd);
    add(p, "user", e.user);
    add(p, "network", network_mode_name(e.network));
    add(p, "insecure", bool_str(e.insecure));
    add_list(p, "cap_add", e.cap_add);
    add_list(p, "cap_drop", e.cap_drop);
    add(p, "no_new_privileges", bool_str(e.no_new_privileges));
    add(p, "mounts.count", std::to_string(e.mounts.size()));
    for (size_t i = 0; i < e.mounts.size(); ++i) {
      const auto& m = e.mounts[i];
      std::string k = cat("mount[", i, "]");
      add(p, k + ".type", m.type);
      add(p, k + ".target", m.target);
      add(p, k + ".source", m.type == "cache" || m.type == "secret" || m.type == "ssh" ? "" : m.source);
      add(p, k + ".readonly", bool_str(m.readonly));
      add(p, k + ".from_input", std::to_string(m.from_input));
      if (m.in_place) {
        // Only when set, so every other key stays as it was (K1).
        add(p, k + ".in_place", m.readonly ? std::string("ro") : m.id);
      }
    }
  }
  void operator()(const Copy& c) const {
    p.tag = "kiln.copy.v1";
    add_list(p, "sources", c.sources);
    add(p, "dest", c.dest);
    add(p, "chown", c.chown);
    add(p, "chmod", c.chmod);
    add(p, "link", bool_str(c.link));
    add(p, "parents", bool_str(c.parents));
    add(p, "unpack", bool_str(c.unpack));
    add(p, "add", bool_str(c.add));
    add_list(p, "exclude", c.exclude);
  }
  void operator()(const Mkdir& m) const {
    p.tag = "kiln.mkdir.v1";
    add(p, "path", m.path);
    add(p, "user", m.user);
  }
};

}  // namespace

bool is_proxy_env(std::string_view entry) {
  static const char* names[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                                "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};
  auto eq = entry.find('=');
  std::string_view name = entry.substr(0, eq);
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
}

KeyParts op_key_parts(const Op& op) {
  KeyParts p;
  std::visit(PartsBuilder{p}, op.attrs);
  return p;
}

std::string KeyParts::key() const {
  Hasher h(k_key_scheme);
  h.field("tag", tag);
  for (const auto& [name, value] : fields) {
    h.field(name, value);
  }
  h.field("inputs.count", static_cast<int64_t>(inputs.size()));
  for (const auto& in : inputs) {
    h.field("input.key", in.key);
    h.field("input.selector", in.selector);
    h.field("input.content", in.content_digest);
  }
  return h.finish_hex();
}

std::string KeyParts::describe() const {
  std::string out = cat("tag: ", tag, "\n");
  for (const auto& [name, value] : fields) {
    out += cat(name, ": ", value, "\n");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += cat("input[", i, "].key: ", inputs[i].key, "\n");
    if (!inputs[i].selector.empty()) {
      out += cat("input[", i, "].selector: ", inputs[i].selector, "\n");
    }
    if (!inputs[i].content_digest.empty()) {
      out += cat("input[", i, "].content: ", inputs[i].content_digest, "\n");
    }
  }
  return out;
}

std::vector<std::string> explain_key_change(const KeyParts& before, const KeyParts& now) {
  std::vector<std::string> out;
  if (before.tag != now.tag) {
    out.push_back(cat("the instruction changed (", before.tag, " -> ", now.tag, ")"));
    return out;
  }
  std::map<std::string, std::string> old(before.fields.begin(), before.fields.end());
  std::map<std::string, std::string> cur(now.fields.begin(), now.fields.end());
  auto env_map = [](const std::map<std::string, std::string>& f) {
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : f) {
      if (k.starts_with("env[")) {
        auto kv = split_once(v, '=');
        env[kv ? kv->first : v] = kv ? kv->second : "";
      }
    }
    return env;
  };
  auto eo = env_map(old);
  auto ec = env_map(cur);
  for (const auto& [k, v] : ec) {
    auto it = eo.find(k);
    if (it == eo.end()) {
      out.push_back(cat("env ", k, " was added"));
    } else if (it->second != v) {
      out.push_back(cat("env ", k, " changed"));
    }
  }
  for (const auto& [k, v] : eo) {
    if (ec.count(k) == 0) {
      out.push_back(cat("env ", k, " was removed"));
    }
  }
  std::vector<std::string> changed;
  for (const auto& [k, v] : cur) {
    if (k.starts_with("env")) {
      continue;
    }
    auto it = old.find(k);
    if (it == old.end() || it->second != v) {
      std::string base = k.substr(0, k.find_first_of(".["));
      if (std::find(changed.begin(), changed.end(), base) == changed.end()) {
        changed.push_back(base);
      }
    }
  }
  for (const auto& f : changed) {
    out.push_back(f == "manifest" ? std::string("base image digest changed") : cat(f, " changed"));
  }
  for (size_t i = 0; i < now.inputs.size(); ++i) {
    if (i >= before.inputs.size()) {
      out.push_back(cat("input ", i, " was added"));
      continue;
    }
    const auto& a = before.inputs[i];
    const auto& b = now.inputs[i];
    if (a.content_digest != b.content_digest && !b.content_digest.empty()) {
      out.push_back(cat("source content changed (", b.selector, ")"));
    } else if (a.key != b.key) {
      out.push_back(i == 0 ? std::string("the previous step changed") : cat("input ", i, " changed"));
    }
  }
  if (out.empty()) {
    out.push_back("no recorded difference (the cache entry was removed or its content is missing)");
  }
  return out;
}

oci::Json key_parts_to_json(const KeyParts& p) {
  oci::Json fields = oci::Json::array();
  for (const auto& [k, v] : p.fields) {
    fields.push_back({k, v});
  }
  oci::Json inputs = oci::Json::array();
  for (const auto& in : p.inputs) {
    inputs.push_back({{"key", in.key}, {"selector", in.selector}, {"content", in.content_digest}});
  }
  return {{"tag", p.tag}, {"fields", fields}, {"inputs", inputs}};
}

Result<KeyParts> key_parts_from_json(const oci::Json& j) {
  try {
    KeyParts p;
    p.tag = j.at("tag").get<std::string>();
    for (const auto& f : j.at("fields")) {
      p.fields.emplace_back(f.at(0).get<std::string>(), f.at(1).get<std::string>());
    }
    for (const auto& in : j.at("inputs")) {
      p.inputs.push_back({in.at("key").get<std::string>(), in.at("selector").get<std::string>(),
                          in.at("content").get<std::string>()});
    }
    return p;
  } catch (const std::exception& e) {
    return Error(ErrorCode::parse, cat("parse key parts: ", e.what()));
  }
}

}  // namespace kiln::solver
