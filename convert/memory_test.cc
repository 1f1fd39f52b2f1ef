// Peak memory stays bounded whatever the disk's size: an 8 GiB disk
// converted between every format in a child process whose peak RSS the
// parent reads with getrusage().
#include <random>

#include "convert/disk_test_util.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::ConvertFile;
using testing::PeakRssOfChild;
using testing::TempDir;
using testing::VmdkBuilder;

constexpr uint64_t kCapacity = uint64_t{8} << 30;
constexpr long kLimitKiB = 64 * 1024;

TEST_CASE("memory: an 8 GiB disk converts in under 64 MiB of RSS") {
  TempDir dir;
  std::string vmdk = dir.Join("big.vmdk");
  // Built in a child of its own, so the fixture's memory is not counted in
  // the conversions below.
  long built = PeakRssOfChild([&] {
    // Mostly zeros so the test is quick; data spread over the whole disk,
    // the last bytes included, so every table level is exercised.
    VmdkBuilder b(VmdkBuilder::Layout::kVmwareStream, kCapacity);
    std::mt19937_64 rng(61);
    for (int i = 0; i < 48; ++i) {
      std::string piece(64 * 1024 * (1 + rng() % 16), '\0');
      for (char& c : piece) c = static_cast<char>(rng() % 7 == 0 ? 0 : rng());
      b.Write((rng() % (kCapacity / 65536 - 32)) * 65536, piece);
    }
    b.Write(kCapacity - 4096, std::string(4096, 'E'));
    testing::WriteFileOrDie(vmdk, b.Build());
    return true;
  });
  REQUIRE(built > 0);
  long baseline = PeakRssOfChild([] { return true; });
  MESSAGE("baseline RSS of a child: " << baseline << " KiB");

  struct Step {
    std::string in, out, format;
  };
  std::vector<Step> steps = {
      {vmdk, dir.Join("big.qcow2"), "qcow2"},
      {vmdk, dir.Join("big.raw"), "raw"},
      {dir.Join("big.qcow2"), dir.Join("back.vmdk"), "vmdk"},
  };
  for (const Step& s : steps) {
    CAPTURE(s.out);
    long kib = PeakRssOfChild(
        [&] { return ConvertFile(s.in, s.out, s.format, 2).ok(); });
    MESSAGE("peak RSS converting to " << s.format << ": " << kib << " KiB");
    CHECK(kib > 0);
    // Above what an idle child holds (which is large under the
    // sanitizers, tiny otherwise).
    CHECK(kib - baseline < kLimitKiB);
  }
  // And the round trip is exact.
  auto cmp = testing::QemuImg("compare " + testing::ShellQuote(vmdk) + " " +
                              testing::ShellQuote(dir.Join("back.vmdk")));
  INFO(cmp.out);
  CHECK(cmp.exit_code == 0);
}

}  // namespace
}  // namespace ova2virt
