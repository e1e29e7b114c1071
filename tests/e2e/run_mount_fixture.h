// Shared setup for the RUN --mount end-to-end tests (issue 11): a store with
// the busybox fixture pulled, a build context per test, helpers that run
// `kiln bud` and look into the resulting image's layers, and a fingerprint
// of a host tree to prove a build left it byte-for-byte unchanged.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/kiln_runner.h"
#include "util/temp_dir.h"

namespace kiln::test {

class RunMountTest : public ::testing::Test {
 public:
  void SetUp() override;

  /// `kiln bud` on the context with this Dockerfile (written into the
  /// context), plus extra arguments (before the context).
  CmdResult bud(const std::string& dockerfile, const std::vector<std::string>& args = {},
                const std::map<std::string, std::string>& env = {});
  /// bud that must succeed; returns the image id.
  std::string bud_ok(const std::string& dockerfile, const std::vector<std::string>& args = {},
                     const std::map<std::string, std::string>& env = {});
  CmdResult kiln(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

  /// Writes a file below the context (parents created).
  void write_context(const std::string& rel, const std::string& contents);
  /// A new directory under the test's temp dir.
  std::string make_dir(const std::string& name);

  /// `tar -tv` listings of every layer of an image, concatenated.
  std::string layer_listing(const std::string& image);
  /// The uncompressed bytes of every layer of an image, concatenated.
  std::string layer_bytes(const std::string& image);
  /// Output of `kiln inspect IMAGE`.
  std::string inspect(const std::string& image);
  /// What a RUN wrote to the image at `path` (read back with a COPY-free
  /// build: `RUN cat path`), or "" when absent.
  std::string file_in_image(const std::string& image, const std::string& path);

  std::unique_ptr<TempDir> m_tmp;
  std::string m_root;     ///< the store
  std::string m_context;  ///< the build context
};

/// A fingerprint of everything under `dir` (paths, types, modes, owners,
/// sizes, file contents, link targets, mtimes), to compare before and after.
std::string tree_fingerprint(const std::string& dir);

}  // namespace kiln::test
