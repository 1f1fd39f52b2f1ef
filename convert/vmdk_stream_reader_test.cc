#include "convert/vmdk_stream_reader.h"

#include <deque>
#include <functional>
#include <random>

#include "convert/disk_test_util.h"
#include "core/compress.h"
#include "core/endian.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::MemoryImage;
using testing::RealisticDiskImage;
using testing::TryReadDisk;
using testing::VmdkBuilder;
using Layout = VmdkBuilder::Layout;

// An odd capacity: not a multiple of the grain, nor of a sector.
constexpr uint64_t kCapacity = 3 * 1024 * 1024 + 7 * 512 + 100;

std::string Padded(std::string disk) {
  disk.resize((disk.size() + 511) / 512 * 512, '\0');
  return disk;
}

std::string ZlibOf(const std::string& raw, int level = 6) {
  Deflater d(level);
  std::string out(d.Bound(raw.size()), '\0');
  auto n = d.Zlib(AsBytes(raw),
                  {reinterpret_cast<uint8_t*>(out.data()), out.size()});
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

// A grain of `disk` that holds no data (so a test may add one there).
uint64_t FreeGrain(const std::string& disk) {
  std::vector<uint64_t> used =
      VmdkBuilder(VmdkBuilder::Layout::kVmwareStream, disk).DataGrains();
  uint64_t g = 0;
  while (std::find(used.begin(), used.end(), g) != used.end()) ++g;
  REQUIRE(g * 65536 < disk.size());
  return g;
}

Status ReadError(const std::string& image, bool random = false) {
  MemoryImage m(image);
  auto r = m.Open(random);
  if (!r.ok()) return r.status();
  return TryReadDisk(**r).status();
}

TEST_CASE("vmdk stream: both layouts, from a pipe and in place, 1-3 threads") {
  std::string disk = RealisticDiskImage(kCapacity, 11);
  for (Layout layout : {Layout::kVmwareStream, Layout::kQemuStream}) {
    std::string image = VmdkBuilder(layout, disk).Build();
    for (bool random : {false, true}) {
      for (int threads : {1, 2, 3}) {
        CAPTURE(static_cast<int>(layout));
        CAPTURE(random);
        CAPTURE(threads);
        MemoryImage m(image);
        auto r = m.Open(random);
        REQUIRE_OK(r);
        CHECK((*r)->format_name() == "vmdk-streamOptimized");
        CHECK((*r)->capacity() == Padded(disk).size());
        auto got = TryReadDisk(**r, threads);
        REQUIRE_OK(got);
        CHECK(*got == Padded(disk));
        CHECK((*r)->bytes_read() <= image.size());
      }
    }
  }
}

TEST_CASE("vmdk stream: grains out of order, small grains, no data at all") {
  std::string disk = RealisticDiskImage(kCapacity, 12);
  SUBCASE("shuffled") {
    MemoryImage m(VmdkBuilder(Layout::kVmwareStream, disk).Shuffle(7).Build());
    auto r = m.Open(false);
    REQUIRE_OK(r);
    auto got = TryReadDisk(**r, 2);
    REQUIRE_OK(got);
    CHECK(*got == Padded(disk));
  }
  SUBCASE("8-sector grains") {
    MemoryImage m(
        VmdkBuilder(Layout::kVmwareStream, disk).GrainSectors(8).Build());
    auto r = m.Open(false);
    REQUIRE_OK(r);
    auto got = TryReadDisk(**r, 2);
    REQUIRE_OK(got);
    CHECK(*got == Padded(disk));
  }
  SUBCASE("all zeros: no grains, only metadata") {
    MemoryImage m(
        VmdkBuilder(Layout::kVmwareStream, std::string(1 << 20, '\0')).Build());
    auto r = m.Open(false);
    REQUIRE_OK(r);
    DataRun run;
    auto more = (*r)->Next(&run);
    REQUIRE_OK(more);
    CHECK_FALSE(*more);
  }
  SUBCASE("ovftool's undocumented type 4 markers are skipped") {
    MemoryImage m(VmdkBuilder(Layout::kVmwareStream, disk)
                      .AddMarker(4, 0)
                      .AddMarker(4, 0)
                      .Build());
    auto r = m.Open(false);
    REQUIRE_OK(r);
    auto got = TryReadDisk(**r);
    REQUIRE_OK(got);
    CHECK(*got == Padded(disk));
  }
}

// A stream with a tee that checks the reader's side of ReadShared(): bytes
// it lent stay unchanged until reclaimed, and everything lent is reclaimed
// by the time the reader is gone. Reads return at most `max_read` bytes.
class LendingSource : public ByteSource {
 public:
  LendingSource(std::string data, size_t max_read)
      : data_(std::move(data)), max_read_(max_read) {}

  Result<size_t> Read(std::span<uint8_t> out) override {
    Reclaim(tickets_);  // a plain read settles everything lent before
    return Copy(out);
  }
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override {
    size_t n = Copy(out);
    *ticket = ++tickets_;
    lent_.push_back(
        {*ticket, out.data(), std::string(AsStringView(out.first(n)))});
    return n;
  }
  void Reclaim(uint64_t ticket) override {
    while (!lent_.empty() && lent_.front().ticket <= ticket) {
      const Lent& l = lent_.front();
      if (std::memcmp(l.where, l.bytes.data(), l.bytes.size()) != 0) {
        ++overwritten_;
      }
      lent_.erase(lent_.begin());
    }
  }
  size_t outstanding() const { return lent_.size(); }
  int overwritten() const { return overwritten_; }
  uint64_t tickets() const { return tickets_; }

 private:
  struct Lent {
    uint64_t ticket;
    const uint8_t* where;
    std::string bytes;
  };
  size_t Copy(std::span<uint8_t> out) {
    size_t n = std::min({out.size(), max_read_, data_.size() - pos_});
    std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::string data_;
  size_t max_read_;
  size_t pos_ = 0;
  uint64_t tickets_ = 0;
  std::vector<Lent> lent_;
  int overwritten_ = 0;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The stream is read in place, in chunks of about 1 MiB that the grains
// are inflated from: grains cut by a chunk's end, chunks holding many
// batches of small grains, metadata reaching over several chunks, and
// reads of every size must all come out the same, without the reader ever
// touching bytes it lent to the tee.
TEST_CASE("vmdk stream: chunked reading keeps what it lent untouched") {
  std::string text;
  while (text.size() < (6u << 20)) {
    text += "line " + std::to_string(text.size() * 7919 % 100003) +
            " of a log file that compresses well\n";
  }
  struct Case {
    std::string name;
    std::string disk;
    std::function<void(VmdkBuilder&)> tweak;
  };
  std::vector<Case> cases = {
      // About 15 incompressible grains a chunk, cut anywhere.
      {"incompressible", RandomBytes(9 << 20, 1), nullptr},
      // Hundreds of grains a chunk: many batches share one chunk.
      {"compressible", text, nullptr},
      {"realistic", RealisticDiskImage(5 << 20, 2), nullptr},
      // 3 MiB of metadata sectors to skip, over several chunks.
      {"long metadata", RealisticDiskImage(3 << 20, 3),
       [](VmdkBuilder& b) { b.AddMarker(4, 6000); }},
  };
  for (const Case& c : cases) {
    VmdkBuilder builder(Layout::kVmwareStream, c.disk);
    if (c.tweak) c.tweak(builder);
    std::string image = builder.Build();
    for (size_t max_read : {size_t{4097}, size_t{65536}, size_t{1} << 30}) {
      for (int threads : {1, 3}) {
        CAPTURE(c.name);
        CAPTURE(max_read);
        CAPTURE(threads);
        LendingSource source(image, max_read);
        {
          auto r = VmdkStreamReader::Open(source, nullptr, image.size());
          REQUIRE_OK(r);
          auto got = TryReadDisk(**r, threads);
          REQUIRE_OK(got);
          CHECK(*got == Padded(c.disk));
          CHECK((*r)->bytes_read() <= image.size());
        }
        // Beyond what the header's cursor reads ahead, the chunks lend.
        if (image.size() > (3u << 20)) CHECK(source.tickets() > 0);
        CHECK(source.outstanding() == 0);
        CHECK(source.overwritten() == 0);
      }
    }
  }
  SUBCASE("a stream that ends inside long metadata") {
    std::string image =
        VmdkBuilder(Layout::kVmwareStream, std::string(4096, 'x'))
            .AddMarker(4, 6000)
            .Build();
    LendingSource source(image.substr(0, image.size() - (1 << 20)), 65536);
    {
      auto r = VmdkStreamReader::Open(source, nullptr, 0);
      REQUIRE_OK(r);
      Status s = TryReadDisk(**r, 2).status();
      CHECK(s.code() == ErrorCode::kCorrupt);
      CHECK(s.message().find("unexpected end of data") != std::string::npos);
    }
    CHECK(source.outstanding() == 0);
    CHECK(source.overwritten() == 0);
  }
  SUBCASE("a reader that fails midway reclaims what it lent") {
    std::string disk = RandomBytes(4 << 20, 4);
    std::string image = VmdkBuilder(Layout::kVmwareStream, disk).Build();
    image[(2 << 20) + 1000] ^= 0x55;  // inside some grain's zlib data
    LendingSource source(image, 1 << 20);
    {
      auto r = VmdkStreamReader::Open(source, nullptr, 0);
      REQUIRE_OK(r);
      CHECK_FALSE(TryReadDisk(**r, 3).ok());
    }
    CHECK(source.outstanding() == 0);
    CHECK(source.overwritten() == 0);
  }
}

TEST_CASE("vmdk stream: an all-zero grain in the stream yields no run") {
  std::string disk(4 << 16, '\0');
  disk[3 << 16] = 'x';
  std::string zero_grain = ZlibOf(std::string(65536, '\0'));
  MemoryImage m(VmdkBuilder(Layout::kVmwareStream, disk)
                    .AddRawGrain(0, zero_grain)
                    .Build());
  auto r = m.Open(false);
  REQUIRE_OK(r);
  DataRun run;
  auto more = (*r)->Next(&run);
  REQUIRE_OK(more);
  REQUIRE(*more);
  CHECK(run.offset == (3u << 16));
  more = (*r)->Next(&run);
  REQUIRE_OK(more);
  CHECK_FALSE(*more);
}

TEST_CASE("vmdk stream: hostile streams fail with kCorrupt and an offset") {
  std::string disk = RealisticDiskImage(1 << 20, 13);
  const uint64_t free_lba = FreeGrain(disk) * 128;
  auto corrupt = [](const Status& s, std::string_view text) {
    CAPTURE(s.message());
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find(text) != std::string::npos);
  };
  SUBCASE("a grain that inflates beyond a grain") {
    corrupt(
        ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                      .AddRawGrain(free_lba, ZlibOf(std::string(200000, 'A')))
                      .Build()),
        "inflates beyond 65536 bytes");
  }
  SUBCASE("garbage instead of zlib data") {
    corrupt(ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                          .AddRawGrain(free_lba, "not zlib at all")
                          .Build()),
            "invalid compressed data");
  }
  SUBCASE("the same grain twice") {
    std::vector<uint64_t> grains =
        VmdkBuilder(Layout::kVmwareStream, disk).DataGrains();
    REQUIRE(!grains.empty());
    corrupt(ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                          .AddRawGrain(grains[0] * 128, ZlibOf("x"))
                          .Build()),
            "already delivered");
  }
  SUBCASE("a grain beyond the capacity") {
    corrupt(ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                          .AddRawGrain(1 << 30, ZlibOf("x"))
                          .Build()),
            "beyond the capacity");
  }
  SUBCASE("a grain off its boundary") {
    corrupt(ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                          .AddRawGrain(3, ZlibOf("x"))
                          .Build()),
            "not on a grain boundary");
  }
  SUBCASE("a compressed size far beyond any grain") {
    std::string image = VmdkBuilder(Layout::kVmwareStream, disk)
                            .AddRawGrain(free_lba, std::string(200000, 'z'))
                            .Build();
    corrupt(ReadError(image), "compressed size 200000 exceeds");
  }
  SUBCASE("no end-of-stream marker, and truncation") {
    corrupt(
        ReadError(
            VmdkBuilder(Layout::kVmwareStream, disk).OmitEndOfStream().Build()),
        "no end-of-stream marker");
    std::string image = VmdkBuilder(Layout::kVmwareStream, disk).Build();
    corrupt(ReadError(image.substr(0, image.size() / 2)),
            "unexpected end of data");
    corrupt(ReadError(image.substr(0, 65536 + 300)), "truncated marker");
  }
  SUBCASE("an unknown marker type") {
    corrupt(
        ReadError(
            VmdkBuilder(Layout::kVmwareStream, disk).AddMarker(9, 0).Build()),
        "unknown marker type 9");
  }
  SUBCASE("a footer that describes another disk than the header") {
    // VMware's layout ends: footer marker, footer (a header copy), EOS.
    std::string image = VmdkBuilder(Layout::kVmwareStream, disk).Build();
    size_t footer = image.size() - 2 * 512;
    REQUIRE(LoadLe32(image.data() + footer) == 0x564d444b);
    StoreLe64(image.data() + footer + 12, uint64_t{1} << 40);
    corrupt(ReadError(image), "describes another disk than the header");
  }
  SUBCASE("a metadata marker claiming more sectors than exist") {
    corrupt(ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                          .AddMarker(1, uint64_t{1} << 60)
                          .Build()),
            "overflows");
  }
}

