#include <gtest/gtest.h>

#include "executor/defaults.h"
#include "executor/user_namespace.h"

namespace kiln::executor {
namespace {

IdMappingInputs user_inputs() {
  IdMappingInputs in;
  in.uid = 1000;
  in.gid = 1000;
  in.user_name = "alice";
  in.subuid = "bob:100000:65536\nalice:165536:65536\n";
  in.subgid = "alice:265536:1000\n";
  in.used_ids = {0, 1000, 65534};
  return in;
}

TEST(IdMappingTest, ParsesSubordinateIdFiles) {
  auto ranges = parse_subordinate_ids("# comment\nalice:100000:65536\nbad line\n1001:200000:10\nx:1:\n");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].owner, "alice");
  EXPECT_EQ(ranges[0].start, 100000u);
  EXPECT_EQ(ranges[0].count, 65536u);
  EXPECT_EQ(ranges[1].owner, "1001");
}

TEST(IdMappingTest, OrdinaryUserMapsRootToSelfAndTheRestToItsRange) {
  auto m = compute_id_mapping(user_inputs());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mode, MappingMode::subordinate);
  EXPECT_EQ(m->uids, (std::vector<IdRange>{{0, 1000, 1}, {1, 165536, 65536}}));
  EXPECT_EQ(m->gids, (std::vector<IdRange>{{0, 1000, 1}, {1, 265536, 1000}}));
  EXPECT_EQ(m->host_root_uid(), 1000u);
  EXPECT_EQ(*m->host_uid(1000), 165536u + 999u);
  EXPECT_TRUE(m->warning.empty());
  EXPECT_EQ(IdMapping::format(m->uids), "0 1000 1\n1 165536 65536\n");
}

TEST(IdMappingTest, RangeMayBeListedByUid) {
  auto in = user_inputs();
  in.subuid = "1000:300000:10\n";
  in.subgid = "1000:300000:10\n";
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uids[1], (IdRange{1, 300000, 10}));
}

TEST(IdMappingTest, WithoutARangeFallsBackToSingleIdWithAWarning) {
  auto in = user_inputs();
  in.subgid = "";
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mode, MappingMode::single_id);
  EXPECT_EQ(m->uids, (std::vector<IdRange>{{0, 1000, 1}}));
  EXPECT_EQ(m->gids, (std::vector<IdRange>{{0, 1000, 1}}));
  EXPECT_NE(m->warning.find("single-id mode"), std::string::npos);
  EXPECT_NE(m->warning.find("/etc/subgid"), std::string::npos);
  EXPECT_NE(m->warning.find("usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice"),
            std::string::npos)
      << m->warning;
}

TEST(IdMappingTest, WithoutNewuidmapFallsBackToSingleId) {
  auto in = user_inputs();
  in.have_newidmap = false;
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mode, MappingMode::single_id);
  EXPECT_NE(m->warning.find("newuidmap"), std::string::npos);
}

TEST(IdMappingTest, RootUsesItsOwnRange) {
  IdMappingInputs in;
  in.subuid = "root:500000:65536\n";
  in.subgid = "root:600000:65536\n";
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mode, MappingMode::root_range);
  EXPECT_EQ(m->uids, (std::vector<IdRange>{{0, 500000, 65536}}));
  EXPECT_EQ(m->gids, (std::vector<IdRange>{{0, 600000, 65536}}));
}

TEST(IdMappingTest, RootWithoutARangeGetsTheDocumentedDefault) {
  IdMappingInputs in;
  in.subuid = "alice:100000:65536\n";
  in.used_ids = {0, 1000};
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uids, (std::vector<IdRange>{{0, defaults::k_root_range_start, defaults::k_root_range_count}}));
  EXPECT_EQ(m->gids, m->uids);
  EXPECT_NE(m->host_root_uid(), 0u);
}

TEST(IdMappingTest, RootDefaultSkipsTakenRangesAndIds) {
  IdMappingInputs in;
  in.subuid = "x:1000000000:10\n";
  in.subgid = "y:1000065536:65536\n";
  in.used_ids = {1000131072 + 5};
  auto m = compute_id_mapping(in);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uids[0].host, 1000000000u + 3 * 65536u);
}

TEST(IdMappingTest, RootRangeStartingAtHostZeroIsRefused) {
  IdMappingInputs in;
  in.subuid = "root:0:65536\n";
  auto m = compute_id_mapping(in);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::invalid_input);
}

}  // namespace
}  // namespace kiln::executor
