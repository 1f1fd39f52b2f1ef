// ova2virt against the referees: every VMDK kind qemu-img writes, VMware-
// layout streams from VmdkBuilder, the real VMDKs of the corpus, converted
// to qcow2 and raw and checked with `qemu-img compare` and `qemu-img check`;
// and our streamOptimized output read back by qemu-img, by ova2virt and by
// libvmdk's vmdkinfo.
#include <sys/stat.h>

#include "convert/disk_test_util.h"
#include "core/compress.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::ConvertFile;
using testing::CorpusPath;
using testing::QemuImg;
using testing::RealisticDiskImage;
using testing::ShellQuote;
using testing::TempDir;
using testing::VmdkBuilder;
using testing::WriteFileOrDie;

// Odd on purpose: not a multiple of the 64 KiB grain (a multiple of the
// sector, which every VMDK needs). A few MiB is plenty.
constexpr uint64_t kCapacity = 5 * 1024 * 1024 + 7 * 512;

void ExpectSame(const std::string& a, const std::string& b) {
  auto r = QemuImg("compare " + ShellQuote(a) + " " + ShellQuote(b));
  INFO(r.out);
  CHECK(r.exit_code == 0);
}

void ExpectCheckClean(const std::string& qcow2) {
  auto r = QemuImg("check " + ShellQuote(qcow2));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("No errors were found") != std::string::npos);
}

// Converts `image` to qcow2 and raw with ova2virt (one and two threads)
// and checks both against `reference` with the referees.
void ConvertAndCompare(const TempDir& dir, const std::string& image,
                       const std::string& reference,
                       const std::string& expect_format = "") {
  for (int threads : {1, 2}) {
    CAPTURE(image);
    CAPTURE(threads);
    std::string qcow2 = dir.Join("out-" + std::to_string(threads) + ".qcow2");
    std::string raw = dir.Join("out-" + std::to_string(threads) + ".raw");
    auto s1 = ConvertFile(image, qcow2, "qcow2", threads);
    REQUIRE_OK(s1);
    auto s2 = ConvertFile(image, raw, "raw", threads);
    REQUIRE_OK(s2);
    ExpectSame(qcow2, reference);
    ExpectSame(raw, reference);
    ExpectCheckClean(qcow2);
    // Sparse: the qcow2 holds about as much data as the disk, not its size.
    CHECK(s1->allocated_clusters * 65536 <= s1->capacity + 65536);
    if (!expect_format.empty()) {
      std::unique_ptr<FileRandomAccess> keep;
      auto r = testing::OpenFileReader(image, &keep);
      REQUIRE_OK(r);
      CHECK((*r)->format_name() == expect_format);
    }
  }
}

TEST_CASE("interop: every vmdk subformat qemu-img writes converts exactly") {
  TempDir dir;
  std::string src = dir.Join("src.raw");
  WriteFileOrDie(src, RealisticDiskImage(kCapacity, 21));
  for (std::string sub :
       {"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
        "twoGbMaxExtentFlat", "streamOptimized"}) {
    CAPTURE(sub);
    std::string vmdk = dir.Join(sub + ".vmdk");
    auto made = QemuImg("convert -f raw -O vmdk -o subformat=" + sub + " " +
                        ShellQuote(src) + " " + ShellQuote(vmdk));
    INFO(made.out);
    REQUIRE(made.exit_code == 0);
    ConvertAndCompare(dir, vmdk, src, "vmdk-" + sub);
  }
}

TEST_CASE("interop: VMware-layout streams from VmdkBuilder convert exactly") {
  TempDir dir;
  std::string disk = RealisticDiskImage(kCapacity, 22);
  std::string src = dir.Join("src.raw");
  WriteFileOrDie(src, disk);
  struct Variant {
    const char* name;
    VmdkBuilder builder;
  };
  std::vector<Variant> variants = {
      {"vmware", VmdkBuilder(VmdkBuilder::Layout::kVmwareStream, disk)},
      {"vmware-shuffled",
       std::move(
           VmdkBuilder(VmdkBuilder::Layout::kVmwareStream, disk).Shuffle(3))},
      {"qemu-layout", VmdkBuilder(VmdkBuilder::Layout::kQemuStream, disk)},
      {"sparse-out-of-order",
       std::move(VmdkBuilder(VmdkBuilder::Layout::kMonolithicSparse, disk)
                     .Shuffle(4))},
  };
  for (const Variant& v : variants) {
    CAPTURE(v.name);
    std::string image = dir.Join(std::string(v.name) + ".vmdk");
    WriteFileOrDie(image, v.builder.Build());
    // The builder's output is itself checked by qemu-img.
    ExpectSame(image, src);
    ConvertAndCompare(dir, image, src);
  }
}

