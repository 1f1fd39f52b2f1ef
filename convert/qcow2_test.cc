// The qcow2 writer and reader: round trips in memory, the write pattern a
// sequential sink needs, `qemu-img check` on what we write, and hostile
// headers and tables (made by patching a valid image).
#include <random>

#include "convert/disk_test_util.h"
#include "convert/qcow2_format.h"
#include "convert/qcow2_reader.h"
#include "convert/qcow2_writer.h"
#include "core/endian.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::MemoryImage;
using testing::RealisticDiskImage;
using testing::TryReadDisk;

constexpr uint64_t kCs = 65536;

// Records every write so the pattern can be checked.
class RecordingSink : public MemoryBlockSink {
 public:
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    writes.emplace_back(offset, data.size());
    return MemoryBlockSink::WriteAt(offset, data);
  }
  std::vector<std::pair<uint64_t, uint64_t>> writes;
};

// Writes `disk` as qcow2 through runs of `piece` bytes, in `order`.
std::string WriteQcow2(const std::string& disk, size_t piece,
                       bool shuffle = false, RecordingSink* sink = nullptr) {
  RecordingSink local;
  RecordingSink& s = sink ? *sink : local;
  Qcow2Writer w(s, disk.size());
  std::vector<uint64_t> offsets;
  for (uint64_t o = 0; o < disk.size(); o += piece) offsets.push_back(o);
  if (shuffle) std::shuffle(offsets.begin(), offsets.end(), std::mt19937(9));
  for (uint64_t o : offsets) {
    size_t n = std::min<uint64_t>(piece, disk.size() - o);
    REQUIRE_OK(w.WriteRun(o, AsBytes(std::string_view(disk).substr(o, n))));
  }
  auto st = w.Finish();
  REQUIRE_OK(st);
  return s.str();
}

std::string ReadQcow2(const std::string& image) {
  MemoryImage m(image);
  auto r = m.Open(true);
  REQUIRE_OK(r);
  CHECK((*r)->format_name() == "qcow2");
  auto got = TryReadDisk(**r);
  REQUIRE_OK(got);
  return *got;
}

TEST_CASE("qcow2: round trips whatever the run size and order") {
  std::string disk = RealisticDiskImage(3 * 1024 * 1024 + 512 * 3, 41);
  for (size_t piece : {size_t{65536}, size_t{1 << 20}, size_t{4096},
                       size_t{65536 + 512}, size_t{12345}}) {
    for (bool shuffle : {false, true}) {
      CAPTURE(piece);
      CAPTURE(shuffle);
      CHECK(ReadQcow2(WriteQcow2(disk, piece, shuffle)) == disk);
    }
  }
}

TEST_CASE("qcow2: data first in arrival order, metadata after, header last") {
  std::string disk = RealisticDiskImage(2 * 1024 * 1024, 42);
  RecordingSink sink;
  WriteQcow2(disk, 65536, true, &sink);
  REQUIRE(!sink.writes.empty());
  // Every write but the last moves forward, starting at cluster 1; the last
  // is the header cluster at offset 0.
  CHECK(sink.writes.back() == std::make_pair(uint64_t{0}, kCs));
  uint64_t pos = kCs;
  for (size_t i = 0; i + 1 < sink.writes.size(); ++i) {
    CAPTURE(i);
    CHECK(sink.writes[i].first == pos);
    pos = sink.writes[i].first + sink.writes[i].second;
  }
  CHECK(sink.str().size() == pos);
}

