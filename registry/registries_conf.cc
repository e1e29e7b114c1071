#include "registry/registries_conf.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include <toml++/toml.h>

#include "util/file.h"
#include "util/log.h"
#include "util/strings.h"

namespace kiln::registry {

namespace {

std::string home_dir() {
  const char* h = std::getenv("HOME");
  if (h != nullptr && *h != '\0') {
    return h;
  }
  if (struct passwd* pw = ::getpwuid(::getuid())) {
    return pw->pw_dir;
  }
  return "/";
}

Result<Mirror> parse_mirror(const toml::table& t, std::string_view what) {
  Mirror m;
  m.location = t["location"].value_or(std::string());
  m.insecure = t["insecure"].value_or(false);
  std::string from = t["pull-from-mirror"].value_or(std::string("all"));
  if (from == "digest-only") {
    m.pull_from = PullFromMirror::digest_only;
  } else if (from == "tag-only") {
    m.pull_from = PullFromMirror::tag_only;
  } else if (from != "all" && !from.empty()) {
    return Error(ErrorCode::parse, cat(what, ": invalid pull-from-mirror `", from, "`"));
  }
  if (m.location.empty()) {
    return Error(ErrorCode::parse, cat(what, ": a [[registry.mirror]] has no location"));
  }
  return m;
}

Result<RegistryEntry> parse_entry(const toml::table& t, std::string_view what) {
  RegistryEntry e;
  e.prefix = t["prefix"].value_or(std::string());
  e.location = t["location"].value_or(std::string());
  e.insecure = t["insecure"].value_or(false);
  e.blocked = t["blocked"].value_or(false);
  e.mirror_by_digest_only = t["mirror-by-digest-only"].value_or(false);
  if (e.prefix.empty()) {
    e.prefix = e.location;
  }
  if (e.prefix.empty()) {
    return Error(ErrorCode::parse, cat(what, ": a [[registry]] has neither prefix nor location"));
  }
  if (e.prefix.starts_with("*.") && !e.location.empty()) {
    return Error(ErrorCode::parse, cat(what, ": wildcard prefix `", e.prefix, "` cannot have a location"));
  }
  if (const auto* mirrors = t["mirror"].as_array()) {
    for (const auto& node : *mirrors) {
      if (const auto* mt = node.as_table()) {
        KILN_TRY_ASSIGN(Mirror m, parse_mirror(*mt, what));
        if (e.mirror_by_digest_only) {
          m.pull_from = PullFromMirror::digest_only;
        }
        e.mirrors.push_back(std::move(m));
      }
    }
  }
  return e;
}

// Does `prefix` match the reference name "domain/path"?
bool prefix_matches(std::string_view prefix, std::string_view name) {
  if (prefix.starts_with("*.")) {
    std::string_view domain = name.substr(0, name.find('/'));
    return domain.ends_with(prefix.substr(1));
  }
  return name == prefix || (name.starts_with(prefix) && name.size() > prefix.size() && name[prefix.size()] == '/');
}

// Re-parses "location + rest-of-name" with ref's tag and digest.
Result<oci::Reference> rewrite(const oci::Reference& ref, std::string_view prefix, std::string_view location) {
  std::string name = ref.name();
  std::string text = cat(location, name.substr(prefix.size()));
  if (ref.tag_given || !ref.digest) {
    text += ":" + ref.tag;
  }
  if (ref.digest) {
    text += "@" + ref.digest->str();
  }
  KILN_TRY_ASSIGN(oci::Reference out, oci::parse_reference(text));
  out.tag_given = ref.tag_given;
  return out;
}

}  // namespace

Result<RegistriesConfig> RegistriesConfig::parse(std::string_view text, std::string_view what) {
  toml::table root;
  try {
    root = toml::parse(text, what);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << e.description() << " (line " << e.source().begin.line << ")";
    return Error(ErrorCode::parse, cat("parse registries configuration `", what, "`: ", os.str()));
  }
  RegistriesConfig c;
  if (root.contains("registries") && root["registries"].is_table()) {
    log::warning("registries configuration `", what, "` uses the v1 format ([registries.*]); kiln reads only v2");
  }
  if (const auto* search = root["unqualified-search-registries"].as_array()) {
    c.m_search_set = true;
    for (const auto& n : *search) {
      if (auto s = n.value<std::string>()) {
        c.m_search.push_back(*s);
      }
    }
  }
  if (const auto* regs = root["registry"].as_array()) {
    for (const auto& node : *regs) {
      if (const auto* t = node.as_table()) {
        KILN_TRY_ASSIGN(RegistryEntry e, parse_entry(*t, what));
        c.m_registries.push_back(std::move(e));
      }
    }
  }
  if (const auto* aliases = root["aliases"].as_table()) {
    for (const auto& [k, v] : *aliases) {
      if (auto s = v.value<std::string>()) {
        c.m_aliases[std::string(k.str())] = *s;
      }
    }
  }
  return c;
}

void RegistriesConfig::merge(RegistriesConfig later) {
  if (later.m_search_set) {
    m_search = std::move(later.m_search);
    m_search_set = true;
  }
  for (auto& e : later.m_registries) {
    auto it = std::find_if(m_registries.begin(), m_registries.end(),
                           [&](const RegistryEntry& x) { return x.prefix == e.prefix; });
    if (it != m_registries.end()) {
      *it = std::move(e);
    } else {
      m_registries.push_back(std::move(e));
    }
  }
  for (auto& [k, v] : later.m_aliases) {
    m_aliases[k] = std::move(v);
  }
}

Result<RegistriesConfig> RegistriesConfig::load(const std::string& main_file) {
  std::string main = main_file;
  if (main.empty()) {
    const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
    main = env != nullptr ? env : "";
  }
  std::string user_dir = path_join(home_dir(), ".config/containers");
  if (main.empty()) {
    std::string user = path_join(user_dir, "registries.conf");
    main = path_exists(user) ? user : "/etc/containers/registries.conf";
  }
  std::vector<std::string> files{main};
  for (const std::string& dir : {std::string("/etc/containers/registries.conf.d"), path_join(user_dir, "registries.conf.d")}) {
    auto names = list_dir(dir);
    if (!names) {
      continue;
    }
    for (const auto& n : *names) {
      if (n.ends_with(".conf")) {
        files.push_back(path_join(dir, n));
      }
    }
  }
  RegistriesConfig out;
  for (const auto& f : files) {
    KILN_TRY_ASSIGN(auto text, read_file_if_exists(f));
    if (!text) {
      continue;
    }
    KILN_TRY_ASSIGN(RegistriesConfig c, parse(*text, f));
    out.merge(std::move(c));
  }
  return out;
}

const RegistryEntry* RegistriesConfig::find(std::string_view name) const {
  const RegistryEntry* best = nullptr;
  for (const auto& e : m_registries) {
    if (!prefix_matches(e.prefix, name)) {
      continue;
    }
    // Longest match wins; an exact prefix beats a wildcard.
    bool better = best == nullptr || (best->prefix.starts_with("*.") && !e.prefix.starts_with("*.")) ||
                  (best->prefix.starts_with("*.") == e.prefix.starts_with("*.") && e.prefix.size() > best->prefix.size());
    if (better) {
      best = &e;
    }
  }
  return best;
}

bool RegistriesConfig::insecure(std::string_view host) const {
  for (const auto& e : m_registries) {
    std::string_view loc = e.location.empty() ? std::string_view(e.prefix) : std::string_view(e.location);
    if ((loc.substr(0, loc.find('/')) == host || prefix_matches(e.prefix, cat(host, "/x"))) && e.insecure) {
      return true;
    }
    for (const auto& m : e.mirrors) {
      if (m.insecure && std::string_view(m.location).substr(0, m.location.find('/')) == host) {
        return true;
      }
    }
  }
  return false;
}

Result<std::vector<oci::Reference>> RegistriesConfig::qualify(std::string_view text) const {
  KILN_TRY_ASSIGN(oci::Reference ref, oci::parse_reference(text));
  if (ref.domain_given) {
    return std::vector<oci::Reference>{ref};
  }
  // The short name as typed, without tag or digest.
  std::string_view name = text.substr(0, text.find('@'));
  auto colon = name.rfind(':');
  if (colon != std::string_view::npos && name.find('/', colon) == std::string_view::npos) {
    name = name.substr(0, colon);
  }
  std::string suffix = ref.tag_given ? ":" + ref.tag : "";
  if (ref.digest) {
    suffix += "@" + ref.digest->str();
  }
  auto alias = m_aliases.find(std::string(name));
  if (alias == m_aliases.end()) {
    alias = m_aliases.find(ref.path);  // "library/busybox" spelled out
  }
  if (alias != m_aliases.end()) {
    KILN_TRY_ASSIGN(oci::Reference a, oci::parse_reference(alias->second + suffix));
    return std::vector<oci::Reference>{a};
  }
  std::vector<oci::Reference> out;
  for (const auto& reg : m_search) {
    auto r = reg == "docker.io" ? oci::parse_reference(text) : oci::parse_reference_in(text, reg);
    if (r) {
      out.push_back(std::move(*r));
    }
  }
  if (out.empty()) {
    out.push_back(ref);
  }
  return out;
}

Result<std::vector<PullSource>> RegistriesConfig::pull_sources(const oci::Reference& ref) const {
  const RegistryEntry* e = find(ref.name());
  if (e == nullptr) {
    return std::vector<PullSource>{PullSource{ref, insecure(ref.domain), false}};
  }
  if (e->blocked) {
    return Error(ErrorCode::invalid_input,
                 cat("registry `", ref.domain, "` is blocked in the registries configuration (prefix `", e->prefix,
                     "`): cannot pull `", ref.str(), "`"));
  }
  std::string prefix = e->prefix.starts_with("*.") ? ref.domain : e->prefix;
  std::vector<PullSource> out;
  bool by_digest = ref.digest.has_value();
  for (const auto& m : e->mirrors) {
    if ((m.pull_from == PullFromMirror::digest_only && !by_digest) ||
        (m.pull_from == PullFromMirror::tag_only && by_digest)) {
      continue;
    }
    auto r = rewrite(ref, prefix, m.location);
    if (r) {
      out.push_back(PullSource{std::move(*r), m.insecure, true});
    } else {
      log::warning("skipping mirror `", m.location, "`: ", r.error().render());
    }
  }
  std::string location = e->location.empty() ? prefix : e->location;
  KILN_TRY_ASSIGN(oci::Reference primary, rewrite(ref, prefix, location));
  out.push_back(PullSource{std::move(primary), e->insecure, false});
  return out;
}

}  // namespace kiln::registry
