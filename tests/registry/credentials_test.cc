#include "registry/credentials.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "registry/handover.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::registry {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create();
    ASSERT_TRUE(d);
    dir.emplace(std::move(*d));
    // Isolate from the real user's files.
    for (const char* v : {"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "KILN_AUTH_FDS", "KILN_CERT_DIR",
                          "KILN_CERT_DIR_FDS"}) {
      if (const char* old = std::getenv(v)) {
        saved.emplace_back(v, old);
      }
      ::unsetenv(v);
    }
    saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
    ::setenv("HOME", dir->path().c_str(), 1);
    auth = path_join(dir->path(), "auth.json");
  }
  void TearDown() override {
    ::setenv("HOME", saved_home.c_str(), 1);
    for (const char* v : {"KILN_AUTH_FDS", "KILN_CERT_DIR", "KILN_CERT_DIR_FDS"}) {
      ::unsetenv(v);
    }
    for (const auto& [k, v] : saved) {
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  std::optional<TempDir> dir;
  std::vector<std::pair<std::string, std::string>> saved;
  std::string saved_home;
  std::string auth;
};

TEST_F(CredentialsTest, StoreLookupRemove) {
  ASSERT_TRUE(store_credentials(auth, "reg:5000", {"alice", Redacted<std::string>("pw:with:colons")}));
  auto c = lookup_credentials("reg:5000", "team/app", auth);
  ASSERT_TRUE(c);
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->username, "alice");
  EXPECT_EQ((*c)->password.reveal(), "pw:with:colons");
  EXPECT_FALSE(*lookup_credentials("other:5000", "", auth));
  EXPECT_TRUE(*remove_credentials(auth, "reg:5000"));
  EXPECT_FALSE(*remove_credentials(auth, "reg:5000"));
  EXPECT_FALSE(*lookup_credentials("reg:5000", "", auth));
}

// What the outer process hands over is what the re-executed one reads, even
// when the files themselves are out of its reach (here: gone).
TEST_F(CredentialsTest, HandedOverAuthFilesAreReadFromTheirCopies) {
  ASSERT_TRUE(store_credentials(auth, "reg:5000", {"alice", Redacted<std::string>("s3cret")}));
  ASSERT_TRUE(hand_over_auth_files(auth));
  const char* fds = std::getenv("KILN_AUTH_FDS");
  ASSERT_NE(fds, nullptr);
  EXPECT_EQ(std::string(fds).find("s3cret"), std::string::npos);
  ASSERT_EQ(::unlink(auth.c_str()), 0);
  auto c = lookup_credentials("reg:5000", "", "");
  ASSERT_TRUE(c) << c.error().render();
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->password.reveal(), "s3cret");
  EXPECT_EQ(auth_file_candidates("").size(), 1u);
  ASSERT_TRUE(hand_over_auth_files(auth));  // a second call keeps the first copies
  EXPECT_EQ(std::string(std::getenv("KILN_AUTH_FDS")), fds);
}

// No auth file at all: the re-executed process must not look for the files
// itself (host root's are out of its reach: EACCES, not ENOENT).
TEST_F(CredentialsTest, HandingOverNoAuthFileMeansNoneInside) {
  ASSERT_TRUE(hand_over_auth_files(path_join(dir->path(), "missing.json")));
  const char* fds = std::getenv("KILN_AUTH_FDS");
  ASSERT_NE(fds, nullptr);
  EXPECT_TRUE(auth_file_candidates("").empty());
  auto c = lookup_credentials("reg:5000", "", "");
  ASSERT_TRUE(c) << c.error().render();
  EXPECT_FALSE(*c);
}

TEST_F(CredentialsTest, HandedOverCertDirIsReadFromItsCopies) {
  std::string certs = path_join(dir->path(), "certs");
  ASSERT_TRUE(make_dirs(certs));
  ASSERT_TRUE(write_file(path_join(certs, "ca.crt"), "CA PEM"));
  ASSERT_TRUE(write_file(path_join(certs, "client.cert"), "CERT PEM"));
  ASSERT_TRUE(write_file(path_join(certs, "client.key"), "KEY PEM"));
  ASSERT_TRUE(write_file(path_join(certs, "notes.txt"), "ignored"));
  ASSERT_TRUE(hand_over_cert_dir(certs));
  ASSERT_TRUE(remove_tree(certs));
  auto files = read_cert_dir(certs);
  std::map<std::string, std::string> got;
  for (const auto& f : files) {
    got[f.name] = f.data;
  }
  EXPECT_EQ(got, (std::map<std::string, std::string>{
                     {"ca.crt", "CA PEM"}, {"client.cert", "CERT PEM"}, {"client.key", "KEY PEM"}}));
  EXPECT_TRUE(read_cert_dir(path_join(dir->path(), "other")).empty());
}

TEST_F(CredentialsTest, MostSpecificRepositoryKeyWins) {
  ASSERT_TRUE(store_credentials(auth, "reg.io", {"general", Redacted<std::string>("a")}));
  ASSERT_TRUE(store_credentials(auth, "reg.io/team", {"team", Redacted<std::string>("b")}));
  EXPECT_EQ((*lookup_credentials("reg.io", "team/app", auth))->username, "team");
  EXPECT_EQ((*lookup_credentials("reg.io", "other/app", auth))->username, "general");
}

TEST_F(CredentialsTest, DockerConfigLegacyKeyAndHelpers) {
  ASSERT_TRUE(make_dirs(path_join(dir->path(), ".docker")));
  // "bob:pw" in base64; Docker Hub's legacy key.
  ASSERT_TRUE(write_file(path_join(dir->path(), ".docker/config.json"),
                         R"({"auths":{"https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}},)"
                         R"("credHelpers":{"helped.example":"kilntest"}})"));
  auto c = lookup_credentials("docker.io", "library/busybox", "");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "bob");
  EXPECT_EQ((*c)->password.reveal(), "pw");

  // A credential helper on PATH.
  std::string bin = path_join(dir->path(), "bin");
  ASSERT_TRUE(make_dirs(bin));
  ASSERT_TRUE(write_file(path_join(bin, "docker-credential-kilntest"),
                         "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\n"
                         "printf '{\"ServerURL\":\"%s\",\"Username\":\"helper\",\"Secret\":\"tok\"}' \"$server\"\n",
                         0755));
  std::string old_path = std::getenv("PATH");
  ::setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  auto h = lookup_credentials("helped.example", "", "");
  ::setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(h) << h.error().render();
  ASSERT_TRUE(*h);
  EXPECT_EQ((*h)->username, "helper");
  EXPECT_EQ((*h)->password.reveal(), "tok");
}

TEST_F(CredentialsTest, DefaultFiles) {
  ::setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
  EXPECT_EQ(auth_file_for_write(""), "/run/user/1234/containers/auth.json");
  ::setenv("REGISTRY_AUTH_FILE", "/tmp/a.json", 1);
  EXPECT_EQ(auth_file_for_write(""), "/tmp/a.json");
  EXPECT_EQ(auth_file_for_write("/x.json"), "/x.json");
  ::unsetenv("REGISTRY_AUTH_FILE");
  ::unsetenv("XDG_RUNTIME_DIR");
}

TEST_F(CredentialsTest, NormalizeKeys) {
  EXPECT_EQ(normalize_auth_key("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(normalize_auth_key("http://reg:5000/"), "reg:5000");
  EXPECT_EQ(normalize_auth_key("reg:5000/team"), "reg:5000/team");
}

}  // namespace
}  // namespace kiln::registry