// qemu-img's layout has no end-of-stream marker: its grain tables, read as
// they pass by in the header area, say which grains must arrive.
TEST_CASE("vmdk stream: qemu-img layout, truncation known from the tables") {
  std::string disk = RealisticDiskImage(1 << 20, 14);
  VmdkBuilder builder(Layout::kQemuStream, disk);
  const std::string image = builder.Build();
  const std::vector<uint64_t> grains = builder.DataGrains();
  REQUIRE(grains.size() > 2);
  auto corrupt = [](const Status& s, std::string_view text) {
    CAPTURE(s.message());
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find(text) != std::string::npos);
  };
  // Where each grain's marker starts, found by walking the markers.
  const uint64_t overhead = LoadLe64(image.data() + 0x40) * 512;
  std::vector<size_t> starts;
  for (size_t p = overhead; p + 12 <= image.size();) {
    uint32_t size = LoadLe32(image.data() + p + 8);
    REQUIRE(size != 0);
    starts.push_back(p);
    p += (12 + size + 511) / 512 * 512;
  }
  REQUIRE(starts.size() == grains.size());

  SUBCASE("whole, with and without the zeros qemu-img pads the end with") {
    for (bool random : {false, true}) {
      CHECK_OK(ReadError(image, random));
      CHECK_OK(ReadError(image + std::string(127 * 512, '\0'), random));
    }
  }
  SUBCASE("cut at every grain boundary, inside a grain and a marker") {
    for (size_t i = 0; i < starts.size(); ++i) {
      CAPTURE(i);
      corrupt(ReadError(image.substr(0, starts[i])), "truncated?");
      corrupt(ReadError(image.substr(0, starts[i] + 100)), "truncated marker");
      // Inside the grain's data (a grain of one sector is all marker).
      size_t end = i + 1 < starts.size() ? starts[i + 1] : image.size();
      size_t cut = std::min(starts[i] + 512 + 7, end - 1);
      corrupt(ReadError(image.substr(0, cut)), end - starts[i] > 512
                                                   ? "unexpected end of data"
                                                   : "truncated marker");
    }
    corrupt(ReadError(image.substr(0, starts.back()) + std::string(512, '\0')),
            "only " + std::to_string(grains.size() - 1) + " arrived");
  }
  SUBCASE("a grain the tables do not list") {
    corrupt(ReadError(VmdkBuilder(Layout::kQemuStream, disk)
                          .AddRawGrain(FreeGrain(disk) * 128, ZlibOf("x"))
                          .RawGrainsNotInTables()
                          .Build()),
            "not in the grain tables");
  }
  SUBCASE("grains swapped: each where the table says the other is") {
    std::vector<uint64_t> order = grains;
    std::swap(order[0], order[1]);
    std::string swapped =
        VmdkBuilder(Layout::kQemuStream, disk).Order(order).Build();
    // The tables of `image` with the grains of `swapped`.
    std::string mixed = image.substr(0, overhead) + swapped.substr(overhead);
    REQUIRE(mixed.size() == image.size());  // the same grains, padded
    REQUIRE(mixed != image);
    corrupt(ReadError(mixed), "are not the ones the grain directory");
  }
  SUBCASE("grain table entries into the metadata") {
    const uint64_t gd = LoadLe64(image.data() + 0x38);
    const uint64_t gt = LoadLe32(image.data() + gd * 512);
    const uint64_t rgd = LoadLe64(image.data() + 0x30);
    for (uint32_t target :
         {uint32_t{0}, uint32_t{1}, static_cast<uint32_t>(gd),
          static_cast<uint32_t>(gt), static_cast<uint32_t>(rgd),
          static_cast<uint32_t>(overhead / 512 - 1)}) {
      if (target == 0) continue;
      CAPTURE(target);
      std::string bad = image;
      StoreLe32(bad.data() + gt * 512 + grains[0] * 4, target);
      for (bool random : {false, true}) {
        corrupt(ReadError(bad, random), "inside the metadata");
      }
    }
  }
  SUBCASE("a directory entry outside the header area, or on the directory") {
    const uint64_t gd = LoadLe64(image.data() + 0x38);
    for (uint32_t target : {static_cast<uint32_t>(gd), uint32_t{1},
                            static_cast<uint32_t>(overhead / 512)}) {
      std::string bad = image;
      StoreLe32(bad.data() + gd * 512, target);
      corrupt(ReadError(bad), "not to a grain table");
    }
  }
}

