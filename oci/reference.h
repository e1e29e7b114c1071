// Image references: [registry[:port]/]repository[:tag][@digest], normalized
// the way Docker and the distribution project do (distribution/reference
// grammar): `busybox` = `docker.io/library/busybox:latest`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "oci/digest.h"
#include "util/result.h"

namespace kiln::oci {

inline constexpr std::string_view k_default_domain = "docker.io";
inline constexpr std::string_view k_default_tag = "latest";
inline constexpr std::string_view k_local_domain = "localhost";

struct Reference {
  std::string domain;  ///< "docker.io", "localhost", "registry.example:5000"
  std::string path;    ///< "library/busybox", "team/app"
  std::string tag;     ///< "" only when a digest is given and no tag
  std::optional<Digest> digest;
  bool domain_given = false;  ///< the text named a registry (not a short name)
  bool tag_given = false;     ///< the text named a tag (else "latest" was applied)

  /// "docker.io/library/busybox"
  std::string name() const { return domain + "/" + path; }
  /// Fully normalized: "docker.io/library/busybox:latest[@sha256:...]".
  std::string str() const;
  /// Docker's short form for display: "busybox:latest", "team/app:1",
  /// "localhost/app:1", "reg:5000/x:y".
  std::string familiar() const;
  /// The same repository with another tag (digest dropped).
  Reference with_tag(std::string tag) const;
};

/// Parses and normalizes. A name without a registry gets `docker.io` (and
/// `library/` when it has one component); no tag and no digest gets `latest`.
/// Errors: invalid_input with "invalid reference `X`: <reason>" (uppercase
/// repository, bad tag, bad digest, empty component, too long).
Result<Reference> parse_reference(std::string_view text);

/// Parses a short name with `domain` as its registry instead of docker.io
/// (no `library/` prefix), e.g. ("app:1", "localhost") -> localhost/app:1.
/// A text that names a registry keeps its own.
Result<Reference> parse_reference_in(std::string_view text, std::string_view domain);

/// True for a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(std::string_view tag);

}  // namespace kiln::oci
