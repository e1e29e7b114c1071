// Media types of the OCI image spec (media-types.md) and Docker's v2 schema 2.
#pragma once

#include <string_view>

namespace kiln::oci::media {

inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view k_oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view k_oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view k_oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view k_oci_layout_version = "1.0.0";
inline constexpr std::string_view k_oci_empty = "application/vnd.oci.empty.v1+json";

inline constexpr std::string_view k_docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view k_docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view k_docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view k_docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view k_docker_layer_zstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";

/// Annotation naming an image in an OCI layout (annotations.md).
inline constexpr std::string_view k_ref_name = "org.opencontainers.image.ref.name";
inline constexpr std::string_view k_created = "org.opencontainers.image.created";

inline bool is_manifest(std::string_view t) { return t == k_oci_manifest || t == k_docker_manifest; }
inline bool is_index(std::string_view t) { return t == k_oci_index || t == k_docker_manifest_list; }
inline bool is_layer(std::string_view t) {
  return t == k_oci_layer || t == k_oci_layer_gzip || t == k_oci_layer_zstd || t == k_docker_layer ||
         t == k_docker_layer_gzip || t == k_docker_layer_zstd ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
         t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

enum class Compression { none, gzip, zstd };

/// Layer media type for a compression in OCI or Docker format.
inline std::string_view layer_type(Compression c, bool docker) {
  switch (c) {
    case Compression::none: return docker ? k_docker_layer : k_oci_layer;
    case Compression::gzip: return docker ? k_docker_layer_gzip : k_oci_layer_gzip;
    case Compression::zstd: return docker ? k_docker_layer_zstd : k_oci_layer_zstd;
  }
  return k_oci_layer;
}

/// Compression a layer media type declares (gzip for unknown "+gzip" types).
inline Compression layer_compression(std::string_view t) {
  if (t.ends_with("+zstd") || t.ends_with(".zstd")) {
    return Compression::zstd;
  }
  if (t.ends_with("gzip")) {
    return Compression::gzip;
  }
  return Compression::none;
}

}  // namespace kiln::oci::media
