// Shared setup for the executor's userns tests: a busybox rootfs with the
// probe (tests/probe/kiln_probe.c) used as an overlay lower dir, and helpers
// that run a SandboxSpec and capture its output.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/sandbox.h"
#include "tests/support/userns.h"
#include "util/result.h"
#include "util/temp_dir.h"

namespace kiln::executor::test {

/// The static probe: $KILN_TEST_PROBE, else the build tree's copy.
std::string probe_path();

/// A busybox rootfs with /kiln_probe, built once per process inside kiln's
/// namespace (so container root owns it); read-only by convention.
const std::string& shared_lower();

/// True when kiln runs in single-id mode (no subordinate ids).
bool single_id_mode();

struct RunOutput {
  Result<int> status = 0;
  std::string out;
  std::string err;
};

class SandboxFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  /// Waits for the background teardown before the temp dir goes away.
  void TearDown() override;

  /// A spec over a fresh overlay (upper/work/merged in this test's temp dir)
  /// on shared_lower(), with PATH set and the hosts/resolv.conf/hostname
  /// binds kiln's exec op uses.
  SandboxSpec overlay_spec(std::vector<std::string> argv);

  /// Runs spec with stdout/stderr captured through temp files.
  RunOutput run(SandboxSpec spec);

  /// Runs the probe with spec's settings and parses its JSON. Fails the test
  /// (and returns null) when the run fails.
  nlohmann::json probe(SandboxSpec spec);

  const std::string& upper() const { return m_overlay.upper; }
  const std::string& tmp() const { return m_tmp->path(); }

  std::optional<TempDir> m_tmp;
  OverlayRootfs m_overlay;
};

/// Lists an upper dir as "path type" lines (f, d, l, c0/0 for whiteouts),
/// sorted, relative to the dir, for assertions.
std::vector<std::string> list_tree(const std::string& dir);

}  // namespace kiln::executor::test
