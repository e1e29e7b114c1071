#include "util/temp_dir.h"

#include <cerrno>
#include <cstdlib>

#include "util/file.h"
#include "util/strings.h"

namespace kiln {

Result<TempDir> TempDir::create(const std::string& parent, const std::string& prefix) {
  std::string base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t != nullptr && *t != '\0') ? t : "/tmp";
  }
  std::string tmpl = path_join(base, prefix + "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error(ErrorCode::io, cat("create temporary directory in `", base, "`"), errno);
  }
  return TempDir(tmpl);
}

TempDir& TempDir::operator=(TempDir&& o) noexcept {
  if (this != &o) {
    if (!m_path.empty()) {
      log_warning_and_drop(remove_tree(m_path));
    }
    m_path = std::move(o.m_path);
    o.m_path.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!m_path.empty()) {
    log_warning_and_drop(remove_tree(m_path));
  }
}

std::string TempDir::release() {
  std::string p = std::move(m_path);
  m_path.clear();
  return p;
}

}  // namespace kiln
