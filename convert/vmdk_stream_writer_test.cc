#include "convert/vmdk_stream_writer.h"

#include "convert/disk_test_util.h"
#include "convert/vmdk_format.h"
#include "core/endian.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::MemoryImage;
using testing::RealisticDiskImage;
using testing::TryReadDisk;

// Writes `disk` as a stream in runs of `piece` bytes.
std::string WriteStream(const std::string& disk, size_t piece, int threads,
                        VmdkStreamWriterOptions options = {}) {
  StringSink sink;
  VmdkStreamWriter w(sink, disk.size(), options);
  w.SetThreads(threads);
  for (uint64_t o = 0; o < disk.size(); o += piece) {
    size_t n = std::min<uint64_t>(piece, disk.size() - o);
    REQUIRE_OK(w.WriteRun(o, AsBytes(std::string_view(disk).substr(o, n))));
  }
  auto st = w.Finish();
  REQUIRE_OK(st);
  CHECK(st->bytes_written == sink.str().size());
  return sink.str();
}

TEST_CASE("vmdk stream writer: same bytes for any thread count and run size") {
  std::string disk = RealisticDiskImage(6 * 1024 * 1024 + 5 * 512, 51);
  std::string first = WriteStream(disk, 1 << 20, 1);
  for (int threads : {2, 4}) {
    for (size_t piece : {size_t{65536}, size_t{5000}, size_t{3 << 20}}) {
      CAPTURE(threads);
      CAPTURE(piece);
      CHECK(WriteStream(disk, piece, threads) == first);
    }
  }
  MemoryImage m(first);
  auto r = m.Open(false);
  REQUIRE_OK(r);
  auto got = TryReadDisk(**r);
  REQUIRE_OK(got);
  CHECK(*got == disk);
}

TEST_CASE("vmdk stream writer: the layout VMware's exporters write") {
  std::string disk = RealisticDiskImage(70 * 1024 * 1024, 52);  // 3 tables
  VmdkStreamWriterOptions o;
  o.extent_name = "disk1.vmdk";
  o.adapter_type = "ide";
  o.virtual_hw_version = "14";
  std::string image = WriteStream(disk, 1 << 20, 2, o);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(image.data());
  REQUIRE(image.size() % 512 == 0);

  vmdk::SparseHeader h =
      vmdk::ParseSparseHeader(std::span<const uint8_t, 512>(p, 512));
  CHECK(h.magic == vmdk::kSparseMagic);
  CHECK(h.version == 3);
  CHECK(h.flags == 0x30001);
  CHECK(h.grain_size == 128);
  CHECK(h.num_gtes_per_gt == 512);
  CHECK(h.gd_offset == vmdk::kGdAtEnd);
  CHECK(h.descriptor_offset == 1);
  CHECK(h.overhead == 128);
  CHECK(h.compress_algorithm == 1);
  CHECK(h.capacity == disk.size() / 512);
  std::string desc = image.substr(512, h.descriptor_size * 512);
  desc.resize(desc.find('\0') == std::string::npos ? desc.size()
                                                   : desc.find('\0'));
  auto d = ParseVmdkDescriptor(desc);
  REQUIRE_OK(d);
  CHECK(d->create_type == "streamOptimized");
  CHECK(d->parent_cid == "ffffffff");
  CHECK(d->cid.size() == 8);
  REQUIRE(d->extents.size() == 1);
  CHECK(d->extents[0].access == "RW");
  CHECK(d->extents[0].file == "disk1.vmdk");
  CHECK(d->extents[0].sectors == h.capacity);
  CHECK(d->Ddb("ddb.adapterType") == "ide");
  CHECK(d->Ddb("ddb.geometry.heads") == "16");
  CHECK(d->Ddb("ddb.geometry.sectors") == "63");
  CHECK(d->Ddb("ddb.virtualHWVersion") == "14");
  CHECK(d->Ddb("ddb.toolsInstallType").has_value());
  CHECK(d->Ddb("ddb.longContentID")->size() == 32);

  // The tail: directory marker + directory, footer marker + footer, end.
  size_t n = image.size() / 512;
  auto marker = [&](size_t sector, uint32_t type) {
    CAPTURE(sector);
    CHECK(LoadLe32(p + sector * 512 + 8) == 0);
    CHECK(LoadLe32(p + sector * 512 + 12) == type);
    return LoadLe64(p + sector * 512);
  };
  marker(n - 1, vmdk::kMarkerEndOfStream);
  CHECK(marker(n - 3, vmdk::kMarkerFooter) == 1);
  vmdk::SparseHeader f = vmdk::ParseSparseHeader(
      std::span<const uint8_t, 512>(p + (n - 2) * 512, 512));
  CHECK(f.capacity == h.capacity);
  CHECK(f.gd_offset != vmdk::kGdAtEnd);
  uint64_t gd_sectors = marker(f.gd_offset - 1, vmdk::kMarkerGrainDirectory);
  CHECK(f.gd_offset + gd_sectors == n - 3);
  // Each directory entry names a table that follows a table marker; each
  // table entry names a grain marker carrying that grain's sector.
  uint64_t grains = 0;
  for (uint64_t t = 0; t < (h.capacity + 65535) / 65536; ++t) {
    uint32_t gt = LoadLe32(p + f.gd_offset * 512 + t * 4);
    if (gt == 0) continue;
    CHECK(marker(gt - 1, vmdk::kMarkerGrainTable) == 4);
    for (int e = 0; e < 512; ++e) {
      uint32_t sector = LoadLe32(p + gt * 512 + e * 4);
      if (sector == 0) continue;
      ++grains;
      CHECK(LoadLe64(p + sector * 512) == (t * 512 + e) * 128);
      CHECK(LoadLe32(p + sector * 512 + 8) > 0);
      // Tables come after their grains.
      CHECK(sector < gt);
    }
  }
  CHECK(grains > 100);
}

