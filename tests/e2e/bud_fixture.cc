#include "tests/e2e/bud_fixture.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {

void BudTest::SetUp() {
  auto t = TempDir::create("", "kiln-bud-e2e-");
  ASSERT_TRUE(t);
  m_tmp = std::make_unique<TempDir>(std::move(*t));
  ASSERT_EQ(::chmod(m_tmp->path().c_str(), 0755), 0);
  m_root = path("store");
  ASSERT_FALSE(busybox_layout().empty()) << "busybox fixture failed to build";
  auto r = kiln({"pull", "oci:" + busybox_layout()});
  ASSERT_EQ(r.status, 0) << r.describe();
}

std::string BudTest::path(const std::string& rel) const { return path_join(m_tmp->path(), rel); }

std::string BudTest::context(const std::map<std::string, std::string>& files, const std::string& name) {
  std::string dir = path(name);
  EXPECT_TRUE(make_dirs(dir));
  for (const auto& [rel, content] : files) {
    std::string file = path_join(dir, rel);
    EXPECT_TRUE(make_dirs(path_dirname(file)));
    EXPECT_TRUE(write_file(file, content, 0644));
  }
  return dir;
}

CmdResult BudTest::kiln(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  return run_kiln(m_root, args, env);
}

CmdResult BudTest::bud(const std::string& ctx, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  std::vector<std::string> all = {"bud"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(ctx);
  return kiln(all, env);
}

std::string BudTest::build_fs(const std::string& ctx, const std::vector<std::string>& args) {
  std::string dest = path(cat("out-", ++m_outputs));
  std::vector<std::string> all = args;
  all.push_back("--output=type=local,dest=" + dest);
  auto r = bud(ctx, all);
  EXPECT_EQ(r.status, 0) << r.describe();
  return dest;
}

oci::Json BudTest::inspect(const std::string& image) {
  auto r = kiln({"inspect", image});
  EXPECT_EQ(r.status, 0) << r.describe();
  auto j = oci::parse_json(r.out, "inspect");
  return j ? *j : oci::Json::object();
}

std::vector<oci::Json> BudTest::events(const std::string& err) {
  std::vector<oci::Json> out;
  for (const auto& line : split(err, '\n')) {
    if (!line.starts_with("{")) {
      continue;
    }
    auto j = oci::parse_json(line, "event");
    if (j && j->is_object()) {
      out.push_back(*j);
    }
  }
  return out;
}

namespace {
std::vector<std::string> instructions_of(const std::string& err, const char* kind) {
  std::vector<std::string> out;
  for (const auto& e : BudTest::events(err)) {
    if (e.value("event", "") == kind) {
      out.push_back(e.value("instruction", ""));
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> BudTest::ran(const std::string& err) { return instructions_of(err, "step_start"); }
std::vector<std::string> BudTest::cached(const std::string& err) { return instructions_of(err, "cache_hit"); }

std::string BudTest::store_state() const {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(m_root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string p = it->path().string().substr(m_root.size());
    if (p.starts_with("/kiln/locks/") || p.starts_with("/kiln/overlay-works-")) {
      continue;  // lock files and the overlay probe's record are created on first use
    }
    std::error_code size_ec;
    auto size = it->is_regular_file(size_ec) ? it->file_size(size_ec) : 0;
    lines.push_back(cat(p, " ", size));
  }
  std::sort(lines.begin(), lines.end());
  return join(lines, "\n");
}

std::vector<std::string> BudTest::store_tmp_entries() const {
  auto entries = list_dir(path_join(m_root, "kiln/tmp"));
  return entries ? *entries : std::vector<std::string>{};
}

std::string file_text(const std::string& path) {
  auto t = read_file(path);
  return t ? *t : std::string();
}

}  // namespace kiln::test
