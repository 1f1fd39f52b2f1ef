#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "core/aligned_buffer.h"
#include "core/io_faults.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using testing::TempDir;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_CASE("aligned buffer: aligned for direct I/O, grows on demand") {
  AlignedBuffer b;
  CHECK(b.size() == 0);
  b.Resize(100);
  CHECK(b.size() == 100);
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer::kAlignment == 0);
  b.Resize(3 << 20);
  CHECK(b.span().size() == (3u << 20));
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer::kAlignment == 0);
}

// What a disk writer does: aligned data runs, unaligned tables and a short
// tail, in any order, some into holes and some over earlier bytes.
TEST_CASE("file block sink: direct and buffered writes mix into one image") {
  TempDir dir;
  for (auto mode : {FileBlockSink::Mode::kBuffered,
                    FileBlockSink::Mode::kDirectWhenAligned}) {
    CAPTURE(static_cast<int>(mode));
    std::string path = dir.Join(
        mode == FileBlockSink::Mode::kBuffered ? "buffered.img" : "direct.img");
    auto file = File::CreateExclusive(path);
    REQUIRE_OK(file);
    FileBlockSink sink(*file, mode);
    std::string expected(3 << 20, '\0');
    auto put = [&](uint64_t offset, std::span<const uint8_t> data) {
      REQUIRE_OK(sink.WriteAt(offset, data));
      expected.replace(offset, data.size(),
                       reinterpret_cast<const char*>(data.data()), data.size());
    };
    AlignedBuffer big(1 << 20);
    std::string random = RandomBytes(big.size(), 1);
    std::memcpy(big.data(), random.data(), random.size());
    put(1 << 20, big.span());                     // aligned: direct
    put(100, AsBytes(RandomBytes(5000, 2)));      // unaligned: cached
    put(2 << 20, big.span().first(8192));         // aligned again
    put((1 << 20) + 4096, AsBytes("overwrite"));  // into a direct range
    put((2 << 20) + 8192, big.span().subspan(4096, 4096));  // aligned memory
    put((3 << 20) - 7, AsBytes("tail..."));
    CHECK_OK(sink.SetSize(expected.size()));
    CHECK_OK(sink.Close());
    CHECK(testing::ReadFileOrDie(path) == expected);
    if (mode == FileBlockSink::Mode::kBuffered) {
      CHECK(sink.direct_bytes() == 0);
    } else {
      // Where the file system takes direct I/O (ext4, xfs, btrfs...), the
      // aligned runs took it; elsewhere everything went through the cache.
      int probe = ::open(path.c_str(), O_RDONLY | O_DIRECT);
      bool supported = probe >= 0;
      if (probe >= 0) ::close(probe);
      MESSAGE("direct bytes: " << sink.direct_bytes());
      if (supported) CHECK(sink.direct_bytes() == (1 << 20) + 8192 + 4096);
    }
  }
}

TEST_CASE("file block sink: injected write faults reach direct writes") {
  TempDir dir;
  auto file = File::CreateExclusive(dir.Join("f.img"));
  REQUIRE_OK(file);
  FileBlockSink sink(*file, FileBlockSink::Mode::kDirectWhenAligned);
  AlignedBuffer block(4096);
  std::memset(block.data(), 7, block.size());
  ArmIoFault({IoOp::kWrite, 2, ENOSPC});
  CHECK_OK(sink.WriteAt(0, block.span()));
  Status s = sink.WriteAt(4096, block.span());
  DisarmIoFaults();
  CHECK(s.code() == ErrorCode::kNoSpace);
  CHECK(s.message().find("f.img") != std::string::npos);
}

TEST_CASE("file sink: small pieces gathered, large ones written through") {
  TempDir dir;
  auto file = File::CreateExclusive(dir.Join("s.bin"));
  REQUIRE_OK(file);
  FileSink sink(*file, 64 * 1024);
  std::string expected;
  // Around the buffer's size and a quarter of it, in every order.
  for (size_t n : {100, 16383, 16384, 70000, 5, 65536, 1, 40000, 30000}) {
    std::string piece = RandomBytes(n, static_cast<unsigned>(n));
    REQUIRE_OK(sink.Write(AsBytes(piece)));
    expected += piece;
  }
  REQUIRE_OK(sink.Close());
  CHECK(sink.written() == expected.size());
  CHECK(testing::ReadFileOrDie(dir.Join("s.bin")) == expected);
}

}  // namespace
}  // namespace ova2virt

namespace ova2virt {
namespace {

TEST_CASE("file block sink: a vectored write lands as its pieces would") {
  testing::TempDir dir;
  std::string path = dir.Join("v.img");
  auto file = File::CreateExclusive(path);
  REQUIRE_OK(file);
  FileBlockSink sink(*file, FileBlockSink::Mode::kDirectWhenAligned);
  AlignedBuffer a(64 << 10), b(8192);
  std::string ra = RandomBytes(a.size(), 3), rb = RandomBytes(b.size(), 4);
  std::memcpy(a.data(), ra.data(), ra.size());
  std::memcpy(b.data(), rb.data(), rb.size());
  std::string unaligned = "not aligned";
  // Aligned pieces: one pwritev, direct where the file system allows it.
  std::vector<std::span<const uint8_t>> pieces = {a.span(), b.span(),
                                                  a.span().first(4096)};
  REQUIRE_OK(sink.WriteVectorAt(1 << 20, pieces));
  // A piece that is not: piece by piece, through the cache.
  std::vector<std::span<const uint8_t>> mixed = {b.span(), AsBytes(unaligned)};
  REQUIRE_OK(sink.WriteVectorAt(4096, mixed));
  CHECK_OK(sink.Close());
  std::string want(4096, '\0');
  want += rb + unaligned;
  want.resize(1 << 20, '\0');
  want += ra + rb + ra.substr(0, 4096);
  CHECK(testing::ReadFileOrDie(path) == want);
  int probe = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (probe >= 0) {
    ::close(probe);
    // The mixed write's aligned piece went direct on its own.
    CHECK(sink.direct_bytes() == a.size() + 2 * b.size() + 4096);
  }
}

}  // namespace
}  // namespace ova2virt
