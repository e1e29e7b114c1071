#include "util/time.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "util/strings.h"

namespace kiln {

Timestamp now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return Timestamp{ts.tv_sec, static_cast<int32_t>(ts.tv_nsec)};
}

std::string format_rfc3339(Timestamp t) {
  time_t secs = static_cast<time_t>(t.seconds);
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (t.nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09d", t.nanos);
    std::string f = frac;
    while (f.back() == '0') {
      f.pop_back();
    }
    out += f;
  }
  out += "Z";
  return out;
}

std::optional<Timestamp> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20) {
    return std::nullopt;
  }
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) {
    return std::nullopt;
  }
  size_t i = 19;
  int32_t nanos = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && str[i] >= '0' && str[i] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (str[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 9) {
      nanos *= 10;
    }
  }
  int offset = 0;
  if (i < str.size() && (str[i] == 'Z' || str[i] == 'z')) {
    ++i;
  } else if (i + 6 <= str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (str[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != str.size()) {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(::timegm(&tm)) - offset;
  return Timestamp{secs, nanos};
}

std::optional<int64_t> source_date_epoch_from_env() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (v == nullptr || *v == '\0') {
    return std::nullopt;
  }
  auto n = parse_int(v);
  if (!n || *n < 0) {
    return std::nullopt;
  }
  return n;
}

}  // namespace kiln
