#include "core/compress.h"

#include <random>
#include <string>
#include <vector>

#include "core/chain_source.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string Mixed(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    if (rng() % 2) {
      s += "the quick brown fox jumps over the lazy dog " +
           std::to_string(rng() % 1000) + "\n";
    } else {
      for (int i = 0; i < 64; ++i) s.push_back(static_cast<char>(rng()));
    }
  }
  s.resize(n);
  return s;
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST_CASE("compress: zlib round trip through the bounded inflater") {
  std::string data = Mixed(65536, 1);
  Deflater d(6);
  std::vector<uint8_t> packed(d.Bound(data.size()));
  auto n = d.Zlib(AsBytes(data), packed);
  REQUIRE_OK(n);
  CHECK(*n < data.size());
  packed.resize(*n);
  // Trailing bytes after the stream (sector padding) are ignored.
  packed.insert(packed.end(), 100, 0);

  Inflater inf;
  std::vector<uint8_t> out(65536);
  auto m = inf.Zlib(packed, out);
  REQUIRE_OK(m);
  CHECK(*m == data.size());
  CHECK(std::string(out.begin(), out.end()) == data);
}

TEST_CASE("compress: a grain never inflates beyond its buffer") {
  std::string data(128 * 1024, 'a');  // compresses to almost nothing
  Deflater d(6);
  std::vector<uint8_t> packed(d.Bound(data.size()));
  auto n = d.Zlib(AsBytes(data), packed);
  REQUIRE_OK(n);
  packed.resize(*n);
  Inflater inf;
  std::vector<uint8_t> out(64 * 1024);
  auto m = inf.Zlib(packed, out);
  CHECK(m.status().code() == ErrorCode::kCorrupt);
  CHECK(m.status().message().find("inflates beyond 65536 bytes") !=
        std::string::npos);
}

