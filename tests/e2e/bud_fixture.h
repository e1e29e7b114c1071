// Shared fixture of the `kiln bud` end-to-end tests (issue 6): a fresh
// store holding the busybox fixture, build contexts written by the test, and
// helpers that read what a build made (the exported filesystem, the image
// config, --progress=json events, the store's state).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oci/json.h"
#include "tests/support/kiln_runner.h"
#include "util/temp_dir.h"

namespace kiln::test {

class BudTest : public ::testing::Test {
 public:
  /// --progress=json events (one JSON object per stderr line).
  static std::vector<oci::Json> events(const std::string& err);

 protected:
  void SetUp() override;

  /// A directory under the test's temp dir (world-readable, so kiln's
  /// namespace can read it when the suite runs as root).
  std::string path(const std::string& rel) const;
  /// Writes `files` (relative path -> content) into the context dir `name`
  /// (created 0755) and returns its path.
  std::string context(const std::map<std::string, std::string>& files, const std::string& name = "ctx");

  CmdResult kiln(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
  /// `kiln bud ARGS... CTX`
  CmdResult bud(const std::string& ctx, const std::vector<std::string>& args = {},
                const std::map<std::string, std::string>& env = {});
  /// Builds like bud() with `-o type=local,dest=DIR` added; fails the test
  /// when the build fails. Returns DIR (a fresh directory per call).
  std::string build_fs(const std::string& ctx, const std::vector<std::string>& args = {});

  /// `kiln inspect IMAGE`'s JSON ({"config": ..., "manifest": ..., ...}).
  oci::Json inspect(const std::string& image);
  /// The image config's "config" object.
  oci::Json image_config(const std::string& image) { return inspect(image)["config"]["config"]; }

  /// The instructions of step_start events, in order.
  static std::vector<std::string> ran(const std::string& err);
  /// The instructions of cache_hit events.
  static std::vector<std::string> cached(const std::string& err);

  /// Every file and directory in the store with its size (not the tmp dir
  /// itself), for "the store is unchanged" checks.
  std::string store_state() const;
  /// Entries left in the store's tmp dir.
  std::vector<std::string> store_tmp_entries() const;

  std::unique_ptr<TempDir> m_tmp;
  std::string m_root;
  int m_outputs = 0;
};

/// The contents of a file, "" when unreadable.
std::string file_text(const std::string& path);

}  // namespace kiln::test
