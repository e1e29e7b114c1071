// Push and pull against the real registry (docker-registry), through the
// kiln binary and, for upload tuning, the library.
#include <gtest/gtest.h>

#include "cache/store.h"
#include "oci/media_types.h"
#include "oci/platform.h"
#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"

namespace kiln::test {
namespace {

oci::Descriptor desc_of(std::string_view type, const oci::Digest& d, size_t size) {
  oci::Descriptor out;
  out.media_type = std::string(type);
  out.digest = d;
  out.size = static_cast<int64_t>(size);
  return out;
}

using PushPullTest = PlainRegistryTest;

TEST_F(PushPullTest, RoundTripKeepsDigests) {
  std::string src = store_with_busybox("src");
  std::string ref = server->host() + "/kiln/busybox:1";
  auto push = kiln({"--root", src, "push", "--tls-verify=false", "busybox", "docker://" + ref});
  ASSERT_EQ(push.exit_status, 0) << push.stderr_data;

  std::string dst = path_join(tmp(), "dst");
  auto pull = kiln({"--root", dst, "pull", "--tls-verify=false", ref});
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;

  auto a = kiln({"--root", src, "inspect", "busybox"});
  auto b = kiln({"--root", dst, "inspect", ref});
  auto ja = oci::parse_json(a.stdout_data, "a");
  auto jb = oci::parse_json(b.stdout_data, "b");
  ASSERT_TRUE(ja && jb) << a.stdout_data << b.stdout_data;
  EXPECT_EQ((*ja)["id"], (*jb)["id"]);
  EXPECT_EQ((*ja)["digest"], (*jb)["digest"]);
  EXPECT_EQ(out_of(pull), (*ja)["id"].get<std::string>());
  EXPECT_EQ((*jb)["name"], ref);
  auto fsck = kiln({"--root", dst, "fsck"});
  EXPECT_EQ(fsck.exit_status, 0) << fsck.stdout_data << fsck.stderr_data;
}

TEST_F(PushPullTest, PushWithoutDestinationUsesTheImageName) {
  std::string src = store_with_busybox();
  std::string ref = server->host() + "/team/app:2";
  ASSERT_EQ(kiln({"--root", src, "tag", "busybox", ref}).exit_status, 0);
  auto push = kiln({"--root", src, "push", "--tls-verify=false", ref});
  ASSERT_EQ(push.exit_status, 0) << push.stderr_data;
  auto pull = kiln({"--root", path_join(tmp(), "dst"), "pull", "-q", "--tls-verify=false", ref});
  EXPECT_EQ(pull.exit_status, 0) << pull.stderr_data;
  EXPECT_TRUE(pull.stderr_data.empty()) << pull.stderr_data;  // --quiet
}

TEST_F(PushPullTest, PushOfShortNameWithoutDestinationIsRefused) {
  std::string src = store_with_busybox();
  auto push = kiln({"--root", src, "push", "busybox:latest"});
  EXPECT_NE(push.exit_status, 0);
  // busybox is docker.io/library/busybox: that names a registry; a local
  // build's name does not.
  ASSERT_EQ(kiln({"--root", src, "tag", "busybox", "app:1"}).exit_status, 0);
  push = kiln({"--root", src, "push", "app:1"});
  EXPECT_NE(push.exit_status, 0);
  EXPECT_NE(push.stderr_data.find("names no registry"), std::string::npos) << push.stderr_data;
}

TEST_F(PushPullTest, RepushSkipsBlobsTheRegistryHas) {
  std::string src = store_with_busybox();
  std::string ref = server->host() + "/kiln/busybox:1";
  ASSERT_EQ(kiln({"--root", src, "push", "--tls-verify=false", "busybox", ref}).exit_status, 0);
  auto again = kiln({"--root", src, "--log-level", "info", "push", "--tls-verify=false", "busybox", ref});
  ASSERT_EQ(again.exit_status, 0) << again.stderr_data;
  EXPECT_NE(again.stderr_data.find("0 uploaded, 2 present"), std::string::npos) << again.stderr_data;
}

TEST_F(PushPullTest, PushMountsBlobsFromAnotherRepository) {
  std::string src = store_with_busybox();
  std::string a = server->host() + "/one/busybox:1";
  std::string b = server->host() + "/two/busybox:1";
  ASSERT_EQ(kiln({"--root", src, "push", "--tls-verify=false", "busybox", a}).exit_status, 0);
  auto r = kiln({"--root", src, "--log-level", "info", "push", "--tls-verify=false", "busybox", b});
  ASSERT_EQ(r.exit_status, 0) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("2 mounted"), std::string::npos) << r.stderr_data;
  auto pull = kiln({"--root", path_join(tmp(), "dst"), "pull", "--tls-verify=false", b});
  EXPECT_EQ(pull.exit_status, 0) << pull.stderr_data;
}

TEST_F(PushPullTest, PullOfUnknownTagNamesTheRepository) {
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--tls-verify=false", server->host() + "/nothing/here:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("repository `nothing/here`"), std::string::npos) << r.stderr_data;
  EXPECT_NE(r.stderr_data.find("not found"), std::string::npos) << r.stderr_data;
}

