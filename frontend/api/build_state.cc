#include "frontend/api/build_state.h"

#include <algorithm>
#include <map>

#include "oci/json.h"
#include "oci/platform.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln {

struct BuildState::Node {
  solver::Op op;
  std::vector<std::shared_ptr<const Node>> inputs;
};

namespace {

using NodePtr = std::shared_ptr<const BuildState::Node>;

NodePtr make_node(solver::OpAttrs attrs, std::vector<NodePtr> inputs, solver::OpOrigin origin = {}) {
  auto n = std::make_shared<BuildState::Node>();
  n->op.attrs = std::move(attrs);
  n->op.origin = std::move(origin);
  n->inputs = std::move(inputs);
  return n;
}

// Serializes the nodes reachable from `roots` in post-order, merging
// structurally equal nodes, so equal graphs give equal definitions however
// they were built.
class GraphWriter {
 public:
  int add(const NodePtr& n) {
    auto known = m_index.find(n.get());
    if (known != m_index.end()) {
      return known->second;
    }
    solver::Op op = n->op;
    op.inputs.clear();
    for (const auto& in : n->inputs) {
      op.inputs.push_back(add(in));
    }
    solver::Definition one;
    one.ops.push_back(op);
    std::string text = solver::serialize_definition(one) + "|" + join([&] {
      std::vector<std::string> v;
      for (int i : op.inputs) v.push_back(std::to_string(i));
      return v;
    }(), ",");
    auto same = m_structural.find(text);
    int idx;
    if (same != m_structural.end()) {
      idx = same->second;
    } else {
      idx = static_cast<int>(m_def.ops.size());
      m_def.ops.push_back(std::move(op));
      m_structural.emplace(std::move(text), idx);
    }
    m_index.emplace(n.get(), idx);
    return idx;
  }
  solver::Definition& definition() { return m_def; }

 private:
  solver::Definition m_def;
  std::map<const BuildState::Node*, int> m_index;
  std::map<std::string, int> m_structural;
};

oci::ImageConfig host_config() {
  oci::ImageConfig c;
  oci::Platform p = oci::host_platform();
  c.architecture = p.architecture;
  c.os = p.os;
  c.variant = p.variant;
  return c;
}

}  // namespace

BuildState BuildState::scratch() {
  BuildState s;
  s.m_node = make_node(solver::ScratchSource{}, {});
  s.m_config = host_config();
  return s;
}

BuildState BuildState::image(const ResolvedImage& image) {
  BuildState s;
  solver::ImageSource src;
  src.ref = image.ref;
  src.manifest = image.manifest;
  src.config = image.id;
  s.m_node = make_node(src, {});
  s.m_config = image.config;
  return s;
}

BuildState BuildState::context(const std::string& name, std::vector<std::string> exclude) {
  BuildState s;
  s.m_node = make_node(solver::ContextSource{name, std::move(exclude)}, {});
  return s;
}

BuildState BuildState::http(const solver::HttpSource& source) {
  BuildState s;
  s.m_node = make_node(source, {});
  return s;
}

BuildState BuildState::git(const solver::GitSource& source) {
  BuildState s;
  s.m_node = make_node(source, {});
  return s;
}

bool BuildState::is_context() const { return std::holds_alternative<solver::ContextSource>(m_node->op.attrs); }

std::string BuildState::workdir() const {
  return m_config.config.working_dir.empty() ? std::string("/") : m_config.config.working_dir;
}

BuildState BuildState::with_node(std::shared_ptr<const Node> node, const std::string& created_by) const {
  BuildState s = *this;
  s.m_node = std::move(node);
  if (!created_by.empty()) {
    oci::HistoryEntry e;
    e.created_by = created_by;
    e.comment = "buildkit.dockerfile.v0";
    s.m_pending.push_back({e, s.m_node});
  }
  return s;
}

