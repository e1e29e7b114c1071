#include "tests/support/kiln_runner.h"

#include <cstdlib>
#include <mutex>

#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"
#include "util/temp_dir.h"

extern char** environ;

namespace kiln::test {

std::string CmdResult::describe() const { return cat("status=", status, "\nstdout:\n", out, "\nstderr:\n", err); }

CmdResult run_cmd(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  const std::string& stdin_data) {
  ProgramOptions o;
  o.stdin_data = stdin_data;
  if (!env.empty()) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      auto kv = split_once(*e, '=');
      if (kv) {
        merged[kv->first] = kv->second;
      }
    }
    for (const auto& [k, v] : env) {
      merged[k] = v;
    }
    for (const auto& [k, v] : merged) {
      o.env.push_back(k + "=" + v);
    }
  }
  CmdResult res;
  auto r = run_program(argv, o);
  if (!r) {
    res.err = r.error().render();
    return res;
  }
  res.status = r->exit_status;
  res.out = std::move(r->stdout_data);
  res.err = std::move(r->stderr_data);
  return res;
}

CmdResult run_kiln(const std::string& root, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const std::string& stdin_data) {
  std::vector<std::string> argv = {kiln_binary(), "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_cmd(argv, env, stdin_data);
}

namespace {
struct Fixture {
  std::string dir, layout, archive, id;
};
Fixture& fixture() {
  static Fixture f;
  static std::once_flag once;
  std::call_once(once, [] {
    auto tmp = TempDir::create("", "kiln-fixture-");
    if (!tmp) {
      return;
    }
    f.dir = tmp->release();
    f.layout = path_join(f.dir, "busybox");
    f.archive = path_join(f.dir, "busybox.tar");
    auto r = run_cmd({path_join(source_dir(), "testdata/fixtures/make-busybox-image"), f.layout, f.archive});
    f.id = last_line(r.out);
    std::atexit([] {
      if (!fixture().dir.empty()) {
        (void)remove_tree(fixture().dir);
      }
    });
  });
  return f;
}
}  // namespace

const std::string& busybox_layout() { return fixture().layout; }
const std::string& busybox_archive() { return fixture().archive; }
const std::string& busybox_image_id() { return fixture().id; }

bool have_program(const std::string& program) { return !find_program(program).empty(); }

std::string last_line(const std::string& text) {
  std::string t(trim(text));
  auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : std::string(trim(t.substr(pos + 1)));
}

}  // namespace kiln::test
