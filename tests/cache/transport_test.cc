#include "cache/transport.h"

#include <gtest/gtest.h>

#include "tests/support/kiln_runner.h"
#include "util/file.h"
#include "util/temp_dir.h"

namespace kiln::cache {
namespace {

TEST(TransportTest, ParsesLocalReferences) {
  auto r = parse_local_ref("oci:/tmp/x:app");
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->kind, TransportKind::oci_dir);
  EXPECT_EQ((*r)->path, "/tmp/x");
  EXPECT_EQ((*r)->ref, "app");
  EXPECT_FALSE(*parse_local_ref("busybox"));
  EXPECT_FALSE(parse_local_ref("oci-archive:"));
}

class TransportRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create();
    ASSERT_TRUE(t);
    m_tmp = std::make_unique<TempDir>(std::move(*t));
    auto s = Store::open({path_join(m_tmp->path(), "s"), std::nullopt});
    ASSERT_TRUE(s);
    m_store = std::make_unique<Store>(std::move(*s));
    ASSERT_FALSE(test::busybox_layout().empty());
  }
  std::unique_ptr<TempDir> m_tmp;
  std::unique_ptr<Store> m_store;
};

TEST_F(TransportRoundTrip, OciLayoutKeepsDigestsAndName) {
  auto r = import_image(*m_store, {TransportKind::oci_dir, test::busybox_layout(), ""}, oci::host_platform());
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->id.str(), test::busybox_image_id());
  EXPECT_EQ(r->names, std::vector<std::string>{"docker.io/library/busybox:latest"});
  auto img = m_store->load_image(r->manifest.digest);
  ASSERT_TRUE(img);
  for (auto kind : {TransportKind::oci_dir, TransportKind::oci_archive, TransportKind::docker_archive}) {
    std::string dest = path_join(m_tmp->path(), "out-" + transport_name(kind));
    ASSERT_TRUE(export_image(*m_store, *img, {kind, dest, ""})) << transport_name(kind);
    auto other = Store::open({path_join(m_tmp->path(), "other-" + transport_name(kind)), std::nullopt});
    ASSERT_TRUE(other);
    auto back = import_image(*other, {kind, dest, ""}, oci::host_platform());
    ASSERT_TRUE(back) << transport_name(kind) << ": " << back.error().render();
    EXPECT_EQ(back->id, r->id) << transport_name(kind);
    EXPECT_EQ(back->names, r->names) << transport_name(kind);
    if (kind != TransportKind::docker_archive) {
      EXPECT_EQ(back->manifest.digest, r->manifest.digest) << transport_name(kind);
    }
  }
}

TEST_F(TransportRoundTrip, TruncatedArchiveChangesNothing) {
  auto bytes = read_file(test::busybox_archive());
  ASSERT_TRUE(bytes);
  std::string cut = path_join(m_tmp->path(), "cut.tar");
  ASSERT_TRUE(write_file(cut, bytes->substr(0, bytes->size() / 2)));
  auto r = import_image(*m_store, {TransportKind::oci_archive, cut, ""}, oci::host_platform());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().render().find("cut.tar"), std::string::npos) << r.error().render();
  EXPECT_TRUE(m_store->list_images()->empty());
  EXPECT_TRUE(list_dir(m_store->tmp_dir())->empty());
}

TEST_F(TransportRoundTrip, UnnamedSourceGetsLocalhostName) {
  std::string dir = path_join(m_tmp->path(), "My Layout");
  ASSERT_TRUE(test::run_cmd({"cp", "-r", test::busybox_layout(), dir}).status == 0);
  ASSERT_TRUE(write_file(path_join(dir, "index.json"),
                         std::string(*read_file(path_join(dir, "index.json")))
                             .replace(std::string(*read_file(path_join(dir, "index.json"))).find("docker.io/library/busybox:latest"),
                                      32, "v2")));
  auto r = import_image(*m_store, {TransportKind::oci_dir, dir, "v2"}, oci::host_platform());
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->names, std::vector<std::string>{"localhost/my-layout:v2"});
}

}  // namespace
}  // namespace kiln::cache