BuildState BuildState::run(const RunOptions& o) const {
  solver::Exec e;
  e.args = o.args;
  oci::ContainerConfig env_view = m_config.config;
  for (const auto& kv : o.env_override) {
    auto p = split_once(kv, '=');
    env_view.setenv(p ? p->first : kv, p ? p->second : "");
  }
  e.env = env_view.env;
  for (const auto& kv : o.extra_env) {
    auto p = split_once(kv, '=');
    if (p && !env_view.getenv(p->first)) {
      e.env.push_back(kv);
    }
  }
  e.cwd = o.workdir ? *o.workdir : workdir();
  e.user = o.user ? *o.user : m_config.config.user;
  e.network = o.network;
  e.insecure = o.insecure;
  e.cap_add = o.cap_add;
  e.cap_drop = o.cap_drop;
  e.no_new_privileges = o.no_new_privileges;
  e.extra_hosts = o.extra_hosts;
  e.ulimits = o.ulimits;
  std::vector<NodePtr> inputs = {m_node};
  for (const auto& m : o.mounts) {
    solver::MountSpec spec = m.spec;
    spec.from_input = -1;
    if (m.from) {
      spec.from_input = static_cast<int>(inputs.size());
      inputs.push_back(m.from->m_node);
    }
    e.mounts.push_back(spec);
  }
  return with_node(make_node(e, std::move(inputs), o.origin), o.created_by);
}

BuildState BuildState::copy(const BuildState& source, const CopyOptions& o) const {
  solver::Copy c;
  c.sources = o.sources;
  std::string dest = o.dest;
  bool dir_dest = dest.ends_with("/") || dest == "." || dest.ends_with("/.");
  if (!dest.starts_with("/")) {
    dest = path_join(workdir(), dest);
  }
  dest = path_clean(dest);
  if (dir_dest && dest != "/") {
    dest += "/";
  }
  c.dest = dest;
  c.chown = o.chown;
  c.chmod = o.chmod;
  c.link = o.link;
  c.parents = o.parents;
  c.add = o.add;
  c.unpack = o.unpack;
  c.exclude = o.exclude;
  return with_node(make_node(c, {m_node, source.m_node}, o.origin), o.created_by);
}

BuildState BuildState::mkdir(const std::string& path, const std::string& created_by, solver::OpOrigin origin) const {
  solver::Mkdir m;
  m.path = path_clean(path.starts_with("/") ? path : path_join(workdir(), path));
  m.user = m_config.config.user;
  return with_node(make_node(m, {m_node}, std::move(origin)), created_by);
}

#define KILN_CONFIG_SETTER(body) \
  BuildState s = *this;          \
  body;                          \
  return s

BuildState BuildState::with_env(const std::string& key, const std::string& value) const {
  KILN_CONFIG_SETTER(s.m_config.config.setenv(key, value));
}
BuildState BuildState::without_env(const std::string& key) const { KILN_CONFIG_SETTER(s.m_config.config.unsetenv(key)); }
BuildState BuildState::with_workdir(const std::string& dir) const {
  KILN_CONFIG_SETTER(s.m_config.config.working_dir = path_clean(dir.starts_with("/") ? dir : path_join(workdir(), dir)));
}
BuildState BuildState::with_user(const std::string& user) const { KILN_CONFIG_SETTER(s.m_config.config.user = user); }
BuildState BuildState::with_label(const std::string& key, const std::string& value) const {
  KILN_CONFIG_SETTER(s.m_config.config.labels[key] = value);
}
BuildState BuildState::without_label(const std::string& key) const { KILN_CONFIG_SETTER(s.m_config.config.labels.erase(key)); }
BuildState BuildState::with_cmd(std::optional<std::vector<std::string>> cmd) const {
  KILN_CONFIG_SETTER(s.m_config.config.cmd = std::move(cmd));
}
BuildState BuildState::with_entrypoint(std::optional<std::vector<std::string>> entrypoint) const {
  KILN_CONFIG_SETTER(s.m_config.config.entrypoint = std::move(entrypoint); s.m_config.config.cmd.reset());
}
BuildState BuildState::with_exposed_port(const std::string& port) const {
  BuildState s = *this;
  auto& ports = s.m_config.config.exposed_ports;
  if (std::find(ports.begin(), ports.end(), port) == ports.end()) {
    ports.push_back(port);
    std::sort(ports.begin(), ports.end());
  }
  return s;
}
BuildState BuildState::with_volume(const std::string& path) const {
  BuildState s = *this;
  auto& vols = s.m_config.config.volumes;
  if (std::find(vols.begin(), vols.end(), path) == vols.end()) {
    vols.push_back(path);
    std::sort(vols.begin(), vols.end());
  }
  return s;
}
BuildState BuildState::with_stop_signal(const std::string& signal) const {
  KILN_CONFIG_SETTER(s.m_config.config.stop_signal = signal);
}
BuildState BuildState::with_healthcheck(std::optional<oci::Healthcheck> healthcheck) const {
  KILN_CONFIG_SETTER(s.m_config.config.healthcheck = std::move(healthcheck));
}
BuildState BuildState::with_onbuild(std::vector<std::string> triggers) const {
  KILN_CONFIG_SETTER(s.m_config.config.on_build = std::move(triggers));
}
BuildState BuildState::with_shell(std::vector<std::string> shell) const {
  KILN_CONFIG_SETTER(s.m_config.config.shell = std::move(shell));
}
BuildState BuildState::with_author(const std::string& author) const { KILN_CONFIG_SETTER(s.m_config.author = author); }
BuildState BuildState::with_args_escaped(bool escaped) const {
  KILN_CONFIG_SETTER(s.m_config.config.args_escaped = escaped);
}