TEST_CASE("compress: malformed and truncated zlib data is corrupt") {
  Inflater inf;
  std::vector<uint8_t> out(4096);
  std::vector<uint8_t> junk = Bytes("this is not zlib data at all");
  CHECK(inf.Zlib(junk, out).status().code() == ErrorCode::kCorrupt);

  std::string data = Mixed(4096, 2);
  Deflater d(1);
  std::vector<uint8_t> packed(d.Bound(data.size()));
  auto n = d.Zlib(AsBytes(data), packed);
  REQUIRE_OK(n);
  packed.resize(*n / 2);
  CHECK(inf.Zlib(packed, out).status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("compress: raw deflate round trip (qcow2 clusters)") {
  std::string data = Mixed(65536, 3);
  Deflater d(6);
  std::vector<uint8_t> packed(d.Bound(data.size()));
  auto n = d.RawDeflate(AsBytes(data), packed);
  REQUIRE_OK(n);
  packed.resize(*n);
  Inflater inf;
  std::vector<uint8_t> out(65536);
  auto m = inf.RawDeflate(packed, out);
  REQUIRE_OK(m);
  CHECK(std::string(out.begin(), out.begin() + *m) == data);
  // A zlib header is not raw deflate.
  std::vector<uint8_t> zpacked(d.Bound(data.size()));
  auto z = d.Zlib(AsBytes(data), zpacked);
  REQUIRE_OK(z);
  zpacked.resize(*z);
  CHECK_FALSE(inf.RawDeflate(zpacked, out).ok());
}

TEST_CASE("gzip source: multi-member streams read as one, small reads") {
  std::string a = Mixed(300000, 4), b = Mixed(1000, 5), c = "";
  std::string gz;
  for (const std::string* part : {&a, &b, &c}) {
    auto m = GzipCompress(AsBytes(*part));
    REQUIRE_OK(m);
    gz += *m;
  }
  gz += std::string(700, '\0');  // zero padding after the last member
  CHECK(LooksLikeGzip(AsBytes(gz)));
  MemorySource raw(gz);
  GzipSource src(raw);
  std::string out;
  uint8_t buf[777];
  for (;;) {
    auto n = src.Read(buf);
    REQUIRE_OK(n);
    if (*n == 0) break;
    out.append(reinterpret_cast<char*>(buf), *n);
  }
  CHECK(out == a + b + c);
  CHECK(src.members() == 3);
  CHECK(src.compressed_bytes() == gz.size());
}

TEST_CASE("gzip source: corruption is reported with its offset") {
  std::string data = Mixed(100000, 6);
  auto gz = GzipCompress(AsBytes(data));
  REQUIRE_OK(gz);

  SUBCASE("flipped byte: crc or data error") {
    std::string bad = *gz;
    bad[bad.size() / 2] ^= 0x55;
    MemorySource raw(bad);
    GzipSource src(raw);
    auto r = ReadAllCapped(src, 1 << 20);
    CHECK(r.status().code() == ErrorCode::kCorrupt);
    CHECK(r.status().message().find("compressed byte") != std::string::npos);
  }
  SUBCASE("wrong length trailer") {
    std::string bad = *gz;
    bad[bad.size() - 1] ^= 1;
    MemorySource raw(bad);
    GzipSource src(raw);
    CHECK(ReadAllCapped(src, 1 << 20).status().code() == ErrorCode::kCorrupt);
  }
  SUBCASE("truncated") {
    std::string bad = gz->substr(0, gz->size() - 3);
    MemorySource raw(bad);
    GzipSource src(raw);
    auto r = ReadAllCapped(src, 1 << 20);
    CHECK(r.status().code() == ErrorCode::kCorrupt);
    CHECK(r.status().message().find("truncated") != std::string::npos);
  }
  SUBCASE("garbage after the last member") {
    std::string bad = *gz + std::string("\0\0junk", 6);
    MemorySource raw(bad);
    GzipSource src(raw);
    auto r = ReadAllCapped(src, 1 << 20);
    CHECK(r.status().code() == ErrorCode::kCorrupt);
  }
  SUBCASE("not gzip, and empty") {
    MemorySource raw(std::string_view("plain text"));
    GzipSource src(raw);
    CHECK(ReadAllCapped(src, 100).status().code() == ErrorCode::kCorrupt);
    MemorySource empty(std::string_view(""));
    GzipSource src2(empty);
    CHECK(ReadAllCapped(src2, 100).status().code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("chain source: pieces read in order as one stream") {
  std::vector<std::string> pieces = {"abc", "", "defgh", "i"};
  std::vector<size_t> asked;
  ChainSource chain([&](size_t i) -> Result<std::unique_ptr<ByteSource>> {
    asked.push_back(i);
    if (i >= pieces.size()) return std::unique_ptr<ByteSource>();
    return std::unique_ptr<ByteSource>(
        std::make_unique<MemorySource>(pieces[i]));
  });
  auto all = ReadAllCapped(chain, 100);
  REQUIRE_OK(all);
  CHECK(*all == "abcdefghi");
  CHECK(chain.pieces() == 4);
  CHECK(asked == std::vector<size_t>{0, 1, 2, 3, 4});
  CHECK(ChunkName("disk1.vmdk", 1) == "disk1.vmdk.000000001");
}

TEST_CASE("chain source: a missing piece stops the chain with its index") {
  ChainSource chain([](size_t i) -> Result<std::unique_ptr<ByteSource>> {
    if (i == 0) {
      return std::unique_ptr<ByteSource>(
          std::make_unique<MemorySource>(std::string_view("x")));
    }
    return NotFoundError("member " + Quote(ChunkName("d.vmdk", i)) +
                         " is missing");
  });
  auto all = ReadAllCapped(chain, 100);
  CHECK(all.status().code() == ErrorCode::kNotFound);
  CHECK(all.status().message() ==
        "piece 1: member 'd.vmdk.000000001' is missing");
}

}  // namespace
}  // namespace ova2virt