TEST_CASE("vmdk stream writer: runs must increase; zeros cost nothing") {
  StringSink sink;
  VmdkStreamWriter w(sink, 1 << 20);
  std::string block(4096, 'x');
  REQUIRE_OK(w.WriteRun(65536, AsBytes(block)));
  CHECK(w.WriteRun(0, AsBytes(block)).code() == ErrorCode::kFailed);
  CHECK(w.WriteRun(1 << 20, AsBytes(block)).code() == ErrorCode::kFailed);

  StringSink empty_sink;
  VmdkStreamWriter empty(empty_sink, 3 * 1024 * 1024 + 100);
  REQUIRE_OK(empty.WriteRun(0, AsBytes(std::string(1 << 20, '\0'))));
  auto st = empty.Finish();
  REQUIRE_OK(st);
  CHECK(st->data_clusters == 0);
  MemoryImage m(empty_sink.str());
  auto r = m.Open(false);
  REQUIRE_OK(r);
  CHECK((*r)->capacity() == 3 * 1024 * 1024 + 512);
  auto got = TryReadDisk(**r);
  REQUIRE_OK(got);
  CHECK(*got == std::string(3 * 1024 * 1024 + 512, '\0'));
}

TEST_CASE("vmdk stream writer: content ids are stable and never reserved") {
  StringSink a, b, c;
  VmdkStreamWriterOptions o;
  o.extent_name = "disk\"1\n.vmdk";  // quotes and newlines are made safe
  VmdkStreamWriter wa(a, 1 << 20, o), wb(b, 1 << 20, o), wc(c, 2 << 20, o);
  CHECK(wa.DescriptorText() == wb.DescriptorText());
  CHECK(wa.DescriptorText() != wc.DescriptorText());
  auto d = ParseVmdkDescriptor(wa.DescriptorText());
  REQUIRE_OK(d);
  REQUIRE(d->extents.size() == 1);
  CHECK(d->extents[0].file == "disk_1_.vmdk");
  CHECK(d->cid != "ffffffff");
  CHECK(d->cid != "fffffffe");
}

}  // namespace
}  // namespace ova2virt
