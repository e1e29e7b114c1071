#include "util/result.h"

#include <cstdio>
#include <cstring>

namespace kiln {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input: return "invalid_input";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::io: return "io";
    case ErrorCode::syscall: return "syscall";
    case ErrorCode::parse: return "parse";
    case ErrorCode::network: return "network";
    case ErrorCode::auth: return "auth";
    case ErrorCode::cache_corrupt: return "cache_corrupt";
    case ErrorCode::sandbox: return "sandbox";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::internal: return "internal";
    case ErrorCode::usage: return "usage";
    case ErrorCode::failed_step: return "failed_step";
  }
  return "unknown";
}

std::string Error::render() const {
  std::string out;
  for (const auto& c : m_context) {
    out += c;
    out += ": ";
  }
  out += m_message;
  if (m_sys_errno != 0) {
    out += ": ";
    out += std::strerror(m_sys_errno);
  }
  return out;
}

void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "kiln: internal error: assertion `%s` failed at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace kiln
