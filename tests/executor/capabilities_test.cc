#include "executor/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

namespace kiln::executor {
namespace {

TEST(CapabilitiesTest, DefaultIsBuildkitsFourteen) {
  auto set = CapabilitySet::buildkit_default();
  EXPECT_EQ(set.names(), (std::vector<std::string>{
                             "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
                             "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                             "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}));
  EXPECT_EQ(set.bits(), 0xa80425fbull);
}

TEST(CapabilitiesTest, ParsesNamesLikeDocker) {
  EXPECT_EQ(*parse_capability("NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(*parse_capability("cap_sys_admin"), CAP_SYS_ADMIN);
  EXPECT_EQ(*parse_capability(" Cap_Chown "), CAP_CHOWN);
  auto bad = parse_capability("CAP_FLY");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::invalid_input);
  EXPECT_EQ(bad.error().render(), "parse capability `CAP_FLY`: unknown capability");
}

TEST(CapabilitiesTest, AddAndDropFollowDockersOrder) {
  auto base = CapabilitySet::buildkit_default();
  auto r = apply_capability_changes(base, {"NET_ADMIN"}, {"CHOWN"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains(CAP_NET_ADMIN));
  EXPECT_FALSE(r->contains(CAP_CHOWN));
  r = apply_capability_changes(base, {"CHOWN"}, {"ALL"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->names(), std::vector<std::string>{"CAP_CHOWN"});
  r = apply_capability_changes(base, {"all"}, {"SYS_ADMIN"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->contains(CAP_SYS_ADMIN));
  EXPECT_TRUE(r->contains(CAP_SYS_MODULE));
  EXPECT_FALSE(apply_capability_changes(base, {"NOPE"}, {}));
}

}  // namespace
}  // namespace kiln::executor
