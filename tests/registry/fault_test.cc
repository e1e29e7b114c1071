// Faults between kiln and the real registry, injected by a loopback proxy:
// a connection cut mid-blob (resumed with Range), a 503 then success
// (retried), a wrong blob (rejected, nothing stored), retries used up.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/registry/registry_fixture.h"
#include "tests/support/fault_proxy.h"
#include "util/hasher.h"

namespace kiln::test {
namespace {

class FaultTest : public PlainRegistryTest {
 protected:
  void SetUp() override {
    PlainRegistryTest::SetUp();
    if (stopped()) {
      return;
    }
    std::string src = store_with_busybox("src");
    ref_path = "/faults/busybox:1";
    auto push = kiln({"--root", src, "push", "--tls-verify=false", "busybox", server->host() + ref_path});
    ASSERT_EQ(push.exit_status, 0) << push.stderr_data;
    proxy = std::make_unique<FaultProxy>(server->port());
  }

  ProgramResult pull_through_proxy(const std::string& store_name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--root", path_join(tmp(), store_name), "pull", "--tls-verify=false",
                                  "--retry-delay", "10ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(proxy->host() + ref_path);
    return kiln(args);
  }

  std::unique_ptr<FaultProxy> proxy;
  std::string ref_path;
};

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

TEST_F(FaultTest, ConnectionCutMidBlobIsResumed) {
  proxy->add({Fault::Kind::cut_body, "GET", "/blobs/" + busybox_layer_digest(), 300000, 1});
  auto r = pull_through_proxy("s", {"--log-level", "debug"});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(proxy->fired(), 1);
  EXPECT_NE(r.stderr_data.find("resuming at byte 300000"), std::string::npos) << r.stderr_data;
  EXPECT_EQ(kiln({"--root", path_join(tmp(), "s"), "fsck"}).exit_status, 0);
}

TEST_F(FaultTest, ServiceUnavailableOnceIsRetried) {
  proxy->add({Fault::Kind::status, "GET", "/manifests/", 503, 1});
  proxy->add({Fault::Kind::status, "GET", "/blobs/sha256:", 503, 1});
  auto r = pull_through_proxy("s");
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(proxy->fired(), 2);
  EXPECT_NE(r.stderr_data.find("Retrying"), std::string::npos) << r.stderr_data;
}

TEST_F(FaultTest, TooManyFailuresNameTheServersAnswer) {
  proxy->add({Fault::Kind::status, "GET", "/manifests/", 503, -1});
  auto r = pull_through_proxy("s", {"--retry", "2"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(proxy->fired(), 3);
  EXPECT_NE(r.stderr_data.find("HTTP 503: UNAVAILABLE: injected fault"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("repository `faults/busybox`"), std::string::npos) << r.stderr_data;
}

TEST_F(FaultTest, WrongBlobIsRejectedAndNothingIsStored) {
  proxy->add({Fault::Kind::corrupt_body, "GET", "/blobs/" + busybox_layer_digest(), 1000, -1});
  std::string root = path_join(tmp(), "s");
  auto r = pull_through_proxy("s");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("does not match its digest"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("registry `" + proxy->host() + "`"), std::string::npos) << r.stderr_data;
  // No image was named, no wrong blob kept, no temp file left.
  auto images = kiln({"--root", root, "images", "--json"});
  EXPECT_EQ(out_of(images), "[]");
  auto blobs = list_dir(path_join(root, "blobs/sha256"));
  ASSERT_TRUE(blobs);
  for (const auto& b : *blobs) {
    auto hex = sha256_file_hex(path_join(root, "blobs/sha256/" + b));
    ASSERT_TRUE(hex);
    EXPECT_EQ(*hex, b);
  }
  auto tmpfiles = list_dir(path_join(root, "kiln/tmp"));
  ASSERT_TRUE(tmpfiles);
  EXPECT_TRUE(tmpfiles->empty());
}

TEST_F(FaultTest, PushRetriesAnUploadAfterAServerError) {
  std::string src = path_join(tmp(), "src");
  proxy->add({Fault::Kind::status, "HEAD", "/blobs/", 502, 1});
  proxy->add({Fault::Kind::status, "PUT", "/blobs/uploads/", 500, 1});
  auto r = kiln({"--root", src, "push", "--tls-verify=false", "--retry-delay", "10ms", "busybox",
                 proxy->host() + "/faults/pushed:1"});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_EQ(proxy->fired(), 2);
  EXPECT_TRUE(any_contains(proxy->requests(), "PUT /v2/faults/pushed/manifests/1"));
}

}  // namespace
}  // namespace kiln::test