#undef KILN_CONFIG_SETTER

BuildState BuildState::add_history(const std::string& created_by, const std::string& comment) const {
  BuildState s = *this;
  oci::HistoryEntry e;
  e.created_by = created_by;
  e.comment = comment.empty() ? "buildkit.dockerfile.v0" : comment;
  e.empty_layer = true;
  s.m_pending.push_back({e, nullptr});
  return s;
}

BuildState::Graph BuildState::graph() const {
  GraphWriter w;
  Graph g;
  g.target = w.add(m_node);
  g.definition = std::move(w.definition());
  return g;
}

std::vector<BuildState::PendingHistory> BuildState::pending_history() const {
  GraphWriter w;
  w.add(m_node);
  std::vector<PendingHistory> out;
  for (const auto& p : m_pending) {
    out.push_back({p.entry, p.node ? w.add(p.node) : -1});
  }
  return out;
}

std::string BuildState::to_definition() const {
  GraphWriter w;
  int target = w.add(m_node);
  oci::Json history = oci::Json::array();
  for (const auto& p : m_pending) {
    oci::ImageConfig one;
    one.history.push_back(p.entry);
    oci::Json e = oci::image_config_to_json(one)["history"][0];
    history.push_back({{"entry", e}, {"op", p.node ? w.add(p.node) : -1}});
  }
  oci::Json config = oci::image_config_to_json(m_config);
  oci::Json j = {{"version", 1},
                 {"graph", solver::definition_to_json(w.definition())},
                 {"target", target},
                 {"config", config},
                 {"history", history}};
  return oci::dump_json(j);
}

Result<BuildState> BuildState::from_definition(std::string_view text) {
  KILN_TRY_ASSIGN(oci::Json j, oci::parse_json(text, "build definition"));
  if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("graph") || !j["target"].is_number_integer()) {
    return Error(ErrorCode::parse, "not a kiln build definition (version 1)");
  }
  KILN_TRY_ASSIGN(solver::Definition def, solver::parse_definition(oci::dump_json(j["graph"])));
  std::vector<NodePtr> nodes;
  for (const auto& op : def.ops) {
    std::vector<NodePtr> inputs;
    for (int in : op.inputs) {
      inputs.push_back(nodes[static_cast<size_t>(in)]);
    }
    nodes.push_back(make_node(op.attrs, std::move(inputs), op.origin));
  }
  int target = j["target"].get<int>();
  if (target < 0 || static_cast<size_t>(target) >= nodes.size()) {
    return Error(ErrorCode::parse, "build definition: target is not an op");
  }
  BuildState s;
  s.m_node = nodes[static_cast<size_t>(target)];
  KILN_TRY_ASSIGN(s.m_config, oci::parse_image_config(oci::dump_json(j["config"]), "build definition config"));
  for (const auto& h : j.value("history", oci::Json::array())) {
    oci::Json wrapper = {{"architecture", ""}, {"os", ""}, {"history", oci::Json::array({h["entry"]})}};
    KILN_TRY_ASSIGN(oci::ImageConfig one, oci::parse_image_config(oci::dump_json(wrapper), "history entry"));
    int op = h.value("op", -1);
    if (op >= static_cast<int>(nodes.size())) {
      return Error(ErrorCode::parse, "build definition: history names a missing op");
    }
    s.m_pending.push_back({one.history.at(0), op >= 0 ? nodes[static_cast<size_t>(op)] : nullptr});
  }
  return s;
}

}  // namespace kiln
