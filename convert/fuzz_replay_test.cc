// The fuzz targets' bodies run as an ordinary test: over seed images of
// every layout, and over deterministic mutations of them (byte flips,
// header fields set to edge values, truncations). Under the ASan/UBSan build
// this is a small fuzzing campaign on every CI run. With
// OVA2VIRT_FUZZ_SEED_DIR set, the seeds are also written there, as the
// starting corpus for the libFuzzer binaries (docs/disk-formats.md).
#include <random>

#include "convert/disk_test_util.h"
#include "convert/fuzz_targets.h"
#include "convert/qcow2_writer.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::RealisticDiskImage;
using testing::VmdkBuilder;

std::vector<std::pair<std::string, std::string>> VmdkSeeds() {
  std::string disk = RealisticDiskImage(300 * 1024 + 512, 71);
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"vmware-stream",
       VmdkBuilder(VmdkBuilder::Layout::kVmwareStream, disk).Build()},
      {"vmware-stream-shuffled",
       VmdkBuilder(VmdkBuilder::Layout::kVmwareStream, disk)
           .Shuffle(1)
           .GrainSectors(16)
           .Build()},
      {"qemu-stream",
       VmdkBuilder(VmdkBuilder::Layout::kQemuStream, disk).Build()},
      {"sparse",
       VmdkBuilder(VmdkBuilder::Layout::kMonolithicSparse, disk).Build()},
      {"sparse-small-grains",
       VmdkBuilder(VmdkBuilder::Layout::kMonolithicSparse, disk)
           .GrainSectors(8)
           .Shuffle(2)
           .Build()},
      {"descriptor",
       "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
       "createType=\"twoGbMaxExtentSparse\"\nRW 600 SPARSE \"a.vmdk\"\n"
       "RW 100 FLAT \"b.vmdk\" 3\nRW 8 ZERO\n"},
  };
  for (std::string name :
       {"cot_input.vmdk", "ganeti_new_disk.vmdk", "pve_Win10-Liz-disk1.vmdk"}) {
    seeds.emplace_back(
        name, testing::ReadFileOrDie(testing::CorpusPath("vmdk/" + name)));
  }
  return seeds;
}

std::vector<std::pair<std::string, std::string>> Qcow2Seeds() {
  std::string disk = RealisticDiskImage(400 * 1024, 72);
  MemoryBlockSink sink;
  Qcow2Writer w(sink, disk.size());
  REQUIRE_OK(w.WriteRun(0, AsBytes(disk)));
  REQUIRE_OK(w.Finish());
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"ova2virt", sink.str()}};
  // What qemu-img writes: compressed clusters, extended L2, version 2.
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("d.raw"), disk);
  for (std::string opts :
       {"-c", "-o extended_l2=on,cluster_size=16k", "-o compat=0.10 -c"}) {
    std::string out = dir.Join("q.qcow2");
    auto r = testing::QemuImg("convert -f raw -O qcow2 " + opts + " " +
                              dir.Join("d.raw") + " " + out);
    REQUIRE(r.exit_code == 0);
    seeds.emplace_back("qemu " + opts, testing::ReadFileOrDie(out));
  }
  return seeds;
}

// Deterministic mutations of `seed`.
std::vector<std::string> Mutations(const std::string& seed, uint32_t salt,
                                   int count) {
  std::mt19937_64 rng(salt);
  static const uint64_t kEdges[] = {
      0,          1,          0x7f,       0xff,  0xffff, 0x7fffffff,
      0xffffffff, 1ull << 32, 1ull << 62, ~0ull, 512,    65536};
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string m = seed;
    switch (rng() % 4) {
      case 0:  // flip bytes in the header area, where the numbers live
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
          m[rng() % std::min<size_t>(m.size(), 4096)] ^=
              static_cast<char>(1 + rng() % 255);
        }
        break;
      case 1: {  // an edge value into an 8-byte field near the start
        size_t at = (rng() % 16) * 4 + (rng() % 2 ? 0 : 36);
        uint64_t v = kEdges[rng() % std::size(kEdges)];
        if (at + 8 <= m.size()) std::memcpy(&m[at], &v, 8);
        break;
      }
      case 2:  // flip bytes anywhere (tables, markers, compressed data)
        for (int k = 0; k < 8; ++k) {
          m[rng() % m.size()] ^= static_cast<char>(1 << (rng() % 8));
        }
        break;
      default:  // cut short
        m.resize(rng() % m.size());
        break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

void MaybeWriteSeeds(
    const std::string& kind,
    const std::vector<std::pair<std::string, std::string>>& seeds) {
  const char* dir = std::getenv("OVA2VIRT_FUZZ_SEED_DIR");
  if (dir == nullptr || *dir == '\0') return;
  for (const auto& [name, bytes] : seeds) {
    std::string safe = name;
    for (char& c : safe) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    testing::WriteFileOrDie(std::string(dir) + "/" + kind + "/" + safe, bytes);
  }
}

TEST_CASE("fuzz replay: vmdk reader over seeds and mutations") {
  auto seeds = VmdkSeeds();
  MaybeWriteSeeds("vmdk", seeds);
  uint32_t salt = 1;
  for (const auto& [name, bytes] : seeds) {
    CAPTURE(name);
    auto p = reinterpret_cast<const uint8_t*>(bytes.data());
    FuzzVmdkReader(p, bytes.size());
    for (const std::string& m : Mutations(bytes, salt++, 150)) {
      FuzzVmdkReader(reinterpret_cast<const uint8_t*>(m.data()), m.size());
    }
  }
  // Reaching here without a trap or a sanitizer report is the test.
  CHECK(salt == seeds.size() + 1);
}

TEST_CASE("fuzz replay: qcow2 reader over seeds and mutations") {
  auto seeds = Qcow2Seeds();
  MaybeWriteSeeds("qcow2", seeds);
  uint32_t salt = 100;
  for (const auto& [name, bytes] : seeds) {
    CAPTURE(name);
    FuzzQcow2Reader(reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size());
    for (const std::string& m : Mutations(bytes, salt++, 200)) {
      FuzzQcow2Reader(reinterpret_cast<const uint8_t*>(m.data()), m.size());
    }
  }
  CHECK(salt == 100 + seeds.size());
}

}  // namespace
}  // namespace ova2virt
