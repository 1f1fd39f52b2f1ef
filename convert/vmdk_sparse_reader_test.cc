#include "convert/vmdk_sparse_reader.h"

#include "convert/disk_test_util.h"
#include "core/endian.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::MemoryImage;
using testing::RealisticDiskImage;
using testing::TryReadDisk;
using testing::VmdkBuilder;
using Layout = VmdkBuilder::Layout;

constexpr uint64_t kCapacity = 2 * 1024 * 1024 + 9 * 512;

TEST_CASE("vmdk sparse: in place and from a pipe, in order or not") {
  std::string disk = RealisticDiskImage(kCapacity, 31);
  for (bool shuffled : {false, true}) {
    VmdkBuilder b(Layout::kMonolithicSparse, disk);
    if (shuffled) b.Shuffle(5);
    std::string image = b.Build();
    for (bool random : {true, false}) {
      CAPTURE(shuffled);
      CAPTURE(random);
      MemoryImage m(image);
      auto r = m.Open(random);
      REQUIRE_OK(r);
      CHECK((*r)->format_name() == "vmdk-monolithicSparse");
      auto got = TryReadDisk(**r);
      REQUIRE_OK(got);
      CHECK(*got == disk);
    }
  }
}

TEST_CASE("vmdk sparse: small grains and a zeroed-grain table entry") {
  std::string disk = RealisticDiskImage(kCapacity, 32);
  VmdkBuilder b(Layout::kMonolithicSparse, disk);
  b.GrainSectors(16);
  std::vector<uint64_t> grains = b.DataGrains();
  REQUIRE(grains.size() > 3);
  // Entry 1 means "zeroed grain" when the header has flag bit 2.
  b.PatchGrainTableEntry(grains[1], 1);
  b.PatchHeader([](auto& h) { h.flags |= 1u << 2; });
  std::string expect = disk;
  std::fill_n(expect.begin() + grains[1] * 8192,
              std::min<uint64_t>(8192, disk.size() - grains[1] * 8192), '\0');
  MemoryImage m(b.Build());
  auto r = m.Open(true);
  REQUIRE_OK(r);
  auto got = TryReadDisk(**r);
  REQUIRE_OK(got);
  CHECK(*got == expect);
}

