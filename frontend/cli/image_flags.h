// Flags every image-producing command shares (`kiln bud`, and the stepwise
// `run`/`copy`/`commit`): SOURCE_DATE_EPOCH, --format, --compression.
#pragma once

#include <string>

#include "frontend/api/build.h"
#include "util/result.h"

namespace kiln::cli {

/// Sets c.source_date_epoch from `epoch` (seconds since 1970; "" = the
/// SOURCE_DATE_EPOCH environment variable, unset = none), c.docker_format
/// from `format` ("oci" or "docker") and c.compression from `compression`
/// ("gzip", "zstd" or "none"). Errors: usage naming the bad value.
Result<void> apply_image_flags(std::string epoch, const std::string& format, const std::string& compression,
                               BuildConfig& c);

}  // namespace kiln::cli