TEST_CASE("qcow2: zero clusters are never written, sparse disks stay small") {
  MemoryBlockSink sink;
  const uint64_t capacity = uint64_t{1} << 40;  // 1 TiB, nearly empty
  Qcow2Writer w(sink, capacity);
  std::string block(kCs, 'z');
  REQUIRE_OK(w.WriteRun(0, AsBytes(block)));
  REQUIRE_OK(w.WriteRun(kCs, AsBytes(std::string(kCs * 4, '\0'))));
  REQUIRE_OK(w.WriteRun(capacity - kCs, AsBytes(block)));
  auto st = w.Finish();
  REQUIRE_OK(st);
  CHECK(st->data_clusters == 2);
  CHECK(sink.str().size() < 16 * kCs);
  MemoryImage m(sink.str());
  auto r = m.Open(true);
  REQUIRE_OK(r);
  CHECK((*r)->capacity() == capacity);
  DataRun run;
  std::vector<uint64_t> offsets;
  for (;;) {
    auto more = (*r)->Next(&run);
    REQUIRE_OK(more);
    if (!*more) break;
    offsets.push_back(run.offset);
  }
  CHECK(offsets == std::vector<uint64_t>{0, capacity - kCs});
}

// A reader that checked its grains for zeros says so; the writer then does
// not read whole clusters of them again. Shown by runs that claim to be
// checked but hold zeros: they are written as data (nobody looked).
TEST_CASE("qcow2: runs a reader checked for zeros are not read again") {
  struct Case {
    uint32_t granule;
    uint64_t offset;
    uint64_t clusters;  // written, of the run's zeros
  } cases[] = {
      {0, 0, 0},          // unchecked: the zeros are found
      {65536, 0, 4},      // checked per cluster: trusted
      {4096, 0, 4},       // smaller pieces: every cluster has some
      {131072, 0, 0},     // a piece spans two clusters: not enough
      {4096, 12288, 3},   // only the whole clusters of the run are trusted
      {65536, 12288, 0},  // not on a piece boundary: no promise
  };
  for (const Case& c : cases) {
    CAPTURE(c.granule);
    CAPTURE(c.offset);
    MemoryBlockSink sink;
    Qcow2Writer w(sink, 8 * kCs);
    std::string zeros(4 * kCs, '\0');
    REQUIRE_OK(w.WriteDataRun({c.offset, AsBytes(zeros), c.granule}));
    auto st = w.Finish();
    REQUIRE_OK(st);
    CHECK(st->data_clusters == c.clusters);
  }
}

TEST_CASE("qcow2: an empty disk, and a disk of zero bytes, check clean") {
  testing::TempDir dir;
  for (uint64_t capacity : {uint64_t{0}, uint64_t{10} << 20}) {
    CAPTURE(capacity);
    std::string path = dir.Join("e.qcow2");
    {
      auto f = TempOutputFile::Create(path, true);
      REQUIRE_OK(f);
      FileBlockSink sink((*f)->file());
      Qcow2Writer w(sink, capacity);
      REQUIRE_OK(w.Finish());
      REQUIRE_OK((*f)->Commit());
    }
    auto r = testing::QemuImg("check " + testing::ShellQuote(path));
    INFO(r.out);
    CHECK(r.exit_code == 0);
    auto info =
        testing::QemuImg("info --output=json " + testing::ShellQuote(path));
    CHECK(info.out.find("\"virtual-size\": " + std::to_string(capacity)) !=
          std::string::npos);
  }
}

TEST_CASE("qcow2: unaligned, out-of-order writes check clean in qemu-img") {
  testing::TempDir dir;
  std::string disk = RealisticDiskImage(4 * 1024 * 1024 + 1000, 43);
  std::string path = dir.Join("w.qcow2");
  std::string raw = dir.Join("w.raw");
  testing::WriteFileOrDie(raw, disk);
  {
    auto f = TempOutputFile::Create(path, true);
    REQUIRE_OK(f);
    FileBlockSink sink((*f)->file());
    Qcow2Writer w(sink, disk.size());
    // Pieces of 7 KiB in shuffled order: many partial clusters, more than
    // the writer buffers at once, so some are completed in place.
    std::vector<uint64_t> offsets;
    for (uint64_t o = 0; o < disk.size(); o += 7168) offsets.push_back(o);
    std::shuffle(offsets.begin(), offsets.end(), std::mt19937(5));
    for (uint64_t o : offsets) {
      size_t n = std::min<uint64_t>(7168, disk.size() - o);
      REQUIRE_OK(w.WriteRun(o, AsBytes(std::string_view(disk).substr(o, n))));
    }
    REQUIRE_OK(w.Finish());
    REQUIRE_OK((*f)->Commit());
  }
  auto check = testing::QemuImg("check " + testing::ShellQuote(path));
  INFO(check.out);
  CHECK(check.exit_code == 0);
  // qemu pads the raw file's odd size up to a sector; so does the writer.
  auto cmp = testing::QemuImg("compare " + testing::ShellQuote(path) + " " +
                              testing::ShellQuote(raw));
  INFO(cmp.out);
  CHECK(cmp.exit_code == 0);
}

