#include "solver/definition.h"

#include <algorithm>

#include "util/strings.h"

namespace kiln::solver {

using oci::Json;
using oci::JsonReader;

const char* network_mode_name(NetworkMode m) { return m == NetworkMode::none ? "none" : "host"; }

const char* op_kind(const Op& op) {
  struct V {
    const char* operator()(const ScratchSource&) const { return "scratch"; }
    const char* operator()(const ImageSource&) const { return "image"; }
    const char* operator()(const ContextSource&) const { return "context"; }
    const char* operator()(const HttpSource&) const { return "http"; }
    const char* operator()(const GitSource&) const { return "git"; }
    const char* operator()(const Exec&) const { return "exec"; }
    const char* operator()(const Copy&) const { return "copy"; }
    const char* operator()(const Mkdir&) const { return "mkdir"; }
  };
  return std::visit(V{}, op.attrs);
}

namespace {

Json mount_to_json(const MountSpec& m) {
  Json j = {{"type", m.type}, {"target", m.target}};
  if (!m.source.empty()) j["source"] = m.source;
  if (m.from_input >= 0) j["from_input"] = m.from_input;
  if (m.readonly) j["readonly"] = true;
  if (!m.id.empty()) j["id"] = m.id;
  if (!m.sharing.empty()) j["sharing"] = m.sharing;
  if (m.mode) j["mode"] = *m.mode;
  if (m.uid) j["uid"] = *m.uid;
  if (m.gid) j["gid"] = *m.gid;
  if (m.size != 0) j["size"] = m.size;
  if (m.required) j["required"] = true;
  if (!m.env.empty()) j["env"] = m.env;
  if (m.in_place) j["in_place"] = true;
  return j;
}

Result<MountSpec> mount_from_json(const Json& j) {
  JsonReader r(j, "mount");
  MountSpec m;
  m.type = r.string("type");
  m.target = r.string("target");
  m.source = r.string("source");
  m.from_input = static_cast<int>(r.opt_integer("from_input").value_or(-1));
  m.readonly = r.boolean("readonly");
  m.id = r.string("id");
  m.sharing = r.string("sharing");
  if (auto v = r.opt_integer("mode")) m.mode = static_cast<uint32_t>(*v);
  if (auto v = r.opt_integer("uid")) m.uid = static_cast<uint32_t>(*v);
  if (auto v = r.opt_integer("gid")) m.gid = static_cast<uint32_t>(*v);
  m.size = static_cast<uint64_t>(r.integer("size"));
  m.required = r.boolean("required");
  m.env = r.string("env");
  m.in_place = r.boolean("in_place");
  KILN_TRY(r.status());
  return m;
}

template <typename T>
void put_list(Json& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = v;
}

struct AttrsToJson {
  Json& j;
  void operator()(const ScratchSource&) const {}
  void operator()(const ImageSource& s) const {
    j["ref"] = s.ref;
    j["manifest"] = s.manifest.str();
    j["config"] = s.config.str();
  }
  void operator()(const ContextSource& s) const {
    j["name"] = s.name;
    put_list(j, "exclude", s.exclude);
  }
  void operator()(const HttpSource& s) const {
    j["url"] = s.url;
    if (!s.checksum.empty()) j["checksum"] = s.checksum;
    if (!s.filename.empty()) j["filename"] = s.filename;
  }
  void operator()(const GitSource& s) const {
    j["url"] = s.url;
    if (!s.ref.empty()) j["ref"] = s.ref;
    if (!s.subdir.empty()) j["subdir"] = s.subdir;
    if (s.keep_git_dir) j["keep_git_dir"] = true;
  }
  void operator()(const Exec& e) const {
    j["args"] = e.args;
    put_list(j, "env", e.env);
    j["cwd"] = e.cwd;
    if (!e.user.empty()) j["user"] = e.user;
    j["network"] = network_mode_name(e.network);
    if (e.insecure) j["insecure"] = true;
    if (!e.mounts.empty()) {
      Json ms = Json::array();
      for (const auto& m : e.mounts) ms.push_back(mount_to_json(m));
      j["mounts"] = ms;
    }
    put_list(j, "cap_add", e.cap_add);
    put_list(j, "cap_drop", e.cap_drop);
    if (e.no_new_privileges) j["no_new_privileges"] = true;
    put_list(j, "extra_hosts", e.extra_hosts);
    put_list(j, "ulimits", e.ulimits);
    if (!e.hostname.empty()) j["hostname"] = e.hostname;
  }
  void operator()(const Copy& c) const {
    j["sources"] = c.sources;
    j["dest"] = c.dest;
    if (!c.chown.empty()) j["chown"] = c.chown;
    if (!c.chmod.empty()) j["chmod"] = c.chmod;
    if (c.link) j["link"] = true;
    if (c.parents) j["parents"] = true;
    if (c.unpack) j["unpack"] = true;
    if (c.add) j["add"] = true;
    put_list(j, "exclude", c.exclude);
  }
  void operator()(const Mkdir& m) const {
    j["path"] = m.path;
    if (!m.user.empty()) j["user"] = m.user;
  }
};

Result<OpAttrs> attrs_from_json(const std::string& kind, JsonReader& r) {
  auto strings = [&](const char* k) { return r.opt_strings(k).value_or(std::vector<std::string>{}); };
  if (kind == "scratch") {
    return OpAttrs(ScratchSource{});
  }
  if (kind == "image") {
    ImageSource s;
    s.ref = r.string("ref");
    std::string m = r.string("manifest");
    std::string c = r.string("config");
    KILN_TRY(r.status());
    KILN_TRY_ASSIGN(s.manifest, oci::Digest::parse(m));
    KILN_TRY_ASSIGN(s.config, oci::Digest::parse(c));
    return OpAttrs(s);
  }
  if (kind == "context") {
    ContextSource s;
    s.name = r.string("name");
    s.exclude = strings("exclude");
    return OpAttrs(s);
  }
  if (kind == "http") {
    HttpSource s;
    s.url = r.string("url");
    s.checksum = r.string("checksum");
    s.filename = r.string("filename");
    return OpAttrs(s);
  }
  if (kind == "git") {
    GitSource s;
    s.url = r.string("url");
    s.ref = r.string("ref");
    s.subdir = r.string("subdir");
    s.keep_git_dir = r.boolean("keep_git_dir");
    return OpAttrs(s);
  }
  if (kind == "exec") {
    Exec e;
    e.args = strings("args");
    e.env = strings("env");
    e.cwd = r.string("cwd");
    e.user = r.string("user");
    std::string net = r.string("network");
    if (net == "none") {
      e.network = NetworkMode::none;
    } else if (!net.empty() && net != "host") {
      return Error(ErrorCode::parse, cat("unknown network mode `", net, "`"));
    }
    e.insecure = r.boolean("insecure");
    Json mounts = r.take("mounts");
    if (mounts.is_array()) {
      for (const auto& m : mounts) {
        KILN_TRY_ASSIGN(MountSpec ms, mount_from_json(m));
        e.mounts.push_back(std::move(ms));
      }
    }
    e.cap_add = strings("cap_add");
    e.cap_drop = strings("cap_drop");
    e.no_new_privileges = r.boolean("no_new_privileges");
    e.extra_hosts = strings("extra_hosts");
    e.ulimits = strings("ulimits");
    e.hostname = r.string("hostname");
    if (e.args.empty()) {
      return Error(ErrorCode::parse, "exec op without arguments");
    }
    return OpAttrs(e);
  }
  if (kind == "copy") {
    Copy c;
    c.sources = strings("sources");
    c.dest = r.string("dest");
    c.chown = r.string("chown");
    c.chmod = r.string("chmod");
    c.link = r.boolean("link");
    c.parents = r.boolean("parents");
    c.unpack = r.boolean("unpack");
    c.add = r.boolean("add");
    c.exclude = strings("exclude");
    return OpAttrs(c);
  }
  if (kind == "mkdir") {
    Mkdir m;
    m.path = r.string("path");
    m.user = r.string("user");
    if (!m.path.starts_with("/")) {
      return Error(ErrorCode::parse, "mkdir op needs an absolute path");
    }
    return OpAttrs(m);
  }
  return Error(ErrorCode::parse, cat("unknown op kind `", kind, "`"));
}

Json origin_to_json(const OpOrigin& o) {
  Json j = Json::object();
  if (!o.description.empty()) j["description"] = o.description;
  if (!o.stage.empty()) j["stage"] = o.stage;
  if (o.step != 0) j["step"] = o.step;
  if (o.step_count != 0) j["step_count"] = o.step_count;
  if (!o.file.empty()) j["file"] = o.file;
  if (o.line_begin != 0) j["line_begin"] = o.line_begin;
  if (o.line_end != 0) j["line_end"] = o.line_end;
  return j;
}

Result<OpOrigin> origin_from_json(const Json& j) {
  OpOrigin o;
  if (j.is_null()) {
    return o;
  }
  JsonReader r(j, "op origin");
  o.description = r.string("description");
  o.stage = r.string("stage");
  o.step = static_cast<int>(r.integer("step"));
  o.step_count = static_cast<int>(r.integer("step_count"));
  o.file = r.string("file");
  o.line_begin = static_cast<int>(r.integer("line_begin"));
  o.line_end = static_cast<int>(r.integer("line_end"));
  KILN_TRY(r.status());
  return o;
}

}  // namespace

Json definition_to_json(const Definition& d) {
  Json ops = Json::array();
  for (const auto& op : d.ops) {
    Json attrs = Json::object();
    std::visit(AttrsToJson{attrs}, op.attrs);
    Json j = {{"kind", op_kind(op)}, {"attrs", attrs}};
    if (!op.inputs.empty()) {
      j["inputs"] = op.inputs;
    }
    Json origin = origin_to_json(op.origin);
    if (!origin.empty()) {
      j["origin"] = origin;
    }
    ops.push_back(j);
  }
  return {{"version", k_definition_version}, {"ops", ops}};
}

std::string serialize_definition(const Definition& d) { return oci::dump_json(definition_to_json(d)); }

Result<Definition> parse_definition(std::string_view text) {
  KILN_TRY_ASSIGN(Json j, oci::parse_json(text, "build definition"));
  JsonReader top(std::move(j), "build definition");
  int64_t version = top.integer("version");
  Json ops = top.take("ops");
  KILN_TRY(top.status());
  if (version != k_definition_version) {
    return Error(ErrorCode::parse, cat("build definition version ", version, " is not supported (this kiln reads ",
                                       k_definition_version, ")"));
  }
  if (!ops.is_array()) {
    return Error(ErrorCode::parse, "build definition has no `ops` list");
  }
  Definition d;
  for (size_t i = 0; i < ops.size(); ++i) {
    JsonReader r(ops[i], cat("op ", i));
    std::string kind = r.string("kind");
    Json attrs = r.take("attrs");
    Json inputs = r.take("inputs");
    Json origin = r.take("origin");
    KILN_TRY(r.status());
    JsonReader ar(attrs.is_null() ? Json::object() : attrs, cat("op ", i, " attrs"));
    Op op;
    KILN_TRY_ASSIGN(op.attrs, attrs_from_json(kind, ar).context(cat("op ", i)));
    KILN_TRY(ar.status().context(cat("op ", i)));
    if (inputs.is_array()) {
      for (const auto& in : inputs) {
        if (!in.is_number_integer()) {
          return Error(ErrorCode::parse, cat("op ", i, ": inputs must be op indexes"));
        }
        op.inputs.push_back(in.get<int>());
      }
    } else if (!inputs.is_null()) {
      return Error(ErrorCode::parse, cat("op ", i, ": inputs must be a list"));
    }
    KILN_TRY_ASSIGN(op.origin, origin_from_json(origin));
    d.ops.push_back(std::move(op));
  }
  KILN_TRY(validate_definition(d));
  return d;
}

namespace {

bool has_dotdot_component(std::string_view path) {
  for (const auto& part : split(path, '/')) {
    if (part == "..") {
      return true;
    }
  }
  return false;
}

// RUN --mount values a hostile definition could abuse (issue 11): `..` in a
// cache id or a source is refused outright rather than cleaned (buildah's
// CVE-2024-9675 joined an id like `../../../root` onto its cache dir), and
// only known types and sharing modes pass.
Result<void> validate_mount(const MountSpec& m, size_t op) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::invalid_input, cat("RUN --mount=type=", m.type, " (op ", op, "): ", why));
  };
  static const char* const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
  if (std::find(std::begin(types), std::end(types), m.type) == std::end(types)) {
    return bad("unknown mount type (use bind, cache, tmpfs, secret or ssh)");
  }
  if (m.type == "cache" && has_dotdot_component(m.id)) {
    return bad(cat("cache id `", m.id, "` must not contain `..`"));
  }
  if ((m.type == "bind" || m.type == "cache") && has_dotdot_component(m.source)) {
    return bad(cat("source `", m.source, "` must not contain `..`"));
  }
  if (m.type == "cache" && !m.sharing.empty() && m.sharing != "shared" && m.sharing != "private" &&
      m.sharing != "locked") {
    return bad(cat("unsupported sharing `", m.sharing, "` (use shared, private or locked)"));
  }
  if (m.in_place && (m.type != "bind" || (!m.readonly && m.id.empty()))) {
    return bad("in_place needs a bind mount, and a step token (id) when writable");
  }
  if (m.target.find('\0') != std::string::npos || m.source.find('\0') != std::string::npos) {
    return bad("a path contains a NUL byte");
  }
  return {};
}

}  // namespace

