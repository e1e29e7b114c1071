#include "executor/seccomp.h"

#include <linux/capability.h>
#include <linux/filter.h>

#include <gtest/gtest.h>

#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::executor {
namespace {

TEST(SeccompTest, CompilesDockersPolicyToBpf) {
  auto bpf = default_seccomp_program(CapabilitySet::buildkit_default());
  ASSERT_TRUE(bpf) << bpf.error().render();
  EXPECT_GT(bpf->size(), 100 * sizeof(struct sock_filter));
  EXPECT_EQ(bpf->size() % sizeof(struct sock_filter), 0u);
}

TEST(SeccompTest, ProgramDependsOnCapabilities) {
  auto base = CapabilitySet::buildkit_default();
  auto admin = base;
  admin.add(CAP_SYS_ADMIN);
  EXPECT_NE(seccomp_cache_key(base), seccomp_cache_key(admin));
  EXPECT_EQ(seccomp_cache_key(base), seccomp_cache_key(base));
  EXPECT_NE(*default_seccomp_program(base), *default_seccomp_program(admin));
}

TEST(SeccompTest, CachesCompiledProgramsOnDisk) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto caps = CapabilitySet::buildkit_default();
  caps.add(CAP_SYS_PTRACE);  // a set no other test memoized yet
  auto bpf = default_seccomp_program(caps, dir->path());
  ASSERT_TRUE(bpf);
  std::string file = path_join(dir->path(), "seccomp-" + seccomp_cache_key(caps) + ".bpf");
  EXPECT_EQ(read_file(file).value_or(""), *bpf);
}

}  // namespace
}  // namespace kiln::executor
