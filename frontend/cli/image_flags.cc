#include "frontend/cli/image_flags.h"

#include <cstdlib>

#include "util/strings.h"

namespace kiln::cli {

Result<void> apply_image_flags(std::string epoch, const std::string& format, const std::string& compression,
                               BuildConfig& c) {
  if (epoch.empty()) {
    if (const char* e = std::getenv("SOURCE_DATE_EPOCH"); e != nullptr) {
      epoch = e;
    }
  }
  if (!epoch.empty()) {
    auto n = parse_int(epoch);
    if (!n || *n < 0) {
      return Error(ErrorCode::usage, cat("invalid SOURCE_DATE_EPOCH `", epoch, "`: expected seconds since 1970"));
    }
    c.source_date_epoch = *n;
  }
  if (format != "oci" && format != "docker") {
    return Error(ErrorCode::usage, cat("invalid --format `", format, "`: expected oci or docker"));
  }
  c.docker_format = format == "docker";
  if (compression == "gzip") {
    c.compression = oci::media::Compression::gzip;
  } else if (compression == "zstd") {
    c.compression = oci::media::Compression::zstd;
  } else if (compression == "none") {
    c.compression = oci::media::Compression::none;
  } else {
    return Error(ErrorCode::usage, cat("invalid --compression `", compression, "`: expected gzip, zstd or none"));
  }
  return {};
}

}  // namespace kiln::cli
