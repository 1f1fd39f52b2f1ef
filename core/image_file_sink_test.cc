#include "core/image_file_sink.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/io_faults.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using testing::TempDir;

std::vector<uint8_t> Pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

TEST_CASE("image file sink: small appends land in order, in few writes") {
  TempDir dir;
  auto file = File::CreateExclusive(dir.Join("disk.img"));
  REQUIRE_OK(file);
  std::string expected(17 << 20, '\0');
  ArmIoFault({IoOp::kWrite, 0});  // counts the writes, fails none
  {
    ImageFileSink image(*file);
    // 64 clusters of 64 KiB, one after the other, as a qcow2 writer
    // appends them; then one far away.
    for (int i = 0; i < 64; ++i) {
      std::vector<uint8_t> cluster = Pattern(64 << 10, static_cast<uint8_t>(i));
      const uint64_t at = static_cast<uint64_t>(i) << 16;
      CHECK_OK(image.sink().WriteAt(at, cluster));
      std::memcpy(expected.data() + at, cluster.data(), cluster.size());
    }
    std::vector<uint8_t> far = Pattern(4096, 99);
    CHECK_OK(image.sink().WriteAt(16 << 20, far));
    std::memcpy(expected.data() + (16 << 20), far.data(), far.size());
    CHECK_OK(image.sink().SetSize(expected.size()));
    CHECK_OK(image.Flush());
  }
  const uint64_t writes = CurrentIoFaultCounts().write;
  DisarmIoFaults();
  // 65 writes in; the gathered 4 MiB and the far block come out.
  CHECK(writes <= 3);
  CHECK(testing::ReadFileOrDie(dir.Join("disk.img")) == expected);
}

TEST_CASE("image file sink: a failed write behind is returned by Flush") {
  TempDir dir;
  auto file = File::CreateExclusive(dir.Join("disk.img"));
  REQUIRE_OK(file);
  ImageFileSink image(*file);
  ArmIoFault({IoOp::kWrite, 1, ENOSPC});
  // Every call may succeed: the write happens on another thread, later.
  std::vector<uint8_t> data = Pattern(8 << 20, 1);
  (void)image.sink().WriteAt(0, data);
  Status flushed = image.Flush();
  DisarmIoFaults();
  CHECK(flushed.code() == ErrorCode::kNoSpace);
  CHECK(flushed.message().find("disk.img") != std::string::npos);
}

}  // namespace
}  // namespace ova2virt
