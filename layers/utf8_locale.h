// Internal: runs libarchive in the C.UTF-8 locale on the calling thread.
//
// libarchive converts entry names between the thread's locale and the UTF-8
// of PAX headers. Pinning C.UTF-8 (thread-local, uselocale(3); the process
// locale is untouched) makes layers byte-identical whatever the caller's
// LANG: UTF-8 names are written as PAX `path` records, other bytes as
// `hdrcharset=BINARY` records, ASCII names need no PAX header at all.
#pragma once

#include <locale.h>

namespace kiln::layers::detail {

class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    static locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (utf8 != static_cast<locale_t>(0)) {
      m_previous = uselocale(utf8);
    }
  }
  ~ScopedUtf8Locale() {
    if (m_previous != static_cast<locale_t>(0)) {
      uselocale(m_previous);
    }
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t m_previous = static_cast<locale_t>(0);
};

}  // namespace kiln::layers::detail
