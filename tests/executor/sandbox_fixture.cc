#include "tests/executor/sandbox_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "executor/user_namespace.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::executor::test {

std::string probe_path() {
  const char* env = std::getenv("KILN_TEST_PROBE");
  if (env != nullptr && *env != '\0') {
    return env;
  }
  return path_join(kiln::test::binary_dir(), "tests/executor/kiln_probe");
}

const std::string& shared_lower() {
  static std::optional<TempDir> dir;
  static std::string path;
  if (!dir) {
    auto created = TempDir::create("", "kiln-lower-");
    if (!created) {
      ADD_FAILURE() << created.error().render();
      return path;
    }
    dir.emplace(std::move(*created));
    path = path_join(dir->path(), "rootfs");
    auto made = make_dirs(path);
    if (made) {
      made = kiln::test::make_busybox_rootfs(path, {probe_path()}, !single_id_mode());
    }
    if (!made) {
      ADD_FAILURE() << "build the busybox rootfs: " << made.error().render();
    }
  }
  return path;
}

bool single_id_mode() {
  auto m = current_id_mapping();
  return m && m->mode == MappingMode::single_id;
}

void SandboxFixture::SetUp() {
  KILN_REQUIRE_USERNS();
  auto dir = TempDir::create("", "kiln-sandbox-test-");
  ASSERT_TRUE(dir) << dir.error().render();
  m_tmp.emplace(std::move(*dir));
  m_overlay = {{shared_lower()}, path_join(tmp(), "upper"), path_join(tmp(), "work"), path_join(tmp(), "merged")};
  for (const auto& d : {m_overlay.upper, m_overlay.work, m_overlay.mountpoint}) {
    ASSERT_TRUE(make_dirs(d));
  }
}

void SandboxFixture::TearDown() {
  if (m_tmp) {
    wait_for_sandbox_teardown(m_overlay.work);
  }
}

SandboxSpec SandboxFixture::overlay_spec(std::vector<std::string> argv) {
  SandboxSpec spec;
  spec.overlay = m_overlay;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"};
  spec.hostname = "kiln-test";
  spec.hosts = default_hosts(spec.hostname);
  spec.resolv_conf = "nameserver 192.0.2.53\n";
  spec.etc_hostname = spec.hostname + "\n";
  return spec;
}

RunOutput SandboxFixture::run(SandboxSpec spec) {
  RunOutput out;
  std::string out_path = path_join(tmp(), "stdout"), err_path = path_join(tmp(), "stderr");
  auto out_fd = open_file(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  auto err_fd = open_file(err_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (!out_fd || !err_fd) {
    out.status = Error(ErrorCode::io, "open capture files");
    return out;
  }
  spec.stdout_fd = out_fd->get();
  spec.stderr_fd = err_fd->get();
  out.status = run_sandbox(spec);
  out.out = read_file(out_path).value_or("");
  out.err = read_file(err_path).value_or("");
  return out;
}

nlohmann::json SandboxFixture::probe(SandboxSpec spec) {
  if (spec.argv.empty()) {
    spec.argv = {"/kiln_probe"};
  }
  RunOutput r = run(std::move(spec));
  if (!r.status) {
    ADD_FAILURE() << "run the probe: " << r.status.error().render() << "\n" << r.status.error().hint();
    return nullptr;
  }
  EXPECT_EQ(*r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "probe printed no JSON: " << r.out << r.err;
    return nullptr;
  }
  return j;
}

namespace {

void walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  auto names = list_dir(rel.empty() ? root : path_join(root, rel));
  if (!names) {
    return;
  }
  for (const auto& name : *names) {
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::lstat(path_join(root, r).c_str(), &st) != 0) {
      continue;
    }
    std::string type = S_ISDIR(st.st_mode)   ? "d"
                       : S_ISLNK(st.st_mode) ? "l"
                       : S_ISCHR(st.st_mode) ? cat("c", major(st.st_rdev), "/", minor(st.st_rdev))
                                             : "f";
    out.push_back(r + " " + type);
    if (S_ISDIR(st.st_mode)) {
      walk(root, r, out);
    }
  }
}

}  // namespace

std::vector<std::string> list_tree(const std::string& dir) {
  std::vector<std::string> out;
  walk(dir, "", out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kiln::executor::test