// VMware's layout: the tables and the directory after the grains must
// describe the grains that went by (VMware's and qemu's readers follow them).
TEST_CASE("vmdk stream: VMware layout, tables checked against the grains") {
  std::string disk = RealisticDiskImage(1 << 20, 15);
  const std::string image = VmdkBuilder(Layout::kVmwareStream, disk).Build();
  auto corrupt = [](const Status& s, std::string_view text) {
    CAPTURE(s.message());
    CHECK(s.code() == ErrorCode::kCorrupt);
    CHECK(s.message().find(text) != std::string::npos);
  };
  // The markers: (offset, type) of each metadata marker, and the grains.
  const uint64_t overhead = LoadLe64(image.data() + 0x40) * 512;
  size_t gt = 0, gd = 0, footer = 0;
  std::vector<size_t> grains;
  for (size_t p = overhead; p + 512 <= image.size();) {
    uint64_t val = LoadLe64(image.data() + p);
    uint32_t size = LoadLe32(image.data() + p + 8);
    if (size != 0) {
      grains.push_back(p);
      p += (12 + size + 511) / 512 * 512;
      continue;
    }
    uint32_t type = LoadLe32(image.data() + p + 12);
    if (type == 1) gt = p;
    if (type == 2) gd = p;
    if (type == 3) footer = p;
    if (type == 0) break;
    p += 512 + val * 512;
  }
  REQUIRE(gt != 0);
  REQUIRE(gd != 0);
  REQUIRE(footer != 0);
  REQUIRE(grains.size() > 2);
  CHECK_OK(ReadError(image));
  // The first data grain's table entry.
  size_t entry = gt + 512;
  while (LoadLe32(image.data() + entry) == 0) entry += 4;

  SUBCASE("a table entry into the header area") {
    for (uint32_t target :
         {1u, 2u, static_cast<uint32_t>(overhead / 512 - 1)}) {
      std::string bad = image;
      StoreLe32(bad.data() + entry, target);
      corrupt(ReadError(bad), "inside the metadata");
    }
  }
  SUBCASE("a table entry on its own table, the directory or the footer") {
    for (size_t target : {gt, gt + 512, gd + 512, footer + 512}) {
      std::string bad = image;
      StoreLe32(bad.data() + entry, static_cast<uint32_t>(target / 512));
      corrupt(ReadError(bad), "not to a grain before the table");
    }
  }
  SUBCASE("table entries swapped: each on the other's grain") {
    size_t second = entry + 4;
    while (LoadLe32(image.data() + second) == 0) second += 4;
    std::string bad = image;
    StoreLe32(bad.data() + entry, LoadLe32(image.data() + second));
    StoreLe32(bad.data() + second, LoadLe32(image.data() + entry));
    corrupt(ReadError(bad), "are not the ones the grain directory");
  }
  SUBCASE("a directory entry where no table is") {
    std::string bad = image;
    StoreLe32(bad.data() + gd + 512, static_cast<uint32_t>(grains[1] / 512));
    corrupt(ReadError(bad), "where no grain table went by");
  }
  SUBCASE("a footer whose gdOffset is not the directory") {
    std::string bad = image;
    StoreLe64(bad.data() + footer + 512 + 0x38, 1);
    corrupt(ReadError(bad), "is not the grain directory");
  }
}

