// Mount targets the sandbox had to create never reach the snapshot, and
// nothing from the lower layers is turned into a whiteout.
#include "executor/mount_stubs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "tests/executor/sandbox_fixture.h"
#include "util/file.h"

namespace kiln::executor::test {
namespace {

using Listing = std::vector<std::string>;

class MountStubsTest : public SandboxFixture {
 protected:
  SandboxSpec spec_with_mounts(std::vector<std::string> argv) {
    SandboxSpec spec = overlay_spec(std::move(argv));
    std::string shared = path_join(tmp(), "shared");
    EXPECT_TRUE(make_dirs(shared));
    spec.mounts.push_back({MountSpec::Type::bind, shared, "/mnt/a/b"});
    spec.mounts.push_back({MountSpec::Type::tmpfs, "", "/var/cache/tool"});
    return spec;
  }
};

TEST_F(MountStubsTest, StubsNeverReachTheUpperDir) {
  RunOutput r = run(spec_with_mounts({"true"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 0);
  // /proc, /dev, /sys, /etc/hosts, /etc/resolv.conf, /etc/hostname, /mnt/a/b
  // and /var/cache/tool were all created for the run; /etc was copied up.
  EXPECT_EQ(list_tree(upper()), Listing{});
}

TEST_F(MountStubsTest, LowerFilesAreNeverWhitedOut) {
  std::string lower = path_join(tmp(), "lower-etc");
  ASSERT_TRUE(make_dirs(path_join(lower, "etc")));
  ASSERT_TRUE(write_file(path_join(lower, "etc/hosts"), "10.0.0.1 from-the-image\n"));
  ASSERT_TRUE(write_file(path_join(lower, "etc/resolv.conf"), "nameserver 10.0.0.2\n"));
  ASSERT_TRUE(make_dirs(path_join(lower, "proc")));
  SandboxSpec spec = overlay_spec({"cat", "/etc/hosts"});
  spec.overlay->lowers.insert(spec.overlay->lowers.begin(), lower);
  RunOutput r = run(spec);
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(r.out, default_hosts("kiln-test"));
  EXPECT_EQ(list_tree(upper()), Listing{});
  EXPECT_EQ(read_file(path_join(lower, "etc/hosts")).value_or(""), "10.0.0.1 from-the-image\n");
}

TEST_F(MountStubsTest, ChangesNextToStubsAreKept) {
  RunOutput r = run(spec_with_mounts({"sh", "-c", "echo x > /etc/new && mkdir /mnt/a/c && echo y > /mnt/a/b/z"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_EQ(list_tree(upper()), (Listing{"etc d", "etc/new f", "mnt d", "mnt/a d", "mnt/a/c d"}));
  EXPECT_EQ(read_file(path_join(tmp(), "shared/z")).value_or(""), "y\n");
}

TEST_F(MountStubsTest, CopiedUpParentWithNewModeIsKept) {
  RunOutput r = run(overlay_spec({"chmod", "700", "/etc"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(list_tree(upper()), Listing{"etc d"});
  struct stat st {};
  ASSERT_EQ(::stat(path_join(upper(), "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(MountStubsTest, WhiteoutReplacedByAStubIsRestored) {
  // An earlier step deleted /etc/hosts; this step binds one over it.
  ASSERT_TRUE(make_dirs(path_join(upper(), "etc")));
  ASSERT_EQ(::mknod(path_join(upper(), "etc/hosts").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  auto before = list_tree(upper());
  RunOutput r = run(overlay_spec({"true"}));
  ASSERT_TRUE(r.status) << r.status.error().render();
  EXPECT_EQ(list_tree(upper()), before);
}

}  // namespace
}  // namespace kiln::executor::test