TEST_CASE(
    "interop: streams from tests/tools/vmdk_stream.py (a third "
    "producer)") {
  TempDir dir;
  std::string src = dir.Join("src.raw");
  WriteFileOrDie(src, RealisticDiskImage(kCapacity, 25));
  for (std::string extra : {"", " --shuffle-seed 5"}) {
    CAPTURE(extra);
    std::string image = dir.Join("py.vmdk");
    auto r = testing::RunCommand(
        "python3 " +
        ShellQuote(testing::SourcePath("tests/tools/vmdk_stream.py")) + " " +
        ShellQuote(src) + " " + ShellQuote(image) + extra + " 2>&1");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    ConvertAndCompare(dir, image, src, "vmdk-streamOptimized");
  }
}

TEST_CASE("interop: the real VMDKs of the corpus") {
  TempDir dir;
  for (std::string name :
       {"cot_input.vmdk", "ganeti_new_disk.vmdk", "pve_Win10-Liz-disk1.vmdk"}) {
    CAPTURE(name);
    std::string image = CorpusPath("vmdk/" + name);
    std::string reference = dir.Join(name + ".ref.raw");
    auto r = QemuImg("convert -O raw " + ShellQuote(image) + " " +
                     ShellQuote(reference));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    ConvertAndCompare(dir, image, reference);
  }
}

TEST_CASE("interop: ovftool-written streams from the corpus OVAs, gzip too") {
  TempDir dir;
  // Python's tarfile extracts the members; the disks are read in place.
  std::string script =
      "import sys,tarfile\n"
      "for ova in sys.argv[2:]:\n"
      "  t=tarfile.open(ova)\n"
      "  for m in t.getmembers():\n"
      "    if '.vmdk' in m.name: t.extract(m, sys.argv[1])\n";
  WriteFileOrDie(dir.Join("x.py"), script);
  auto r = testing::RunCommand(
      "python3 " + ShellQuote(dir.Join("x.py")) + " " + ShellQuote(dir.path()) +
      " " + ShellQuote(CorpusPath("ova/vboxvk_tdAppliance1-t2.ova")) + " " +
      ShellQuote(CorpusPath("ova/vboxvk_tdAppliance1-t4.ova")));
  REQUIRE(r.exit_code == 0);
  for (std::string name :
       {"tdAppliance1-t2-disk1.vmdk", "tdAppliance1-t4-disk1.vmdk.gz",
        "tdAppliance1-t4-disk2.vmdk.gz"}) {
    CAPTURE(name);
    std::string image = dir.Join(name);
    if (name.ends_with(".gz")) {
      // Through GzipSource, as an OVA's ovf:compression="gzip" member is.
      std::string gz = testing::ReadFileOrDie(image);
      MemorySource raw(gz);
      GzipSource unzipped(raw);
      auto data = ReadAllCapped(unzipped, 16 << 20);
      REQUIRE_OK(data);
      image = dir.Join(name.substr(0, name.size() - 3));
      WriteFileOrDie(image, *data);
    }
    std::string reference = dir.Join(name + ".ref.raw");
    auto q = QemuImg("convert -O raw " + ShellQuote(image) + " " +
                     ShellQuote(reference));
    REQUIRE(q.exit_code == 0);
    ConvertAndCompare(dir, image, reference, "vmdk-streamOptimized");
  }
}

