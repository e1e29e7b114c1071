#include "executor/spec_wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace kiln::executor {
namespace {

TEST(SpecWireTest, ChildSpecRoundTrips) {
  ChildSpec s;
  s.overlay = true;
  s.lowers = {"/l1", "/l2"};
  s.upper = "/u";
  s.work = "/w";
  s.mountpoint = "/m";
  ChildMount tmpfs;
  tmpfs.kind = ChildMount::Kind::tmpfs;
  tmpfs.destination = "/t";
  tmpfs.read_only = true;
  tmpfs.recursive = false;
  tmpfs.tmpfs_size = 4096;
  tmpfs.tmpfs_mode = 0700;
  ChildMount bind;
  bind.source = "s";
  bind.source_root = "/root-of-s";
  bind.destination = "/d";
  bind.cow_upper = "/u2";
  bind.cow_work = "/w2";
  ChildMount file;
  file.kind = ChildMount::Kind::file;
  file.destination = "/run/secrets/x";
  file.contents = std::string("a\0b", 3);
  file.file_mode = 0440;
  file.file_uid = 7;
  file.file_gid = 8;
  s.mounts = {tmpfs, bind, file};
  s.argv = {"sh", "-c", ""};
  s.env = {"A=1"};
  s.cwd = "/work";
  s.uid = 1000;
  s.gid = 50;
  s.groups = {1, 2};
  s.set_groups = false;
  s.hostname = "h";
  s.bind_hosts = true;
  s.hosts = "127.0.0.1 x\n";
  s.network_none = true;
  s.capabilities = 0xa80425fb;
  s.seccomp_bpf = std::string("\0\1\2\3\4\5\6\7", 8);
  s.no_new_privs = true;
  s.rlimits = {{7, 10, 20}};
  s.umask = 077;
  s.trace = true;
  auto d = decode_child_spec(encode_child_spec(s));
  ASSERT_TRUE(d) << d.error().render();
  EXPECT_EQ(encode_child_spec(*d), encode_child_spec(s));
  EXPECT_EQ(d->mounts[0].tmpfs_mode, 0700u);
  ASSERT_EQ(d->mounts.size(), 3u);
  EXPECT_EQ(d->mounts[1].source_root, "/root-of-s");
  EXPECT_EQ(d->mounts[1].cow_work, "/w2");
  EXPECT_EQ(d->mounts[2].kind, ChildMount::Kind::file);
  EXPECT_EQ(d->mounts[2].contents, std::string("a\0b", 3));
  EXPECT_EQ(d->mounts[2].file_uid, 7u);
  EXPECT_EQ(d->seccomp_bpf.size(), 8u);
  EXPECT_EQ(d->rlimits[0].hard, 20u);
}

TEST(SpecWireTest, TruncatedSpecIsRejected) {
  ChildSpec s;
  s.argv = {"true"};
  std::string bytes = encode_child_spec(s);
  for (size_t n : {size_t{0}, size_t{5}, bytes.size() - 1}) {
    EXPECT_FALSE(decode_child_spec(std::string_view(bytes).substr(0, n))) << n;
  }
  EXPECT_FALSE(decode_child_spec(bytes + "x"));
}

TEST(SpecWireTest, ErrorsRoundTripWithContextAndHint) {
  Error e = Error(ErrorCode::sandbox, "mount overlay", EPERM).with_hint("use vfs");
  e.wrap("sandbox step 2: mount the rootfs");
  Error d = decode_error(encode_error(e));
  EXPECT_EQ(d.render(), e.render());
  EXPECT_EQ(d.hint(), "use vfs");
  EXPECT_EQ(d.code(), ErrorCode::sandbox);
  EXPECT_EQ(decode_error("junk").code(), ErrorCode::internal);
}

TEST(SpecWireTest, MessagesAreOneRecordEach) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  std::string big(100000, 'x');
  ASSERT_TRUE(send_message(fds[0], MessageTag::trace, big));
  ASSERT_TRUE(send_message(fds[0], MessageTag::ok, ""));
  ::close(fds[0]);
  EXPECT_EQ(*receive_message(fds[1]), "T" + big);
  EXPECT_EQ(*receive_message(fds[1]), "O");
  EXPECT_EQ(*receive_message(fds[1]), "");  // EOF
  ::close(fds[1]);
}

}  // namespace
}  // namespace kiln::executor
