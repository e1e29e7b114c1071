// Shared set-up for the registry tests: an isolated environment (HOME, auth
// file, registries.conf in a temp dir), the busybox fixture layout, and a
// helper that runs the real kiln binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

#include <string>
#include <vector>

#include "oci/json.h"
#include "tests/support/registry_server.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

namespace kiln::test {

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("", "kiln-regtest-");
    ASSERT_TRUE(dir) << dir.error().render();
    m_tmp.emplace(std::move(*dir));
    home = path_join(m_tmp->path(), "home");
    auth_file = path_join(m_tmp->path(), "auth.json");
    registries_conf = path_join(m_tmp->path(), "registries.conf");
    ASSERT_TRUE(make_dirs(home));
    ASSERT_TRUE(write_file(registries_conf, "unqualified-search-registries = []\n"));
  }

  std::string tmp() const { return m_tmp->path(); }

  /// Starts the registry as `server`; skips the test (GTEST_SKIP) when it
  /// cannot run here. Callers return when IsSkipped() || HasFatalFailure().
  void start_registry(RegistryAuth auth = RegistryAuth::none) {
    std::string why = RegistryServer::unavailable_reason(auth);
    if (!why.empty()) {
      GTEST_SKIP() << why;
    }
    RegistryServerOptions o;
    o.auth = auth;
    auto s = RegistryServer::start(o);
    ASSERT_TRUE(s) << s.error().render();
    server = std::move(*s);
  }
  bool stopped() const { return IsSkipped() || HasFatalFailure(); }

  /// Environment for kiln and the peers: isolated HOME, auth file and
  /// registries.conf, plus `extra` ("K=V").
  std::vector<std::string> env(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> out;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      for (const char* drop : {"HOME=", "REGISTRY_AUTH_FILE=", "CONTAINERS_REGISTRIES_CONF=", "XDG_RUNTIME_DIR=",
                               "DOCKER_CONFIG=", "KILN_ROOT="}) {
        if (kv.rfind(drop, 0) == 0) {
          kv.clear();
        }
      }
      if (!kv.empty()) {
        out.push_back(kv);
      }
    }
    out.push_back("HOME=" + home);
    out.push_back("REGISTRY_AUTH_FILE=" + auth_file);
    out.push_back("CONTAINERS_REGISTRIES_CONF=" + registries_conf);
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  }

  /// Runs `kiln ARGS...` and returns its status and output.
  ProgramResult kiln(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    std::vector<std::string> argv{kiln_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProgramOptions o;
    o.env = env();
    o.stdin_data = stdin_data;
    auto r = run_program(argv, o);
    EXPECT_TRUE(r) << (r ? "" : r.error().render());
    return r ? *r : ProgramResult{-1, "", ""};
  }

  /// Runs any program in the same environment.
  ProgramResult run(const std::vector<std::string>& argv) const {
    ProgramOptions o;
    o.env = env();
    auto r = run_program(argv, o);
    EXPECT_TRUE(r) << (r ? "" : r.error().render());
    return r ? *r : ProgramResult{-1, "", ""};
  }

  /// The busybox fixture as an OCI layout, built once per build tree and
  /// version of the fixture script (BUILD/test-cache/busybox-layout-<hash>,
  /// made in a temp dir and renamed into place, so concurrent tests never
  /// see half of it). Read-only: a test that changes a layout copies it
  /// first (copy_of_busybox_layout).
  std::string busybox_layout() {
    std::string script = path_join(source_dir(), "testdata/fixtures/make-busybox-image");
    std::string cache = path_join(binary_dir(), "test-cache");
    std::string layout = path_join(cache, "busybox-layout-" + sha256_file_hex(script).value_or("x").substr(0, 12));
    if (!is_directory(layout)) {
      EXPECT_TRUE(make_dirs(cache));
      std::string staging = path_join(tmp(), "busybox-staging");
      auto r = run({script, staging});
      EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
      if (::rename(staging.c_str(), layout.c_str()) != 0 && !is_directory(layout)) {
        ADD_FAILURE() << "cannot place the busybox fixture at " << layout;
      }
    }
    return layout;
  }

  /// "sha256:..." of the busybox fixture's one layer.
  std::string busybox_layer_digest() {
    std::string layout = busybox_layout();
    auto index = oci::parse_json(read_file(path_join(layout, "index.json")).value_or(""), "index");
    std::string manifest = (*index)["manifests"][0]["digest"].get<std::string>();
    auto m = oci::parse_json(read_file(path_join(layout, "blobs/sha256/" + manifest.substr(7))).value_or(""), "manifest");
    return (*m)["layers"][0]["digest"].get<std::string>();
  }

  /// A private, writable copy of the busybox layout.
  std::string copy_of_busybox_layout() {
    std::string copy = path_join(tmp(), "busybox-copy");
    auto r = run({"cp", "-a", busybox_layout(), copy});
    EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
    return copy;
  }

  /// A store (by directory name under tmp) holding the busybox fixture.
  std::string store_with_busybox(const std::string& name = "store") {
    std::string root = path_join(tmp(), name);
    auto r = kiln({"--root", root, "pull", "oci:" + busybox_layout()});
    EXPECT_EQ(r.exit_status, 0) << r.stderr_data;
    return root;
  }

  std::unique_ptr<RegistryServer> server;
  std::string home;
  std::string auth_file;
  std::string registries_conf;

 private:
  std::optional<TempDir> m_tmp;
};

/// A fixture with a plain-HTTP, anonymous registry running as `server`.
class PlainRegistryTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    if (!stopped()) {
      start_registry();
    }
  }
};

/// Trimmed stdout.
inline std::string out_of(const ProgramResult& r) { return std::string(trim(r.stdout_data)); }

}  // namespace kiln::test