TEST_CASE("qcow2 writer: writing a cluster twice is refused, not hidden") {
  MemoryBlockSink sink;
  Qcow2Writer w(sink, 4 * kCs);
  std::string block(kCs, 'a');
  REQUIRE_OK(w.WriteRun(0, AsBytes(block)));
  REQUIRE_OK(w.WriteRun(0, AsBytes(block)));
  CHECK(w.Finish().status().code() == ErrorCode::kFailed);
  Qcow2Writer w2(sink, kCs);
  CHECK(w2.WriteRun(kCs / 2, AsBytes(block)).code() == ErrorCode::kFailed);
}

// A valid image to break: 3 MiB with data, some of it compressed by hand.
std::string ValidImage() {
  return WriteQcow2(RealisticDiskImage(3 * 1024 * 1024, 44), 65536);
}

Status ReadStatus(const std::string& image) {
  MemoryImage m(image);
  auto r = m.Open(true);
  if (!r.ok()) return r.status();
  return TryReadDisk(**r).status();
}

TEST_CASE("qcow2 reader: hostile headers fail with kCorrupt/kUnsupported") {
  std::string good = ValidImage();
  CHECK_OK(ReadStatus(good));
  auto patched = [&](size_t at, auto value) {
    std::string img = good;
    if constexpr (sizeof(value) == 8) {
      StoreBe64(img.data() + at, value);
    } else {
      StoreBe32(img.data() + at, value);
    }
    return ReadStatus(img);
  };
  struct Case {
    const char* name;
    Status status;
    ErrorCode code;
    const char* text;
  };
  std::string with_backing = good;
  StoreBe64(with_backing.data() + qcow2::kOffBackingFileOffset, 512);
  StoreBe32(with_backing.data() + qcow2::kOffBackingFileSize, 11);
  std::memcpy(with_backing.data() + 512, "/etc/passwd", 11);
  std::vector<Case> cases = {
      {"version 1", patched(qcow2::kOffVersion, uint32_t{1}),
       ErrorCode::kUnsupported, "version 1"},
      {"cluster bits 30", patched(qcow2::kOffClusterBits, uint32_t{30}),
       ErrorCode::kCorrupt, "cluster_bits 30"},
      {"cluster bits 8", patched(qcow2::kOffClusterBits, uint32_t{8}),
       ErrorCode::kCorrupt, "cluster_bits 8"},
      {"encrypted", patched(qcow2::kOffCryptMethod, uint32_t{2}),
       ErrorCode::kUnsupported, "encrypted"},
      {"backing file", ReadStatus(with_backing), ErrorCode::kUnsupported,
       "backing file '/etc/passwd'"},
      {"huge size", patched(qcow2::kOffSize, uint64_t{1} << 62),
       ErrorCode::kUnsupported, "64 TiB"},
      {"L1 too small", patched(qcow2::kOffL1Size, uint32_t{0}),
       ErrorCode::kCorrupt, "too small"},
      {"L1 past the end", patched(qcow2::kOffL1TableOffset, uint64_t{1} << 40),
       ErrorCode::kCorrupt, "L1 table"},
      {"L1 unaligned", patched(qcow2::kOffL1TableOffset, uint64_t{65537}),
       ErrorCode::kCorrupt, "unaligned"},
      {"L1 in the header", patched(qcow2::kOffL1TableOffset, uint64_t{0}),
       ErrorCode::kCorrupt, "L1 table"},
      {"unknown incompatible feature",
       patched(qcow2::kOffIncompatibleFeatures, uint64_t{1} << 40),
       ErrorCode::kUnsupported, "unknown incompatible"},
      {"marked corrupt", patched(qcow2::kOffIncompatibleFeatures, uint64_t{2}),
       ErrorCode::kCorrupt, "marked corrupt"},
      {"external data file",
       patched(qcow2::kOffIncompatibleFeatures, uint64_t{4}),
       ErrorCode::kUnsupported, "external data"},
      {"header length", patched(qcow2::kOffHeaderLength, uint32_t{13}),
       ErrorCode::kCorrupt, "header length"},
      {"truncated", ReadStatus(good.substr(0, 50)), ErrorCode::kCorrupt,
       "too short"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.status.message());
    CHECK(c.status.code() == c.code);
    CHECK(c.status.message().find(c.text) != std::string::npos);
  }
  // zstd compression is named.
  std::string zstd = good;
  StoreBe64(zstd.data() + qcow2::kOffIncompatibleFeatures, 8);
  zstd[qcow2::kOffCompressionType] = 1;
  Status s = ReadStatus(zstd);
  CHECK(s.code() == ErrorCode::kUnsupported);
  CHECK(s.message().find("zstd") != std::string::npos);
}

