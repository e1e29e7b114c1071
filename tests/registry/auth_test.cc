// Authentication against the real registry: htpasswd basic auth behind a
// self-signed TLS certificate (--cert-dir), and bearer tokens from a token
// server. Also kiln login/logout and the auth file they write.
#include <gtest/gtest.h>

#include "oci/json.h"
#include "tests/registry/registry_fixture.h"

namespace kiln::test {
namespace {

class BasicAuthTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    start_registry(RegistryAuth::htpasswd_tls);
  }
};

TEST_F(BasicAuthTest, LoginWithBadCredentialsFailsClearly) {
  auto r = kiln({"login", "--cert-dir", server->cert_dir(), "-u", "kiln", "--password-stdin", server->host()},
                "wrong-password\n");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("refused the credentials of user `kiln`"), std::string::npos) << r.stderr_data;
  EXPECT_EQ(r.stderr_data.find("wrong-password"), std::string::npos) << r.stderr_data;
  EXPECT_FALSE(path_exists(auth_file));
}

TEST_F(BasicAuthTest, PullWithBadCredentialsFailsWith401) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--cert-dir", server->cert_dir(), "--creds",
                 "kiln:not-the-password", server->host() + "/x/y:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("HTTP 401"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("registry `" + server->host() + "` refused the credentials of user `kiln`"),
            std::string::npos)
      << r.stderr_data;
  EXPECT_EQ(r.stderr_data.find("not-the-password"), std::string::npos) << r.stderr_data;
}

TEST_F(BasicAuthTest, LoginPushPullLogout) {
  auto login = kiln({"login", "--cert-dir", server->cert_dir(), "-u", "kiln", "--password-stdin", server->host()},
                    server->options().password + "\n");
  ASSERT_EQ(login.exit_status, 0) << login.stderr_data;
  auto text = read_file(auth_file);
  ASSERT_TRUE(text);
  auto j = oci::parse_json(*text, "auth.json");
  ASSERT_TRUE(j);
  EXPECT_TRUE((*j)["auths"].contains(server->host())) << *text;
  struct stat st {};
  ASSERT_EQ(::stat(auth_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::string src = store_with_busybox();
  std::string ref = server->host() + "/private/busybox:1";
  auto push = kiln({"--root", src, "push", "--cert-dir", server->cert_dir(), "busybox", ref});
  ASSERT_EQ(push.exit_status, 0) << push.stderr_data;
  auto pull = kiln({"--root", path_join(tmp(), "dst"), "pull", "--cert-dir", server->cert_dir(), ref});
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;

  ASSERT_EQ(kiln({"logout", server->host()}).exit_status, 0);
  auto anon = kiln({"--root", path_join(tmp(), "anon"), "pull", "--cert-dir", server->cert_dir(), ref});
  EXPECT_EQ(anon.exit_status, 1);
  EXPECT_NE(anon.stderr_data.find("kiln login"), std::string::npos) << anon.stderr_data;
  EXPECT_NE(kiln({"logout", server->host()}).exit_status, 0);  // nothing left to remove
}

TEST_F(BasicAuthTest, UntrustedCertificateIsRefusedWithAHint) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--retry", "0", server->host() + "/x/y:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("--cert-dir"), std::string::npos) << r.stderr_data;
}

TEST_F(BasicAuthTest, TlsVerifyFalseSkipsVerification) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--tls-verify=false", "--creds",
                 "kiln:" + server->options().password, server->host() + "/x/y:1"});
  EXPECT_EQ(r.exit_status, 1);  // connected and authenticated; the image does not exist
  EXPECT_NE(r.stderr_data.find("not found"), std::string::npos) << r.stderr_data;
}

TEST_F(BasicAuthTest, CredentialsFromDockerConfig) {
  std::string docker_dir = path_join(home, ".docker");
  ASSERT_TRUE(make_dirs(docker_dir));
  std::string b64 = run({"sh", "-c", "printf %s 'kiln:" + server->options().password + "' | base64 -w0"}).stdout_data;
  ASSERT_TRUE(write_file(path_join(docker_dir, "config.json"),
                         cat("{\"auths\":{\"https://", server->host(), "\":{\"auth\":\"", b64, "\"}}}")));
  std::string src = store_with_busybox();
  auto push = kiln({"--root", src, "push", "--cert-dir", server->cert_dir(), "busybox", server->host() + "/d/c:1"});
  EXPECT_EQ(push.exit_status, 0) << push.stderr_data;
}

class TokenAuthTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    start_registry(RegistryAuth::token);
  }
};

TEST_F(TokenAuthTest, PushAndPullWithBearerTokens) {
  auto login = kiln({"login", "--tls-verify=false", "-u", "kiln", "--password-stdin", server->host()},
                    server->options().password);
  ASSERT_EQ(login.exit_status, 0) << login.stderr_data;
  std::string src = store_with_busybox();
  std::string ref = server->host() + "/tok/busybox:1";
  int before = server->token_requests();
  auto push = kiln({"--root", src, "push", "--tls-verify=false", "busybox", ref});
  ASSERT_EQ(push.exit_status, 0) << push.stderr_data;
  // One token for the push's scope, reused for every blob and the manifest.
  EXPECT_EQ(server->token_requests() - before, 1);
  auto pull = kiln({"--root", path_join(tmp(), "dst"), "pull", "--tls-verify=false", ref});
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;
}

TEST_F(TokenAuthTest, BadCredentialsAreRefusedByTheTokenServer) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--tls-verify=false", "--creds", "kiln:nope",
                 server->host() + "/tok/busybox:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("the token server refused the credentials of user `kiln`"), std::string::npos)
      << r.stderr_data;
}

TEST_F(TokenAuthTest, AnonymousPullIsDenied) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--tls-verify=false", server->host() + "/tok/busybox:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("refused anonymous access"), std::string::npos) << r.stderr_data;
}

}  // namespace
}  // namespace kiln::test
