// Timestamps in the forms OCI documents use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

/// Seconds and nanoseconds since the Unix epoch, UTC.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

Timestamp now();
/// RFC 3339 in UTC as Go writes it ("2024-05-01T12:00:00Z", or with
/// ".123456789Z" trimmed of trailing zeros when nanos != 0).
std::string format_rfc3339(Timestamp t);
/// Parses RFC 3339 (any offset, optional fraction). nullopt when malformed.
std::optional<Timestamp> parse_rfc3339(std::string_view s);

/// SOURCE_DATE_EPOCH from the environment when set and valid.
std::optional<int64_t> source_date_epoch_from_env();

}  // namespace kiln