TEST_CASE("vmdk sparse: hostile tables fail with kCorrupt") {
  std::string disk = RealisticDiskImage(kCapacity, 33);
  std::vector<uint64_t> grains =
      VmdkBuilder(Layout::kMonolithicSparse, disk).DataGrains();
  REQUIRE(grains.size() > 2);
  auto error = [&](std::function<void(VmdkBuilder&)> hostile, bool random) {
    VmdkBuilder b(Layout::kMonolithicSparse, disk);
    hostile(b);
    MemoryImage m(b.Build());
    auto r = m.Open(random);
    if (!r.ok()) return r.status();
    return TryReadDisk(**r).status();
  };
  for (bool random : {true, false}) {
    CAPTURE(random);
    Status s = error(
        [&](VmdkBuilder& b) { b.PatchGrainTableEntry(grains[0], 1); }, random);
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find("points into the header") != std::string::npos);
    s = error([&](VmdkBuilder& b) { b.PatchGrainTableEntry(grains[0], 5); },
              random);
    CHECK(s.code() == ErrorCode::kCorrupt);
    s = error(
        [&](VmdkBuilder& b) { b.PatchGrainTableEntry(grains[0], 0x7fffffff); },
        random);
    CAPTURE(s.message());
    CHECK((s.code() == ErrorCode::kCorrupt));
    s = error(
        [&](VmdkBuilder& b) {
          b.PatchHeader([](auto& h) { h.gd_offset = 1ull << 40; });
        },
        random);
    CHECK(s.code() == ErrorCode::kCorrupt);
  }
  // Two table entries naming the same sector.
  VmdkBuilder dup(Layout::kMonolithicSparse, disk);
  uint32_t sector = 0;
  {
    // Find where grains[0] landed: read the table through the reader's
    // own view is circular, so compute it as the builder lays grains out.
    std::string image = dup.Build();
    MemoryImage m(image);
    auto r = m.Open(true);
    REQUIRE_OK(r);
    auto* sparse = dynamic_cast<VmdkSparseReader*>(r->get());
    REQUIRE(sparse != nullptr);
    sector = static_cast<uint32_t>(sparse->header().overhead);
  }
  dup.PatchGrainTableEntry(grains[1], sector);
  MemoryImage m(dup.Build());
  auto r = m.Open(false);
  Status s = r.ok() ? TryReadDisk(**r).status() : r.status();
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("point at the same") != std::string::npos);
  // In place too: a grain read twice, or half of one, or a grain table on
  // the descriptor, overlaps what was claimed before.
  for (uint32_t at : {sector, sector + 64}) {
    VmdkBuilder b(Layout::kMonolithicSparse, disk);
    b.PatchGrainTableEntry(grains[1], at);
    MemoryImage mi(b.Build());
    auto ri = mi.Open(true);
    Status si = ri.ok() ? TryReadDisk(**ri).status() : ri.status();
    CAPTURE(si.message());
    CHECK(si.code() == ErrorCode::kCorrupt);
    CHECK(si.message().find("overlaps") != std::string::npos);
  }
  std::string image = VmdkBuilder(Layout::kMonolithicSparse, disk).Build();
  uint64_t gd = LoadLe64(image.data() + 56);
  StoreLe32(image.data() + gd * 512, 1);  // the table at the descriptor
  MemoryImage mg(image);
  auto rg = mg.Open(true);
  Status sg = rg.ok() ? TryReadDisk(**rg).status() : rg.status();
  CAPTURE(sg.message());
  CHECK(sg.code() == ErrorCode::kCorrupt);
  CHECK(sg.message().find("grain table 0 at byte 512 overlaps") !=
        std::string::npos);
}

// The redundant directory and tables are metadata too, even if no reader
// uses them: a grain on them is read from the metadata by qemu.
TEST_CASE("vmdk sparse: a grain on the redundant tables is refused") {
  std::string disk = RealisticDiskImage(64 * 1024, 34);
  VmdkBuilder good(Layout::kMonolithicSparse, disk);
  good.GrainSectors(1);
  std::vector<uint64_t> grains = good.DataGrains();
  REQUIRE(!grains.empty());
  const std::string image = good.Build();
  const uint64_t rgd = LoadLe64(image.data() + 48);
  const uint64_t rgt = LoadLe32(image.data() + rgd * 512);
  REQUIRE(rgt > rgd);
  for (uint64_t target : {rgd, rgt}) {
    CAPTURE(target);
    VmdkBuilder b(Layout::kMonolithicSparse, disk);
    b.GrainSectors(1);
    // A header that says the grains start right after the descriptor.
    b.PatchHeader([](auto& h) { h.overhead = 2; });
    b.PatchGrainTableEntry(grains[0], static_cast<uint32_t>(target));
    MemoryImage m(b.Build());
    auto r = m.Open(true);
    REQUIRE_OK(r);
    Status s = TryReadDisk(**r).status();
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find("overlaps") != std::string::npos);
  }
}

TEST_CASE("vmdk sparse: a stream needs its tables before its grains") {
  std::string disk = RealisticDiskImage(kCapacity, 34);
  VmdkBuilder b(Layout::kMonolithicSparse, disk);
  // A grain table entry pointing back into the tables area (before the
  // position the stream has reached) cannot be followed without seeking.
  b.PatchHeader([](auto& h) { h.overhead = 2; });
  std::vector<uint64_t> grains = b.DataGrains();
  b.PatchGrainTableEntry(grains[0], 3);
  MemoryImage m(b.Build());
  auto r = m.Open(false);
  Status s = r.ok() ? TryReadDisk(**r).status() : r.status();
  CAPTURE(s.message());
  CHECK(s.code() == ErrorCode::kUnsupported);
  CHECK(s.message().find("seekable") != std::string::npos);
}

}  // namespace
}  // namespace ova2virt