TEST_CASE("qcow2 reader: hostile L1 and L2 entries fail with kCorrupt") {
  std::string good = ValidImage();
  uint64_t l1 = LoadBe64(good.data() + qcow2::kOffL1TableOffset);
  uint64_t l2 = LoadBe64(good.data() + l1) & qcow2::kOffsetMask;
  REQUIRE(l2 != 0);
  // The first L2 entry that maps data.
  size_t first = 0;
  while (LoadBe64(good.data() + l2 + first * 8) == 0) ++first;
  auto with_l1 = [&](uint64_t v) {
    std::string img = good;
    StoreBe64(img.data() + l1, v);
    return ReadStatus(img);
  };
  auto with_l2 = [&](uint64_t v) {
    std::string img = good;
    StoreBe64(img.data() + l2 + first * 8, v);
    return ReadStatus(img);
  };
  for (Status s : {with_l1(uint64_t{1} << 50), with_l1(kCs + 512),
                   with_l1(qcow2::kFlagCopied | 0)}) {
    CAPTURE(s.message());
    if (s.ok()) continue;  // an L1 entry of 0 is just "unallocated"
    CHECK(s.code() == ErrorCode::kCorrupt);
  }
  CHECK(with_l1(uint64_t{1} << 50).message().find("L1 entry 0") !=
        std::string::npos);
  Status past = with_l2(qcow2::kFlagCopied | (uint64_t{1} << 45));
  CHECK(past.code() == ErrorCode::kCorrupt);
  CHECK(past.message().find("past the end") != std::string::npos);
  Status header = with_l2(qcow2::kFlagCopied | 0x200);
  CHECK(header.code() == ErrorCode::kCorrupt);
  Status unaligned = with_l2(qcow2::kFlagCopied | (3 * kCs + 512));
  CHECK(unaligned.code() == ErrorCode::kCorrupt);
  CHECK(unaligned.message().find("not cluster-aligned") != std::string::npos);
  // A compressed entry pointing at data that is not deflate, or into the
  // header.
  Status bad_comp = with_l2(qcow2::kFlagCompressed | (2 * kCs));
  CHECK(bad_comp.code() == ErrorCode::kCorrupt);
  Status comp_header = with_l2(qcow2::kFlagCompressed | 16);
  CHECK(comp_header.code() == ErrorCode::kCorrupt);
}

