#include "tests/e2e/run_mount_fixture.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "oci/json.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::test {

namespace fs = std::filesystem;

void RunMountTest::SetUp() {
  auto t = TempDir::create("", "kiln-mount-e2e-");
  ASSERT_TRUE(t);
  m_tmp = std::make_unique<TempDir>(std::move(*t));
  // Run as host root, kiln's namespace maps container root to a subordinate
  // id, which must reach the store and the context below this directory.
  ASSERT_EQ(::chmod(m_tmp->path().c_str(), 0755), 0);
  m_root = path_join(m_tmp->path(), "store");
  m_context = make_dir("context");
  ASSERT_FALSE(busybox_layout().empty()) << "busybox fixture failed to build";
  auto r = kiln({"pull", "oci:" + busybox_layout()});
  ASSERT_EQ(r.status, 0) << r.describe();
}

CmdResult RunMountTest::kiln(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  return run_kiln(m_root, args, env);
}

CmdResult RunMountTest::bud(const std::string& dockerfile, const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env) {
  EXPECT_TRUE(write_file(path_join(m_context, "Dockerfile"), dockerfile));
  std::vector<std::string> argv = {"bud"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(m_context);
  return kiln(argv, env);
}

std::string RunMountTest::bud_ok(const std::string& dockerfile, const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env) {
  auto r = bud(dockerfile, args, env);
  EXPECT_EQ(r.status, 0) << r.describe();
  return last_line(r.out);
}

void RunMountTest::write_context(const std::string& rel, const std::string& contents) {
  std::string path = path_join(m_context, rel);
  ASSERT_TRUE(make_dirs(path_dirname(path)));
  ASSERT_TRUE(write_file(path, contents));
}

std::string RunMountTest::make_dir(const std::string& name) {
  std::string dir = path_join(m_tmp->path(), name);
  EXPECT_TRUE(make_dirs(dir));
  return dir;
}

std::string RunMountTest::inspect(const std::string& image) {
  auto r = kiln({"inspect", image});
  EXPECT_EQ(r.status, 0) << r.describe();
  return r.out;
}

namespace {

std::vector<std::string> layer_blobs(RunMountTest& t, const std::string& root, const std::string& image) {
  std::vector<std::string> out;
  auto j = oci::parse_json(t.inspect(image), "inspect");
  if (!j) {
    ADD_FAILURE() << j.error().render();
    return out;
  }
  for (const auto& l : (*j)["manifest"]["layers"]) {
    std::string digest = l["digest"].get<std::string>();
    out.push_back(path_join(root, "blobs/sha256/" + digest.substr(7)));
  }
  return out;
}

}  // namespace

std::string RunMountTest::layer_listing(const std::string& image) {
  std::string all;
  for (const auto& blob : layer_blobs(*this, m_root, image)) {
    auto r = run_cmd({"tar", "-tvzf", blob});
    EXPECT_EQ(r.status, 0) << r.describe();
    all += r.out;
  }
  return all;
}

std::string RunMountTest::layer_bytes(const std::string& image) {
  std::string all;
  for (const auto& blob : layer_blobs(*this, m_root, image)) {
    auto r = run_cmd({"gzip", "-dc", blob});
    EXPECT_EQ(r.status, 0) << r.describe();
    all += r.out;
  }
  return all;
}

std::string RunMountTest::file_in_image(const std::string& image, const std::string& path) {
  auto blobs = layer_blobs(*this, m_root, image);
  std::string rel = path.substr(path.find_first_not_of('/'));
  for (auto it = blobs.rbegin(); it != blobs.rend(); ++it) {
    for (const std::string& name : {rel, "./" + rel}) {
      auto r = run_cmd({"tar", "-xzOf", *it, name});
      if (r.status == 0) {
        return r.out;
      }
    }
  }
  return "";
}

std::string tree_fingerprint(const std::string& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      lines.push_back(path + " vanished");
      continue;
    }
    std::string line = cat(path.substr(dir.size()), " mode=", st.st_mode, " uid=", st.st_uid, " gid=", st.st_gid,
                           " size=", st.st_size, " mtime=", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      auto h = sha256_file_hex(path);
      line += " sha256=" + (h ? *h : std::string("unreadable"));
    } else if (S_ISLNK(st.st_mode)) {
      line += " link=" + fs::read_symlink(it->path(), ec).string();
    }
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  return join(lines, "\n");
}

}  // namespace kiln::test
