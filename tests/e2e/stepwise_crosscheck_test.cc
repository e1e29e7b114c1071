// The stepwise/Dockerfile cross-check (STYLE.md F3, issue 8): `kiln from
// busybox` + `kiln copy` + `kiln commit` and `FROM busybox` + `COPY` give
// byte-identical definitions (origins aside: those are the Dockerfile's file
// and line numbers, kept for error messages and never part of a key),
// identical cache keys and, with SOURCE_DATE_EPOCH, the same layer.
#include <set>

#include "cache/store.h"
#include "frontend/api/build.h"
#include "frontend/api/store_api.h"
#include "frontend/dockerfile/lower.h"
#include "oci/json.h"
#include "solver/ops/runner.h"
#include "solver/solve.h"
#include "tests/e2e/stepwise_fixture.h"

namespace kiln::test {
namespace {

constexpr const char* k_dockerfile = "FROM busybox\nCOPY f.txt /srv/f.txt\n";

oci::Json json_of(const std::string& text) {
  auto j = oci::parse_json(text, "kiln output");
  EXPECT_TRUE(j) << text;
  return j ? *j : oci::Json::object();
}

// A definition without what only tells where a step came from: its ops'
// origins (Dockerfile file and lines, for error messages; never in a key)
// and the ` # buildkit` marker BuildKit puts on a Dockerfile step's history
// text. The rest as it is, byte for byte.
std::string comparable(oci::Json def) {
  for (auto& op : def["graph"]["ops"]) {
    op.erase("origin");
  }
  for (auto& h : def["history"]) {
    std::string text = h["entry"].value("created_by", "");
    if (text.ends_with(" # buildkit")) {
      h["entry"]["created_by"] = text.substr(0, text.size() - 11);
    }
  }
  return oci::dump_json(def);
}

std::vector<std::string> dir_names(const std::string& dir) {
  auto names = list_dir(dir);
  EXPECT_TRUE(names) << dir;
  std::vector<std::string> out = names ? *names : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

class StepwiseCrosscheckTest : public StepwiseTest {
 protected:
  std::vector<std::string> keys_of(const std::string& definition_text, const std::string& context) {
    auto state = BuildState::from_definition(definition_text);
    EXPECT_TRUE(state) << state.error().render();
    auto store = cache::Store::open({m_root, std::nullopt});
    EXPECT_TRUE(store);
    solver::ops::RunnerConfig rc;
    rc.store = &*store;
    rc.contexts["context"] = context;
    solver::ops::BuildRunner runner(rc);
    BuildState::Graph g = state->graph();
    auto parts = solver::compute_keys(g.definition, {g.target}, runner);
    EXPECT_TRUE(parts) << parts.error().render();
    std::vector<std::string> keys;
    for (const auto& p : parts ? *parts : std::vector<solver::KeyParts>{}) {
      keys.push_back(p.key());
    }
    return keys;
  }
};

TEST_F(StepwiseCrosscheckTest, CopyGivesTheDockerfilesDefinitionKeyAndLayer) {
  std::string ctx = make_dir("ctx", {{"Dockerfile", k_dockerfile}, {"f.txt", "the same bytes\n"}});
  std::string df_root = path_join(m_tmp->path(), "store-dockerfile");
  ASSERT_EQ(run_kiln(df_root, {"pull", "oci:" + busybox_layout()}).status, 0);
  std::string keys_df = path_join(m_tmp->path(), "keys-dockerfile");
  std::string keys_sw = path_join(m_tmp->path(), "keys-stepwise");
  const std::string epoch = "1700000000";
  // The solves write there from inside kiln's user namespace, as container
  // root (a subordinate id when the test runs as host root): let them.
  for (const auto& d : {keys_df, keys_sw}) {
    ASSERT_TRUE(make_dirs(d));
    ASSERT_EQ(::chmod(d.c_str(), 0777), 0);
  }

  // The Dockerfile, in a store of its own (so neither build hits the other's cache).
  auto bud = run_kiln(df_root, {"bud", "-q", "-t", "df:1", ctx}, {{"SOURCE_DATE_EPOCH", epoch}, {"KILN_DEBUG_KEYS", keys_df}});
  ASSERT_EQ(bud.status, 0) << bud.describe();
  // The same steps, one command each.
  std::string c = ok({"from", "busybox"});
  ok({"copy", "-q", "--contextdir", ctx, c, "f.txt", "/srv/f.txt"}, {{"SOURCE_DATE_EPOCH", epoch}, {"KILN_DEBUG_KEYS", keys_sw}});
  oci::Json container = json_of(ok({"inspect", "--type", "container", c}));
  ok({"commit", c, "sw:1"}, {{"SOURCE_DATE_EPOCH", epoch}});

  // Same layers (busybox's and the COPY's): digests and diffIDs.
  oci::Json df = json_of(run_kiln(df_root, {"inspect", "df:1"}).out);
  oci::Json sw = json_of(ok({"inspect", "sw:1"}));
  ASSERT_EQ(sw["manifest"]["layers"].size(), 2u);
  EXPECT_EQ(sw["manifest"]["layers"], df["manifest"]["layers"]);
  EXPECT_EQ(sw["config"]["rootfs"], df["config"]["rootfs"]);

  // Same cache keys: each solve wrote the key of the step it ran (KILN_DEBUG_KEYS).
  EXPECT_FALSE(dir_names(keys_sw).empty());
  EXPECT_EQ(dir_names(keys_sw), dir_names(keys_df));

  // Byte-identical definitions: the Dockerfile lowered here, the container's as recorded.
  auto store = ImageStore::open(m_root);
  ASSERT_TRUE(store);
  dockerfile::LowerOptions lo;
  lo.dockerfile_text = k_dockerfile;
  lo.resolve_image = [&](const std::string& ref) { return resolve_base_image(*store, ref); };
  auto lowered = dockerfile::lower_dockerfile(lo);
  ASSERT_TRUE(lowered) << lowered.error().render();
  std::string df_def = lowered->state.to_definition();
  std::string sw_def = oci::dump_json(container["definition"]);
  auto df_json = json_of(df_def);
  auto sw_json = json_of(sw_def);
  EXPECT_EQ(comparable(sw_json), comparable(df_json));
  EXPECT_EQ(oci::dump_json(sw_json["graph"]["ops"].back()["attrs"]), oci::dump_json(df_json["graph"]["ops"].back()["attrs"]));
  // ... which hash to the same keys, op by op (solver::compute_keys).
  std::vector<std::string> df_keys = keys_of(df_def, ctx);
  std::vector<std::string> sw_keys = keys_of(sw_def, ctx);
  ASSERT_FALSE(sw_keys.empty());
  EXPECT_EQ(sw_keys, df_keys);
  std::set<std::string> key_files;
  for (const auto& k : sw_keys) {
    key_files.insert(k + ".txt");
  }
  std::vector<std::string> written = dir_names(keys_sw);
  EXPECT_EQ(std::set<std::string>(written.begin(), written.end()), key_files);
}

}  // namespace
}  // namespace kiln::test
