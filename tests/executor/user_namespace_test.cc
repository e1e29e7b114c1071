// kiln's user namespace as seen from inside it, single-id mode, and ids in
// the snapshot.
#include "executor/user_namespace.h"

#include "tests/executor/sandbox_fixture.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace kiln::executor::test {
namespace {

TEST(UserNamespaceTest, TestsRunInsideKilnsNamespace) {
  KILN_REQUIRE_USERNS();
  EXPECT_TRUE(in_kiln_namespace());
  auto m = current_id_mapping();
  ASSERT_TRUE(m) << m.error().render();
  EXPECT_NE(m->host_root_uid(), 0u);
  for (const auto* ranges : {&m->uids, &m->gids}) {
    for (const auto& r : *ranges) {
      EXPECT_FALSE(r.host == 0) << "container " << r.container << " maps to host root";
    }
  }
}

class SingleIdModeTest : public SandboxFixture {
 protected:
  void SetUp() override {
    SandboxFixture::SetUp();
    if (!IsSkipped() && !single_id_mode()) {
      GTEST_SKIP() << "kiln has subordinate ids here; run as a user without /etc/subuid range";
    }
  }
};

TEST_F(SingleIdModeTest, OnlyContainerRootIsMapped) {
  auto m = current_id_mapping();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uids.size(), 1u);
  EXPECT_EQ(m->uids[0].count, 1u);
  EXPECT_FALSE(m->maps_uid(1000));
}

TEST_F(SingleIdModeTest, UserOtherThanRootFailsWithAHint) {
  SandboxSpec spec = overlay_spec({"true"});
  spec.uid = 1000;
  RunOutput r = run(spec);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code(), ErrorCode::invalid_input);
  EXPECT_NE(r.status.error().hint().find("single-id mode"), std::string::npos) << r.status.error().hint();
}

TEST_F(SingleIdModeTest, ChownToAnotherIdFailsClearly) {
  RunOutput r = run(overlay_spec({"sh", "-c", "touch /tmp/f && chown 1000:1000 /tmp/f"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_NE(*r.status, 0);
  EXPECT_NE(r.err.find("Invalid argument"), std::string::npos) << r.err;
}

TEST_F(SingleIdModeTest, SandboxIsStillConfined) {
  auto j = probe(overlay_spec({}));
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["status"]["Seccomp"], "2");
  EXPECT_EQ(j["pids"], nlohmann::json::array({1}));
}

class SnapshotOwnersTest : public SandboxFixture {};

TEST_F(SnapshotOwnersTest, FilesCreatedAsUid1000AreUid1000InTheTar) {
  if (single_id_mode()) {
    GTEST_SKIP() << "single-id mode: uid 1000 does not exist";
  }
  SandboxSpec spec = overlay_spec({"sh", "-c", "echo x > /home/builder/f && mkdir /home/builder/d"});
  spec.uid = 1000;
  spec.gid = 1000;
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  ASSERT_EQ(*r.status, 0) << r.err;
  // Inside kiln's namespace the upper dir holds container ids, so a tar of it
  // (what layers/ writes) records 1000/1000.
  std::string tar = path_join(tmp(), "layer.tar");
  auto made = run_program({"tar", "--numeric-owner", "-cf", tar, "-C", upper(), "."});
  ASSERT_TRUE(made && made->exit_status == 0) << (made ? made->stderr_data : made.error().render());
  auto listed = run_program({"tar", "--numeric-owner", "-tvf", tar});
  ASSERT_TRUE(listed && listed->exit_status == 0);
  bool found_file = false;
  for (const auto& line : split(listed->stdout_data, '\n')) {
    if (line.find("./home/builder/f") != std::string::npos || line.find("./home/builder/d") != std::string::npos) {
      EXPECT_NE(line.find(" 1000/1000 "), std::string::npos) << line;
      found_file = true;
    }
  }
  EXPECT_TRUE(found_file) << listed->stdout_data;
}

}  // namespace
}  // namespace kiln::executor::test