Result<void> validate_definition(const Definition& d) {
  for (size_t i = 0; i < d.ops.size(); ++i) {
    const Op& op = d.ops[i];
    for (int in : op.inputs) {
      if (in < 0 || static_cast<size_t>(in) >= i) {
        return Error(ErrorCode::invalid_input,
                     cat("build definition: op ", i, " (", op_kind(op), ") names input ", in,
                         in >= 0 && static_cast<size_t>(in) >= i ? ", which is not an earlier op (a cycle?)" : ""));
      }
    }
    size_t want_min = 0;
    size_t want_max = 0;
    if (const auto* e = std::get_if<Exec>(&op.attrs)) {
      want_min = 1;
      want_max = 1 + e->mounts.size();
      for (const auto& m : e->mounts) {
        KILN_TRY(validate_mount(m, i));
        if (m.from_input >= static_cast<int>(op.inputs.size())) {
          return Error(ErrorCode::invalid_input, cat("build definition: op ", i, " mount names a missing input"));
        }
      }
    } else if (std::holds_alternative<Copy>(op.attrs)) {
      want_min = 2;
      want_max = 2;
    } else if (std::holds_alternative<Mkdir>(op.attrs)) {
      want_min = 1;
      want_max = 1;
    }
    if (op.inputs.size() < want_min || op.inputs.size() > want_max) {
      return Error(ErrorCode::invalid_input,
                   cat("build definition: op ", i, " (", op_kind(op), ") has ", op.inputs.size(), " inputs"));
    }
  }
  return {};
}

}  // namespace kiln::solver