TEST_CASE("vmdk stream: hostile headers fail before any data is read") {
  std::string disk = RealisticDiskImage(1 << 20, 14);
  struct Case {
    std::string name;
    std::function<void(VmdkBuilder::Header&)> patch;
    ErrorCode code;
    const char* text;
  };
  std::vector<Case> cases = {
      {"grain size not a power of two", [](auto& h) { h.grain_size = 100; },
       ErrorCode::kCorrupt, "grain size 100"},
      {"grain size over 2 MiB", [](auto& h) { h.grain_size = 8192; },
       ErrorCode::kCorrupt, "grain size 8192"},
      {"capacity over 64 TiB", [](auto& h) { h.capacity = ~uint64_t{0} / 4; },
       ErrorCode::kUnsupported, "64 TiB"},
      {"no grain table entries", [](auto& h) { h.num_gtes_per_gt = 0; },
       ErrorCode::kCorrupt, "entries per grain table"},
      {"huge descriptor", [](auto& h) { h.descriptor_size = 1 << 30; },
       ErrorCode::kCorrupt, "embedded descriptor"},
      {"text-mode transfer", [](auto& h) { h.newline_chars[2] = '\n'; },
       ErrorCode::kCorrupt, "newline"},
      {"unknown compression", [](auto& h) { h.compress_algorithm = 7; },
       ErrorCode::kUnsupported, "compression algorithm 7"},
      {"unknown incompatible flag", [](auto& h) { h.flags |= 1u << 20; },
       ErrorCode::kUnsupported, "unknown vmdk flags"},
      {"version 4", [](auto& h) { h.version = 4; }, ErrorCode::kUnsupported,
       "version 4"},
      {"zero overhead", [](auto& h) { h.overhead = 0; }, ErrorCode::kCorrupt,
       "overhead"},
      {"overhead overflow", [](auto& h) { h.overhead = ~uint64_t{0} / 2; },
       ErrorCode::kCorrupt, "overflows"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Status s = ReadError(
        VmdkBuilder(Layout::kVmwareStream, disk).PatchHeader(c.patch).Build());
    CAPTURE(s.message());
    CHECK(s.code() == c.code);
    CHECK(s.message().find(c.text) != std::string::npos);
  }
}

TEST_CASE("vmdk stream: the embedded descriptor decides what is supported") {
  std::string disk = RealisticDiskImage(1 << 20, 15);
  auto with = [&](std::string desc) {
    return ReadError(VmdkBuilder(Layout::kVmwareStream, disk)
                         .DescriptorText(std::move(desc))
                         .Build());
  };
  Status parent = with(
      "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=12345678\n"
      "createType=\"streamOptimized\"\nparentFileNameHint=\"/etc/shadow\"\n");
  CHECK(parent.code() == ErrorCode::kUnsupported);
  CHECK(parent.message().find("parent") != std::string::npos);
  Status sesparse = with(
      "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
      "createType=\"seSparse\"\n");
  CHECK(sesparse.code() == ErrorCode::kUnsupported);
  CHECK(sesparse.message().find("'seSparse'") != std::string::npos);
  Status encrypted = with(
      "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
      "createType=\"streamOptimized\"\nencryption=\"keySafe=abc\"\n");
  CHECK(encrypted.code() == ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace ova2virt

namespace ova2virt {
namespace {

// A sink writing behind the conversion keeps runs by their leases: the
// bytes of a leased run must not change while the lease is held, however
// far the reader goes on (and the reader must not wait forever for the few
// leases a sink holds).
TEST_CASE(
    "vmdk stream: a run's lease keeps its bytes while the reader goes "
    "on") {
  std::string disk = RealisticDiskImage(24 << 20, 21);
  std::string image = VmdkBuilder(Layout::kVmwareStream, disk).Build();
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    MemoryImage m(image);
    auto r = m.Open(false);
    REQUIRE_OK(r);
    (*r)->SetThreads(threads);
    // Keep the last four runs' leases and check each run when let go.
    struct Held {
      DataRun run;
      std::string copy;
    };
    std::deque<Held> held;
    size_t runs = 0;
    auto let_go = [&] {
      const Held& h = held.front();
      CHECK(std::string(reinterpret_cast<const char*>(h.run.data.data()),
                        h.run.data.size()) == h.copy);
      CHECK(h.copy == disk.substr(h.run.offset, h.run.data.size()));
      held.pop_front();
    };
    DataRun run;
    for (;;) {
      auto more = (*r)->Next(&run);
      REQUIRE_OK(more);
      if (!*more) break;
      REQUIRE(run.lease != nullptr);
      ++runs;
      held.push_back(
          {run, std::string(reinterpret_cast<const char*>(run.data.data()),
                            run.data.size())});
      if (held.size() > 4) let_go();
    }
    while (!held.empty()) let_go();
    CHECK(runs > 8);
  }
}

}  // namespace
}  // namespace ova2virt