TEST_CASE("qcow2 reader: tables on other metadata, or used twice, fail") {
  std::string good = ValidImage();
  uint64_t l1 = LoadBe64(good.data() + qcow2::kOffL1TableOffset);
  uint64_t rc = LoadBe64(good.data() + qcow2::kOffRefcountTableOffset);
  uint64_t l2 = LoadBe64(good.data() + l1) & qcow2::kOffsetMask;
  uint64_t rc_block = LoadBe64(good.data() + rc) & qcow2::kOffsetMask;
  REQUIRE(l2 != 0);
  REQUIRE(rc_block != 0);
  auto with = [&](uint64_t at, uint64_t v, bool wide = true) {
    std::string img = good;
    if (wide) {
      StoreBe64(img.data() + at, v);
    } else {
      StoreBe32(img.data() + at, static_cast<uint32_t>(v));
    }
    return ReadStatus(img);
  };
  struct Case {
    const char* name;
    Status status;
    const char* text;
  };
  std::vector<Case> cases = {
      {"data is the L1 table", with(l2, qcow2::kFlagCopied | l1), "metadata"},
      {"data is a refcount block", with(l2, qcow2::kFlagCopied | rc_block),
       "metadata"},
      {"data is its own L2 table", with(l2, qcow2::kFlagCopied | l2),
       "overlaps the L2 table"},
      {"compressed data in the refcount table",
       with(l2, qcow2::kFlagCompressed | rc), "metadata"},
      {"L2 table is the L1 table", with(l1, qcow2::kFlagCopied | l1),
       "metadata"},
      {"L2 table is the refcount table", with(l1, qcow2::kFlagCopied | rc),
       "metadata"},
      {"refcount table past the end",
       with(qcow2::kOffRefcountTableOffset, uint64_t{1} << 40), "refcount"},
      {"refcount table on the L1 table",
       with(qcow2::kOffRefcountTableOffset, l1), "overlaps other metadata"},
      {"refcount table of no clusters",
       with(qcow2::kOffRefcountTableClusters, 0, false), "refcount table"},
      {"refcount table too large",
       with(qcow2::kOffRefcountTableClusters, 1000, false), "8 MiB"},
      {"refcount block past the end", with(rc, uint64_t{1} << 40),
       "refcount block"},
      {"L1 table larger than 32 MiB",
       with(qcow2::kOffL1Size, uint64_t{1} << 23, false), "32 MiB"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.status.message());
    CHECK(c.status.code() == ErrorCode::kCorrupt);
    CHECK(c.status.message().find(c.text) != std::string::npos);
  }

  // Two L1 entries sharing one L2 table: data at 0 and at 1 GiB, so that
  // the image has two L2 tables, then the second L1 entry names the first.
  MemoryBlockSink sink;
  Qcow2Writer w(sink, uint64_t{3} << 29);
  std::string block(kCs, 'x');
  REQUIRE_OK(w.WriteRun(0, AsBytes(block)));
  REQUIRE_OK(w.WriteRun(uint64_t{1} << 30, AsBytes(block)));
  REQUIRE_OK(w.Finish());
  std::string two = sink.str();
  {
    MemoryImage m(two);  // (too large to read whole in a test)
    CHECK_OK(m.Open(true));
  }
  uint64_t l1b = LoadBe64(two.data() + qcow2::kOffL1TableOffset);
  REQUIRE(LoadBe64(two.data() + l1b + 16) != 0);
  StoreBe64(two.data() + l1b + 16, LoadBe64(two.data() + l1b));
  Status shared = ReadStatus(two);
  CAPTURE(shared.message());
  CHECK(shared.code() == ErrorCode::kCorrupt);
  CHECK(shared.message().find("used by two L1 entries") != std::string::npos);
}

}  // namespace
}  // namespace ova2virt
