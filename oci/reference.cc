#include "oci/reference.h"

#include <cctype>

#include "util/strings.h"

namespace kiln::oci {

namespace {

Error bad(std::string_view text, std::string_view why) {
  return Error(ErrorCode::invalid_input, cat("invalid reference `", text, "`: ", why));
}

bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_alnum_lower(c.front()) || !is_alnum_lower(c.back())) {
    return false;
  }
  size_t i = 0;
  while (i < c.size()) {
    if (is_alnum_lower(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !is_alnum_lower(c[j])) {
      ++j;
    }
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) {
      return false;
    }
    i = j;
  }
  return true;
}

bool valid_domain(std::string_view d) {
  if (d.empty()) {
    return false;
  }
  std::string_view host = d;
  auto colon = d.rfind(':');
  if (!d.empty() && d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    host = d.substr(0, close + 1);
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !parse_uint(rest.substr(1))) {
        return false;
      }
    }
    return true;
  }
  if (colon != std::string_view::npos) {
    host = d.substr(0, colon);
    if (!parse_uint(d.substr(colon + 1))) {
      return false;
    }
  }
  for (const auto& comp : split(host, '.')) {
    if (comp.empty() || !std::isalnum(static_cast<unsigned char>(comp.front())) ||
        !std::isalnum(static_cast<unsigned char>(comp.back()))) {
      return false;
    }
    for (char c : comp) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
  }
  return true;
}

bool looks_like_domain(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == "localhost" || first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
}

Result<Reference> parse_impl(std::string_view text, std::string_view default_domain, bool library_prefix) {
  if (text.empty()) {
    return bad(text, "empty reference");
  }
  if (text.size() > 4096) {
    return bad(text.substr(0, 64), "too long");
  }
  Reference ref;
  std::string_view rest = text;
  auto at = rest.find('@');
  if (at != std::string_view::npos) {
    auto d = Digest::parse(rest.substr(at + 1));
    if (!d) {
      return bad(text, d.error().message());
    }
    ref.digest = *d;
    rest = rest.substr(0, at);
  }
  // A tag is after the last ':' that follows the last '/'.
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    ref.tag_given = true;
    rest = rest.substr(0, colon);
    if (!is_valid_tag(ref.tag)) {
      return bad(text, cat("invalid tag `", ref.tag, "`"));
    }
  }
  std::string_view name = rest;
  auto first_slash = name.find('/');
  if (first_slash != std::string_view::npos && looks_like_domain(name.substr(0, first_slash))) {
    ref.domain = std::string(name.substr(0, first_slash));
    ref.path = std::string(name.substr(first_slash + 1));
    ref.domain_given = true;
    if (!valid_domain(ref.domain)) {
      return bad(text, cat("invalid registry `", ref.domain, "`"));
    }
    if (ref.domain == "index.docker.io") {
      ref.domain = std::string(k_default_domain);
    }
  } else {
    ref.domain = std::string(default_domain);
    ref.path = std::string(name);
  }
  if (ref.domain == k_default_domain && ref.path.find('/') == std::string::npos && library_prefix) {
    ref.path = "library/" + ref.path;
  }
  if (ref.path.empty()) {
    return bad(text, "empty repository name");
  }
  for (const auto& comp : split(ref.path, '/')) {
    if (comp.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
      return bad(text, "repository name must be lowercase");
    }
    if (!valid_path_component(comp)) {
      return bad(text, cat("invalid repository component `", comp, "`"));
    }
  }
  if (ref.name().size() > 255) {
    return bad(text, "repository name longer than 255 characters");
  }
  if (!ref.tag_given && !ref.digest) {
    ref.tag = std::string(k_default_tag);
  }
  return ref;
}

}  // namespace

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) {
    return false;
  }
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag.front())) {
    return false;
  }
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (digest) {
    out += "@" + digest->str();
  }
  return out;
}

std::string Reference::familiar() const {
  std::string out;
  if (domain == k_default_domain) {
    out = path.starts_with("library/") ? path.substr(8) : path;
  } else {
    out = name();
  }
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (digest) {
    out += "@" + digest->str();
  }
  return out;
}

Reference Reference::with_tag(std::string new_tag) const {
  Reference r = *this;
  r.tag = std::move(new_tag);
  r.tag_given = true;
  r.digest.reset();
  return r;
}

Result<Reference> parse_reference(std::string_view text) { return parse_impl(text, k_default_domain, true); }

Result<Reference> parse_reference_in(std::string_view text, std::string_view domain) {
  return parse_impl(text, domain, domain == k_default_domain);
}

}  // namespace kiln::oci