TEST_CASE("interop: qcow2 and raw to streamOptimized, read back by all") {
  TempDir dir;
  std::string src = dir.Join("src.raw");
  WriteFileOrDie(src, RealisticDiskImage(kCapacity, 23));
  std::string qcow2 = dir.Join("src.qcow2");
  REQUIRE(QemuImg("convert -f raw -O qcow2 " + ShellQuote(src) + " " +
                  ShellQuote(qcow2))
              .exit_code == 0);
  std::string first;
  for (const std::string& in : {src, qcow2}) {
    for (int threads : {1, 2}) {
      CAPTURE(in);
      CAPTURE(threads);
      std::string vmdk = dir.Join("out.vmdk");
      OpenOptions o;
      if (in == src) o.format = "raw";
      auto s = ConvertFile(in, vmdk, "vmdk", threads, o);
      REQUIRE_OK(s);
      // qemu-img reads it...
      ExpectSame(vmdk, src);
      // ...and so does ova2virt...
      std::string back = dir.Join("back.raw");
      REQUIRE_OK(ConvertFile(vmdk, back, "raw"));
      ExpectSame(back, src);
      // ...and libvmdk.
      auto info = testing::RunCommand("vmdkinfo " + ShellQuote(vmdk) + " 2>&1");
      INFO(info.out);
      CHECK(info.exit_code == 0);
      CHECK(info.out.find("Stream optimized") != std::string::npos);
      CHECK(info.out.find("(5246464 bytes)") != std::string::npos);
      // The same bytes whatever the input format and thread count.
      std::string bytes = testing::ReadFileOrDie(vmdk);
      if (first.empty()) first = bytes;
      CHECK(bytes == first);
    }
  }
}

TEST_CASE(
    "interop: qcow2 images qemu-img writes: v2, compressed, zero "
    "clusters, extended L2") {
  TempDir dir;
  std::string src = dir.Join("src.raw");
  WriteFileOrDie(src, RealisticDiskImage(kCapacity, 24));
  struct Variant {
    const char* name;
    std::string args;
  };
  std::vector<Variant> variants = {
      {"v2", "-O qcow2 -o compat=0.10"},
      {"v3-compressed", "-O qcow2 -c"},
      {"v2-compressed", "-O qcow2 -c -o compat=0.10"},
      {"small-clusters", "-O qcow2 -o cluster_size=4096"},
      {"extended-l2", "-O qcow2 -o extended_l2=on,cluster_size=128k"},
      {"preallocated", "-O qcow2 -o preallocation=metadata"},
  };
  for (const Variant& v : variants) {
    CAPTURE(v.name);
    std::string image = dir.Join(std::string(v.name) + ".qcow2");
    auto r = QemuImg("convert -f raw " + v.args + " " + ShellQuote(src) + " " +
                     ShellQuote(image));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    ConvertAndCompare(dir, image, src, "qcow2");
  }
  SUBCASE("zero clusters written by qemu-io") {
    std::string image = dir.Join("zeroed.qcow2");
    REQUIRE(QemuImg("convert -f raw -O qcow2 " + ShellQuote(src) + " " +
                    ShellQuote(image))
                .exit_code == 0);
    // Zero a range that holds data, leaving zero-flagged L2 entries (and
    // subcluster zero bits in the extended-L2 variant).
    for (std::string extra : {"", "ext"}) {
      std::string target = image;
      if (!extra.empty()) {
        target = dir.Join("zeroed-ext.qcow2");
        REQUIRE(QemuImg("convert -f raw -O qcow2 -o extended_l2=on " +
                        ShellQuote(src) + " " + ShellQuote(target))
                    .exit_code == 0);
      }
      auto z = testing::RunCommand(
          "qemu-io -f qcow2 -c 'write -z 0 1M' -c 'write -z 2M 8k' " +
          ShellQuote(target) + " 2>&1");
      INFO(z.out);
      REQUIRE(z.exit_code == 0);
      std::string expect = dir.Join("expect.raw");
      REQUIRE(QemuImg("convert -O raw " + ShellQuote(target) + " " +
                      ShellQuote(expect))
                  .exit_code == 0);
      ConvertAndCompare(dir, target, expect);
    }
  }
}

}  // namespace
}  // namespace ova2virt
