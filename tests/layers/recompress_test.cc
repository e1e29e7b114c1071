#include "layers/recompress.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/layers/layer_fixture.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/hasher.h"
#include "util/strings.h"

namespace kiln::layers {
namespace {

using oci::media::Compression;
using namespace kiln::layers::test;

const char* name_of(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "?";
}

class RecompressLayerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    m_src = path("src");
    ASSERT_TRUE(make_dirs(m_src));
    ASSERT_NO_FATAL_FAILURE(put_file(m_src, "etc/hosts", "127.0.0.1 localhost\n"));
    // Spans many of the stream's hand-over buffers and several of gzip's 1 MiB members.
    std::string big;
    for (uint64_t i = 0; i < 400000; ++i) {
      big += std::to_string(i * 7919 % 100003);
    }
    ASSERT_NO_FATAL_FAILURE(put_file(m_src, "usr/lib/big", big));
    ASSERT_NO_FATAL_FAILURE(put_symlink(m_src, "usr/lib/alias", "big"));
  }

  // write_layer of the fixture tree in `c` into `file`.
  LayerInfo source(Compression c, const std::string& file) {
    WriteOptions o;
    o.compression = c;
    o.source_date_epoch = 1700000000;
    return write_to(SnapshotSource::overlay_upper(m_src), o, path(file));
  }

  Result<LayerInfo> recompress(const std::string& in, const RecompressOptions& options, const std::string& out) {
    UniqueFd src(::open(path(in).c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd dst(::open(path(out).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    EXPECT_TRUE(src.valid() && dst.valid());
    return recompress_layer(src.get(), options, dst.get());
  }

  std::string m_src;
};

TEST_F(RecompressLayerTest, EveryPairKeepsTheTarAndItsDiffId) {
  for (Compression from : {Compression::gzip, Compression::zstd, Compression::none}) {
    LayerInfo in = source(from, "in");
    for (Compression to : {Compression::gzip, Compression::zstd, Compression::none}) {
      SCOPED_TRACE(cat(name_of(from), " -> ", name_of(to)));
      RecompressOptions o;
      o.output.compression = to;
      o.output.docker_media_types = to == Compression::zstd;
      o.expected_diff_id = in.diff_id;
      o.expected_digest = in.digest;
      auto out = recompress("in", o, "out");
      ASSERT_TRUE(out) << out.error().render();
      EXPECT_EQ(out->diff_id, in.diff_id);
      EXPECT_EQ(out->uncompressed_size, in.uncompressed_size);
      EXPECT_EQ(out->media_type, oci::media::layer_type(to, to == Compression::zstd));
      auto bytes = read_file(path("out"));
      ASSERT_TRUE(bytes);
      EXPECT_EQ(out->size, static_cast<int64_t>(bytes->size()));
      EXPECT_EQ(out->digest, oci::Digest::sha256_of(*bytes));
      if (to == Compression::none) {
        EXPECT_EQ(out->digest, in.diff_id);  // the tar itself
      }
      if (from == to) {
        EXPECT_EQ(out->digest, in.digest);  // the same codec and level give the same bytes
      }
      // An independent reader (libarchive's filters) sees the same entries,
      // and extraction computes the same diffID from the new bytes.
      auto entries = read_tar(path("out"));
      ASSERT_EQ(entries.size(), read_tar(path("in")).size());
      std::string target = path(cat("x-", name_of(from), "-", name_of(to)));
      auto r = extract_from(path("out"), test_options(target, ExtractMode::overlay_lower));
      ASSERT_TRUE(r) << r.error().render();
      EXPECT_EQ(r->diff_id, in.diff_id);
      EXPECT_EQ(r->compression, to);
      EXPECT_EQ(read_text(path_join(target, "etc/hosts")), "127.0.0.1 localhost\n");
    }
  }
}

TEST_F(RecompressLayerTest, AWrongDiffIdIsCorruption) {
  LayerInfo in = source(Compression::gzip, "in");
  RecompressOptions o;
  o.output.compression = Compression::zstd;
  o.expected_diff_id = oci::Digest::sha256_of("another layer");
  auto out = recompress("in", o, "out");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(out.error().render().find(in.diff_id.str()), std::string::npos) << out.error().render();
  EXPECT_NE(out.error().render().find(o.expected_diff_id.str()), std::string::npos) << out.error().render();
}

TEST_F(RecompressLayerTest, AWrongBlobDigestIsCorruption) {
  LayerInfo in = source(Compression::zstd, "in");
  RecompressOptions o;
  o.output.compression = Compression::gzip;
  o.expected_diff_id = in.diff_id;
  o.expected_digest = oci::Digest::sha256_of("another blob");
  auto out = recompress("in", o, "out");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(out.error().render().find(in.digest.str()), std::string::npos) << out.error().render();
}

// A source whose tar bytes were altered: the compressed stream is sound
// (an uncompressed blob has no checksum of its own), only the diffID tells.
TEST_F(RecompressLayerTest, AlteredTarBytesFailTheDiffIdCheck) {
  LayerInfo in = source(Compression::none, "in");
  auto bytes = read_file(path("in"));
  ASSERT_TRUE(bytes);
  size_t at = bytes->find("127.0.0.1");
  ASSERT_NE(at, std::string::npos);
  (*bytes)[at] = '8';
  ASSERT_TRUE(write_file(path("in"), *bytes));
  RecompressOptions o;
  o.output.compression = Compression::zstd;
  o.expected_diff_id = in.diff_id;
  auto out = recompress("in", o, "out");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::cache_corrupt);
  EXPECT_NE(out.error().render().find("decompresses to diffID"), std::string::npos) << out.error().render();
}

TEST_F(RecompressLayerTest, TruncatedAndGarbledStreamsFail) {
  for (Compression from : {Compression::gzip, Compression::zstd}) {
    SCOPED_TRACE(name_of(from));
    LayerInfo in = source(from, "in");
    auto bytes = read_file(path("in"));
    ASSERT_TRUE(bytes);
    RecompressOptions o;
    o.output.compression = from == Compression::gzip ? Compression::zstd : Compression::gzip;
    o.expected_diff_id = in.diff_id;
    ASSERT_TRUE(write_file(path("cut"), bytes->substr(0, bytes->size() / 2)));
    auto cut = recompress("cut", o, "out");
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().code(), ErrorCode::cache_corrupt) << cut.error().render();
    std::string garbled = *bytes;
    for (size_t i = garbled.size() / 3; i < garbled.size() / 3 + 64; ++i) {
      garbled[i] = static_cast<char>(garbled[i] ^ 0x5a);
    }
    ASSERT_TRUE(write_file(path("garbled"), garbled));
    auto bad = recompress("garbled", o, "out");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), ErrorCode::cache_corrupt) << bad.error().render();
  }
}

TEST_F(RecompressLayerTest, AnInvalidLevelIsRefusedBeforeReading) {
  LayerInfo in = source(Compression::gzip, "in");
  RecompressOptions o;
  o.output.compression = Compression::zstd;
  o.output.level = 99;
  o.expected_diff_id = in.diff_id;
  auto out = recompress("in", o, "out");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::invalid_input) << out.error().render();
}

}  // namespace
}  // namespace kiln::layers
