#include "registry/curl_lib.h"

#include <dlfcn.h>

#include <mutex>

#include "util/strings.h"

namespace kiln::registry {

namespace {

constexpr const char* k_soname = "libcurl.so.4";

struct Loaded {
  CurlLib lib;
  std::optional<Error> error;
  bool ok = false;
};

template <typename F>
bool resolve(void* handle, F& slot, const char* name, std::string& missing) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) {
    missing = name;
    return false;
  }
  slot = reinterpret_cast<F>(sym);
  return true;
}

bool resolve_all(void* h, CurlLib& c, std::string& missing) {
  return resolve(h, c.global_init, "curl_global_init", missing) && resolve(h, c.easy_init, "curl_easy_init", missing) &&
         resolve(h, c.easy_cleanup, "curl_easy_cleanup", missing) &&
         resolve(h, c.easy_setopt, "curl_easy_setopt", missing) &&
         resolve(h, c.easy_getinfo, "curl_easy_getinfo", missing) &&
         resolve(h, c.easy_perform, "curl_easy_perform", missing) &&
         resolve(h, c.easy_strerror, "curl_easy_strerror", missing) &&
         resolve(h, c.multi_init, "curl_multi_init", missing) &&
         resolve(h, c.multi_cleanup, "curl_multi_cleanup", missing) &&
         resolve(h, c.multi_setopt, "curl_multi_setopt", missing) &&
         resolve(h, c.multi_add_handle, "curl_multi_add_handle", missing) &&
         resolve(h, c.multi_remove_handle, "curl_multi_remove_handle", missing) &&
         resolve(h, c.multi_perform, "curl_multi_perform", missing) &&
         resolve(h, c.multi_poll, "curl_multi_poll", missing) &&
         resolve(h, c.multi_info_read, "curl_multi_info_read", missing) &&
         resolve(h, c.share_init, "curl_share_init", missing) &&
         resolve(h, c.share_cleanup, "curl_share_cleanup", missing) &&
         resolve(h, c.share_setopt, "curl_share_setopt", missing) &&
         resolve(h, c.slist_append, "curl_slist_append", missing) &&
         resolve(h, c.slist_free_all, "curl_slist_free_all", missing) &&
         resolve(h, c.getdate, "curl_getdate", missing);
}

Loaded& loaded() {
  static Loaded l;
  return l;
}

void load_once() {
  Loaded& l = loaded();
  void* h = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = ::dlerror();
    l.error = Error(ErrorCode::not_found, cat("load `", k_soname, "` for registry access: ", why != nullptr ? why : "?"))
                  .with_hint("Install Debian's package libcurl4 (kiln uses libcurl for HTTP).");
    return;
  }
  std::string missing;
  if (!resolve_all(h, l.lib, missing)) {
    l.error = Error(ErrorCode::not_found, cat("load `", k_soname, "`: it has no function `", missing, "`"))
                  .with_hint("kiln needs libcurl 7.66 or newer (Debian's package libcurl4).");
    return;
  }
  CURLcode code = l.lib.global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    l.error = Error(ErrorCode::internal, cat("initialize libcurl: ", l.lib.easy_strerror(code)));
    return;
  }
  l.ok = true;
}

}  // namespace

Result<const CurlLib*> load_curl() {
  static std::once_flag once;
  std::call_once(once, load_once);
  if (!loaded().ok) {
    return *loaded().error;
  }
  return &loaded().lib;
}

const CurlLib& curl() {
  KILN_ASSERT(loaded().ok);
  return loaded().lib;
}

}  // namespace kiln::registry
