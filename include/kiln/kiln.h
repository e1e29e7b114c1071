// kiln's C++ library: build OCI images from code, on the same code path as
// `kiln bud` and the stepwise commands (STYLE.md F1-F3).
//
//   #include <kiln/kiln.h>
//
//   int main(int argc, char** argv) {
//     // Re-executes this program inside kiln's user namespace (RUN steps and
//     // layer directories need it), then opens the store there.
//     auto store = kiln::open_store_in_namespace("", argc, argv);
//     auto base = kiln::from(*store, "busybox");  // pulled when the store lacks it
//     auto state = base->run({.args = {"/bin/sh", "-c", "echo hi > /hi"}, .created_by = "RUN echo hi > /hi"})
//                       .with_cmd(std::vector<std::string>{"cat", "/hi"});
//     auto image = kiln::commit(*store, state, kiln::BuildConfig{}, {.tags = {"hi:1"}});
//     if (!image) { std::fprintf(stderr, "%s\n", image.error().render().c_str()); return 1; }
//   }
//
// Build against the installed library with pkg-config (kiln's libraries are
// static; the system libraries they use are linked as shared ones):
//   c++ -std=c++20 main.cc $(pkg-config --cflags --libs kiln)
// examples/cpp-api/ does the same with CMake.
//
// What this gives (each header documents errors and ownership):
//   frontend/api/build_state.h  kiln::BuildState: the immutable build graph + image config
//   this file                   kiln::from, kiln::commit, kiln::push (below)
//   frontend/api/build.h        kiln::solve (run without an image), kiln::build_image
//                               (= kiln::commit), BuildConfig, resolve_build_image
//   frontend/api/store_api.h    kiln::ImageStore, list/tag/remove/inspect images, pull_image,
//                               push_image (= kiln::push below)
//   frontend/api/registry_api.h RegistryOptions, ensure_image, login/logout
//   frontend/api/container.h    working containers (the stepwise API `kiln from/run/copy/commit` uses)
//   frontend/api/host_binds.h   host directories as RUN mounts (`kiln run --volume`): volume_mount
//   frontend/api/namespace.h    entering kiln's user namespace
//
// Errors are kiln::Result<T> values (util/result.h); nothing here throws.
//
// Runtime: RUN steps start the `kiln-sandbox` helper. kiln looks for it
// beside the running program, else in $KILN_SANDBOX_HELPER; the installed one
// is `pkg-config --variable=sandbox_helper kiln`.
//
// Third-party types: no libcurl, libarchive, zstd, OpenSSL, libseccomp or
// libcap type appears in these headers; kiln.pc lists those libraries only so
// that a program links them (kiln's own libraries are static archives). nlohmann::json does appear, as kiln::oci::Json,
// in the OCI data types (oci::ImageConfig keeps the fields it does not model
// in `extra`, so a config read and written back loses nothing) that
// BuildState::config() and ResolvedImage expose. Hiding it would mean a
// second, lossy copy of every OCI type; it is acceptable because nlohmann_json
// is header-only (no link-time or ABI coupling beyond its version, which
// kiln.pc requires publicly: Debian's nlohmann-json3-dev), and kiln's API
// never lets its exceptions escape (oci/json.h catches them at the boundary).
#pragma once

#include "frontend/api/build.h"
#include "frontend/api/build_state.h"
#include "frontend/api/container.h"
#include "frontend/api/host_binds.h"
#include "frontend/api/namespace.h"
#include "frontend/api/registry_api.h"
#include "frontend/api/store_api.h"

namespace kiln {

/// FROM `reference` ("scratch" for the empty image): the base image made
/// present in the store by `policy` (resolve_build_image: a registry
/// reference the store lacks is pulled, oci:/oci-archive:/docker-archive:
/// references are imported), as the first state of a build. Nothing is
/// extracted or run. Errors: those of resolve_build_image (not_found naming
/// the image, auth, network).
inline Result<BuildState> from(const ImageStore& store, const std::string& reference,
                               PullPolicy policy = PullPolicy::missing, const RegistryOptions& options = {}) {
  if (reference == "scratch") {
    return BuildState::scratch();
  }
  KILN_TRY_ASSIGN(ResolvedImage image, resolve_build_image(store, reference, policy, options));
  return BuildState::image(image);
}

/// Solves `state` and stores the result as an image named `options.tags`
/// (build_image: one layer per RUN/COPY step; the config with a history
/// entry per step). Errors as build_image.
inline Result<BuiltImage> commit(const ImageStore& store, const BuildState& state, const BuildConfig& config,
                                 const CommitOptions& options) {
  return build_image(store, state, config, options);
}

/// Pushes a stored image (push_image): `dest` "" = its own name's registry.
inline Result<PushSummary> push(const ImageStore& store, const std::string& name, const std::string& dest = "",
                                const RegistryOptions& options = {}) {
  return push_image(store, name, dest, options);
}

}  // namespace kiln
