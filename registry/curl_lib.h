// libcurl, loaded on first use instead of linked (private to registry/).
//
// Linking libcurl makes every start of the kiln binary load and relocate its
// ~35 dependencies (GnuTLS, Kerberos, LDAP, ...): ~5 ms of dynamic linking
// per process, paid by every `kiln` command and every RUN step's helper,
// though only registry work needs HTTP. kiln therefore opens libcurl.so.4
// (Debian package libcurl4) with dlopen(3) the first time a request is made,
// in its own symbol scope (RTLD_LOCAL), and calls it through this table.
#pragma once

#include <curl/curl.h>

#include "util/result.h"

namespace kiln::registry {

/// The libcurl functions kiln calls; each has the signature and contract of
/// the libcurl function of the same name without the `curl_` prefix.
struct CurlLib {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_setopt) multi_setopt = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_poll) multi_poll = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_share_init) share_init = nullptr;
  decltype(&::curl_share_cleanup) share_cleanup = nullptr;
  decltype(&::curl_share_setopt) share_setopt = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_getdate) getdate = nullptr;
};

/// Opens libcurl.so.4 and resolves every function above, once per process
/// (thread-safe; later calls return the same table or the same error), then
/// runs curl_global_init(CURL_GLOBAL_DEFAULT). The library stays loaded until
/// exit. Errors: not_found naming the library (and the package to install)
/// when it cannot be opened or lacks one of the functions.
Result<const CurlLib*> load_curl();

/// The table load_curl() filled. Only valid after load_curl() succeeded in
/// this process (asserts otherwise).
const CurlLib& curl();

}  // namespace kiln::registry