TEST_F(PushPullTest, ChunkedUploadOfALargeBlob) {
  // A 3 MiB incompressible layer pushed in 256 KiB PATCH chunks (library
  // call: the chunk size is not a CLI flag).
  std::string root = path_join(tmp(), "lib");
  auto store = cache::Store::open({root, std::nullopt});
  ASSERT_TRUE(store) << store.error().render();
  std::string layer(3 << 20, '\0');
  uint32_t x = 12345;
  for (auto& c : layer) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  auto layer_digest = store->put_blob(layer);
  ASSERT_TRUE(layer_digest);
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  auto config_digest = store->put_blob(config);
  ASSERT_TRUE(config_digest);
  oci::Manifest m;
  m.media_type = oci::media::k_oci_manifest;
  m.config = desc_of(oci::media::k_oci_config, *config_digest, config.size());
  m.layers.push_back(desc_of(oci::media::k_oci_layer_gzip, *layer_digest, layer.size()));
  std::string mbytes = oci::serialize_manifest(m);
  auto mdigest = store->put_blob(mbytes);
  ASSERT_TRUE(mdigest);
  oci::Descriptor desc = desc_of(oci::media::k_oci_manifest, *mdigest, mbytes.size());
  ASSERT_TRUE(store->add_image(desc, {"localhost/big:1"}));
  auto loaded = store->load_image(*mdigest);
  ASSERT_TRUE(loaded);

  registry::RegistryOptions ro;
  ro.tls_verify = false;
  ro.registries_conf = registries_conf;
  registry::PushOptions po;
  po.monolithic_max = 1 << 20;
  po.chunk_size = 256 << 10;
  auto dest = oci::parse_reference(server->host() + "/big/blob:1");
  ASSERT_TRUE(dest);
  auto pushed = registry::push_image(*store, *loaded, *dest, ro, po);
  ASSERT_TRUE(pushed) << pushed.error().render();
  EXPECT_EQ(pushed->blobs_uploaded, 2);
  EXPECT_EQ(pushed->manifest_digest, *mdigest);

  auto fresh = cache::Store::open({path_join(tmp(), "fresh"), std::nullopt});
  ASSERT_TRUE(fresh);
  auto pulled = registry::pull_image(*fresh, *dest, oci::host_platform(), ro);
  ASSERT_TRUE(pulled) << pulled.error().render();
  EXPECT_EQ(pulled->manifest.digest, *mdigest);
  EXPECT_TRUE(fresh->verify_blob(*layer_digest));
}

TEST_F(PushPullTest, PullPicksThePlatformFromAnIndex) {
  if (find_program("skopeo").empty()) {
    GTEST_SKIP() << "skopeo is not installed";
  }
  // An index with the busybox manifest for the host and a second manifest
  // (same blobs, another config) for linux/s390x, copied with skopeo --all.
  std::string layout = copy_of_busybox_layout();
  auto index_text = read_file(path_join(layout, "index.json"));
  ASSERT_TRUE(index_text);
  auto idx = oci::parse_index(*index_text);
  ASSERT_TRUE(idx);
  oci::Descriptor host = idx->manifests.at(0);
  auto mtext = read_file(path_join(layout, "blobs/sha256/" + host.digest.hex()));
  ASSERT_TRUE(mtext);
  auto m = oci::parse_manifest(*mtext);
  ASSERT_TRUE(m);
  auto ctext = read_file(path_join(layout, "blobs/sha256/" + m->config.digest.hex()));
  ASSERT_TRUE(ctext);
  auto cj = oci::parse_json(*ctext, "config");
  (*cj)["architecture"] = "s390x";
  std::string other_config = oci::dump_json(*cj);
  auto ocd = oci::Digest::sha256_of(other_config);
  ASSERT_TRUE(write_file(path_join(layout, "blobs/sha256/" + ocd.hex()), other_config));
  oci::Manifest other = *m;
  other.config.digest = ocd;
  other.config.size = static_cast<int64_t>(other_config.size());
  std::string other_bytes = oci::serialize_manifest(other);
  auto omd = oci::Digest::sha256_of(other_bytes);
  ASSERT_TRUE(write_file(path_join(layout, "blobs/sha256/" + omd.hex()), other_bytes));
  oci::Index multi;
  multi.media_type = oci::media::k_oci_index;
  host.annotations.clear();
  host.platform = oci::host_platform();
  oci::Descriptor s390 = desc_of(oci::media::k_oci_manifest, omd, other_bytes.size());
  s390.platform = oci::parse_platform("linux/s390x").value();
  multi.manifests = {host, s390};
  std::string multi_bytes = oci::serialize_index(multi);
  auto mid = oci::Digest::sha256_of(multi_bytes);
  ASSERT_TRUE(write_file(path_join(layout, "blobs/sha256/" + mid.hex()), multi_bytes));
  oci::Index top;
  top.media_type = oci::media::k_oci_index;
  oci::Descriptor entry = desc_of(oci::media::k_oci_index, mid, multi_bytes.size());
  entry.annotations[std::string(oci::media::k_ref_name)] = "multi";
  top.manifests = {entry};
  ASSERT_TRUE(write_file(path_join(layout, "index.json"), oci::serialize_index(top)));
  std::string ref = server->host() + "/multi/busybox:1";
  auto copy = run({"skopeo", "copy", "--all", "--dest-tls-verify=false", "oci:" + layout + ":multi", "docker://" + ref});
  ASSERT_EQ(copy.exit_status, 0) << copy.stderr_data;

  auto pull = kiln({"--root", path_join(tmp(), "a"), "pull", "--tls-verify=false", ref});
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;
  EXPECT_EQ(out_of(pull), m->config.digest.str());
  auto s390_pull = kiln({"--root", path_join(tmp(), "b"), "pull", "--tls-verify=false", "--platform", "linux/s390x", ref});
  ASSERT_EQ(s390_pull.exit_status, 0) << s390_pull.stderr_data;
  EXPECT_EQ(out_of(s390_pull), ocd.str());
  auto none = kiln({"--root", path_join(tmp(), "c"), "pull", "--tls-verify=false", "--platform", "linux/riscv64", ref});
  EXPECT_EQ(none.exit_status, 1);
  EXPECT_NE(none.stderr_data.find("linux/s390x"), std::string::npos) << none.stderr_data;
}

