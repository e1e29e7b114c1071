// RUN --mount=type=secret, type=ssh and type=tmpfs end to end (issue 11):
// a secret is readable during the step and nowhere afterwards (layers,
// `kiln inspect`, logs, the cache key); an ssh agent is reachable through a
// relay socket; a tmpfs and every mount target leave nothing in the layer.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "tests/e2e/run_mount_fixture.h"
#include "tests/support/test_env.h"
#include "util/file.h"
#include "util/strings.h"

namespace kiln::test {
namespace {

using RunMountSecretTest = RunMountTest;
using RunMountSshTest = RunMountTest;
using RunMountTmpfsTest = RunMountTest;

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

constexpr const char* k_secret = "s3cr3t-VALUE-4f1d9a";

TEST_F(RunMountSecretTest, ReadableDuringTheStepAbsentFromLayersInspectAndLogs) {
  std::string file = path_join(m_tmp->path(), "token");
  ASSERT_TRUE(write_file(file, k_secret, 0600));
  write_context("Dockerfile",
      "FROM busybox\n"
      "RUN --mount=type=secret,id=tok sh -c 'md5sum < /run/secrets/tok > /sum"
      " && stat -c %a /run/secrets/tok > /mode && ls /run/secrets | wc -l > /count'\n"
      "RUN --mount=type=secret,id=tok,target=/etc/app/key,uid=1000,gid=1000,mode=0440 "
      "sh -c 'stat -c \"%u %g %a\" /etc/app/key > /owner; test -s /etc/app/key'\n"
      "RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'printf %s \"$TOKEN\" | md5sum > /envsum"
      " && test ! -e /run/secrets/tok && echo env-ok > /env'\n");
  // The Dockerfile (hence history and the progress log) must not hold the
  // value: the steps compare digests.
  auto sum = run_cmd({"md5sum", file});
  ASSERT_EQ(sum.status, 0) << sum.describe();
  std::string want = sum.out.substr(0, 32);
  // Debug logging on: not even the sandbox trace may show the value.
  auto r = kiln({"--log-level", "debug", "bud", "--secret", "id=tok,src=" + file, m_context});
  ASSERT_EQ(r.status, 0) << r.describe();
  std::string id = last_line(r.out);
  EXPECT_EQ(file_in_image(id, "/sum").substr(0, 32), want);
  EXPECT_EQ(file_in_image(id, "/envsum").substr(0, 32), want);
  EXPECT_EQ(file_in_image(id, "/mode"), "400\n");
  EXPECT_EQ(file_in_image(id, "/count"), "1\n");
  EXPECT_EQ(file_in_image(id, "/owner"), "1000 1000 440\n");
  EXPECT_EQ(file_in_image(id, "/env"), "env-ok\n");
  std::string listing = layer_listing(id);
  EXPECT_FALSE(has(listing, "run/secrets")) << listing;
  EXPECT_FALSE(has(listing, "etc/app")) << listing;
  EXPECT_FALSE(has(layer_bytes(id), k_secret));
  EXPECT_FALSE(has(inspect(id), k_secret));
  EXPECT_FALSE(has(r.out + r.err, k_secret)) << "the secret was logged";
  // Nothing kiln keeps (blobs, history, cache records, build logs, scratch
  // dirs) holds the bytes: grep the whole store.
  auto grep = run_cmd({"grep", "-r", "-l", "-a", k_secret, m_root});
  EXPECT_EQ(grep.status, 1) << "the secret reached the store: " << grep.out;
}

TEST_F(RunMountSecretTest, FromEnvironmentAndChangingItKeepsTheCache) {
  std::string df = "FROM busybox\nRUN --mount=type=secret,id=api,required cat /run/secrets/api > /dev/null && echo x > /x\n";
  auto r1 = bud(df, {"--secret", "id=api,env=API_TOKEN"}, {{"API_TOKEN", "first-value"}});
  ASSERT_EQ(r1.status, 0) << r1.describe();
  auto r2 = bud(df, {"--secret", "id=api,env=API_TOKEN"}, {{"API_TOKEN", "second-value"}});
  ASSERT_EQ(r2.status, 0) << r2.describe();
  EXPECT_EQ(last_line(r1.out), last_line(r2.out)) << "a changed secret must not bust the cache";
}

TEST_F(RunMountSecretTest, RequiredWithoutSecretFailsNamingTheId) {
  auto r = bud("FROM busybox\nRUN --mount=type=secret,id=deploy-key,required=true cat /run/secrets/deploy-key\n");
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(has(r.err, "secret `deploy-key` is required but was not given")) << r.describe();
  EXPECT_TRUE(has(r.err, "--secret id=deploy-key")) << r.describe();
}

TEST_F(RunMountSecretTest, OptionalWithoutSecretSkipsTheMount) {
  std::string id = bud_ok("FROM busybox\nRUN --mount=type=secret,id=maybe sh -c 'test ! -e /run/secrets/maybe && echo "
                          "skipped > /s'\n");
  EXPECT_EQ(file_in_image(id, "/s"), "skipped\n");
}

TEST_F(RunMountSecretTest, BadFlagsAreUsageErrors) {
  auto r = bud("FROM busybox\n", {"--secret", "src=/nonexistent"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_TRUE(has(r.err, "id= is required")) << r.describe();
  auto missing = bud("FROM busybox\n", {"--secret", "id=x,src=/nonexistent/file"});
  EXPECT_NE(missing.status, 0);
  EXPECT_TRUE(has(missing.err, "secret `x`")) << missing.describe();
}

// A stand-in for ssh-agent: answers every message with "agent:" + message.
class FakeAgent {
 public:
  explicit FakeAgent(const std::string& path) : m_path(path) {
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::chmod(path.c_str(), 0600);  // like ssh-agent: only its owner may connect
    EXPECT_EQ(::listen(m_fd, 8), 0);
    m_thread = std::thread([this] { serve(); });
  }
  ~FakeAgent() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    m_thread.join();
    ::close(m_fd);
    ::unlink(m_path.c_str());
  }
  int connections() const { return m_connections.load(); }

 private:
  void serve() {
    while (!m_stop) {
      int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        return;
      }
      ++m_connections;
      char buf[256];
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n > 0) {
        std::string reply = "agent:" + std::string(buf, static_cast<size_t>(n));
        (void)!::write(c, reply.data(), reply.size());
      }
      ::close(c);
    }
  }
  std::string m_path;
  int m_fd = -1;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::thread m_thread;
};

TEST_F(RunMountSshTest, AgentIsForwardedThroughARelaySocket) {
  std::string client = path_join(binary_dir(), "tests/e2e/kiln_sock_client");
  ASSERT_TRUE(path_exists(client)) << client;
  auto cp = run_cmd({"cp", client, path_join(m_context, "sock_client")});
  ASSERT_EQ(cp.status, 0) << cp.describe();
  std::string agent_dir = make_dir("agent");
  ::chmod(agent_dir.c_str(), 0700);
  std::string sock = path_join(agent_dir, "agent.sock");
  std::string relay_tmp = make_dir("relay-tmp");  // where the outer process's relay puts its socket
  FakeAgent agent(sock);
  std::string id = bud_ok(
      "FROM busybox\n"
      "COPY sock_client /usr/bin/sock_client\n"
      "RUN --mount=type=ssh sh -c 'sock_client \"$SSH_AUTH_SOCK\" ping > /reply; echo $SSH_AUTH_SOCK > /sock; "
      "stat -c \"%a %u\" $SSH_AUTH_SOCK > /mode'\n"
      "RUN --mount=type=ssh,id=work,target=/agent.sock,uid=1000,mode=0660 sh -c "
      "'stat -c \"%a %u\" /agent.sock > /mode2; sock_client /agent.sock two > /reply2'\n"
      "RUN sh -c 'ls -a /run/buildkit /agent.sock > /after 2>&1; echo \"[$SSH_AUTH_SOCK]\" >> /after'\n",
      {"--ssh", "default", "--ssh", "work=" + sock}, {{"SSH_AUTH_SOCK", sock}, {"TMPDIR", relay_tmp}});
  EXPECT_EQ(file_in_image(id, "/reply"), "agent:ping");
  EXPECT_EQ(file_in_image(id, "/sock"), "/run/buildkit/ssh_agent.0\n");
  EXPECT_EQ(file_in_image(id, "/mode"), "600 0\n");
  EXPECT_EQ(file_in_image(id, "/mode2"), "660 1000\n");
  EXPECT_EQ(file_in_image(id, "/reply2"), "agent:two");
  EXPECT_EQ(agent.connections(), 2);
  std::string listing = layer_listing(id);
  EXPECT_FALSE(has(listing, "run/buildkit")) << listing;
  EXPECT_FALSE(has(listing, "agent.sock")) << listing;
  // Gone after the step: a later step sees neither socket nor SSH_AUTH_SOCK...
  std::string after = file_in_image(id, "/after");
  EXPECT_FALSE(has(after, "ssh_agent")) << after;
  EXPECT_TRUE(has(after, "[]")) << after;
  // ...and once kiln has exited no relay socket is left anywhere it made one
  // (kiln's output reaches EOF only when its relay processes have exited).
  auto sockets = run_cmd({"find", m_root, relay_tmp, "-type", "s"});
  EXPECT_EQ(sockets.status, 0) << sockets.describe();
  EXPECT_EQ(sockets.out, "") << "relay sockets outlived the build";
  auto relay_dirs = list_dir(relay_tmp);
  ASSERT_TRUE(relay_dirs);
  EXPECT_TRUE(relay_dirs->empty()) << join(*relay_dirs, " ");
  EXPECT_EQ(agent.connections(), 2) << "nothing reached the agent after the steps that mount it";
}

TEST_F(RunMountSshTest, RequiredWithoutAgentFailsNamingIt) {
  auto r = bud("FROM busybox\nRUN --mount=type=ssh,id=gh,required true\n");
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(has(r.err, "SSH agent `gh` is required but was not given")) << r.describe();
  std::string id = bud_ok("FROM busybox\nRUN --mount=type=ssh sh -c 'echo \"[$SSH_AUTH_SOCK]\" > /s'\n");
  EXPECT_EQ(file_in_image(id, "/s"), "[]\n");  // optional: skipped
}

TEST_F(RunMountTmpfsTest, SizeIsEnforcedAndNestedTargetsLeaveNoStubs) {
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN --mount=type=tmpfs,target=/scratch/a/b,size=1m "
      "--mount=type=cache,target=/scratch/a/b/c/cache "
      "--mount=type=tmpfs,target=/x/y sh -c "
      "'if dd if=/dev/zero of=/scratch/a/b/big bs=1k count=2048 2>/dev/null; then echo fit; else echo full; fi "
      "> /size; touch /scratch/a/b/c/cache/f /x/y/f; mkdir -p /kept && echo k > /kept/k'\n");
  EXPECT_EQ(file_in_image(id, "/size"), "full\n");
  std::string listing = layer_listing(id);
  EXPECT_FALSE(has(listing, "scratch")) << listing;
  EXPECT_FALSE(has(listing, " x/")) << listing;
  EXPECT_TRUE(has(listing, "kept/k")) << listing;
}

TEST_F(RunMountTmpfsTest, ExistingTargetsAreKeptAsTheyWere) {
  std::string id = bud_ok(
      "FROM busybox\n"
      "RUN mkdir -p /srv/data && echo mine > /srv/data/keep\n"
      "RUN --mount=type=tmpfs,target=/srv/data --mount=type=tmpfs,target=/tmp sh -c 'ls /srv/data > /seen'\n");
  EXPECT_EQ(file_in_image(id, "/seen"), "");
  EXPECT_EQ(file_in_image(id, "/srv/data/keep"), "mine\n");
}

}  // namespace
}  // namespace kiln::test