TEST_F(PushPullTest, MirrorFromRegistriesConfIsTriedFirst) {
  // A mirror (the test registry) for an unreachable registry name.
  std::string src = store_with_busybox();
  ASSERT_EQ(kiln({"--root", src, "push", "--tls-verify=false", "busybox", server->host() + "/library/busybox:7"})
                .exit_status,
            0);
  ASSERT_TRUE(write_file(registries_conf, cat("unqualified-search-registries = [\"unreachable.invalid\"]\n"
                                              "[[registry]]\nprefix = \"unreachable.invalid\"\n"
                                              "location = \"unreachable.invalid\"\n"
                                              "[[registry.mirror]]\nlocation = \"",
                                              server->host(), "\"\ninsecure = true\n")));
  auto pull = kiln({"--root", path_join(tmp(), "m"), "pull", "unreachable.invalid/library/busybox:7"});
  ASSERT_EQ(pull.exit_status, 0) << pull.stderr_data;
  auto short_pull = kiln({"--root", path_join(tmp(), "n"), "pull", "library/busybox:7"});
  ASSERT_EQ(short_pull.exit_status, 0) << short_pull.stderr_data;
  auto images = kiln({"--root", path_join(tmp(), "n"), "images", "--json"});
  EXPECT_NE(images.stdout_data.find("unreachable.invalid/library/busybox:7"), std::string::npos) << images.stdout_data;
}

TEST_F(PushPullTest, BlockedRegistryIsRefused) {
  ASSERT_TRUE(write_file(registries_conf, cat("[[registry]]\nlocation = \"", server->host(), "\"\nblocked = true\n")));
  auto r = kiln({"--root", path_join(tmp(), "s"), "pull", "--tls-verify=false", server->host() + "/x/y:1"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.stderr_data.find("blocked"), std::string::npos) << r.stderr_data;
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

TEST_F(PushPullTest, DamagedBlobInTheStoreIsNotUploaded) {
  std::string src = store_with_busybox();
  std::string layer = busybox_layer_digest();
  std::string path = path_join(src, "blobs/sha256/" + layer.substr(7));
  auto bytes = read_file(path);
  ASSERT_TRUE(bytes);
  std::string damaged = *bytes;
  damaged[damaged.size() / 2] ^= 0x01;
  ASSERT_TRUE(write_file(path, damaged));
  std::string ref = server->host() + "/damaged/busybox:1";
  auto push = kiln({"--root", src, "push", "--tls-verify=false", "busybox", ref});
  EXPECT_EQ(push.exit_status, 1);
  EXPECT_NE(push.stderr_data.find("does not match its digest"), std::string::npos) << push.stderr_data;
  EXPECT_NE(push.stderr_data.find(layer), std::string::npos) << push.stderr_data;
  // The registry never got the blob, nor the manifest.
  auto head = run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-I",
                   "http://" + server->host() + "/v2/damaged/busybox/blobs/" + layer});
  EXPECT_EQ(head.stdout_data, "404");
  auto manifest = run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                       "http://" + server->host() + "/v2/damaged/busybox/manifests/1"});
  EXPECT_EQ(manifest.stdout_data, "404");
}

}  // namespace
}  // namespace kiln::test
