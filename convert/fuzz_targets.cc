#include "convert/fuzz_targets.h"

#include <memory>
#include <string>

#include "convert/disk_open.h"

namespace ova2virt {
namespace {

// Bounds the work one input may cause: a hostile header can describe a
// 64 TiB disk, and reading all of it is legitimate but slow.
constexpr uint64_t kMaxRunBytes = 256 << 20;
constexpr int kMaxRuns = 1 << 16;

void Drain(DiskReader& reader, int threads) {
  reader.SetThreads(threads);
  DataRun run;
  uint64_t total = 0;
  for (int i = 0; i < kMaxRuns && total < kMaxRunBytes; ++i) {
    auto more = reader.Next(&run);
    if (!more.ok() || !*more) return;
    uint64_t end = run.offset + run.data.size();
    if (end < run.offset || end > reader.capacity()) __builtin_trap();
    // Touch the bytes: a dangling span shows up under ASan.
    uint8_t x = 0;
    for (size_t k = 0; k < run.data.size(); k += 4096) x ^= run.data[k];
    volatile uint8_t sink = x;
    (void)sink;
    total += run.data.size();
  }
}

void FuzzOne(const uint8_t* data, size_t size, const std::string& format,
             bool random, int threads) {
  MemoryRandomAccess ra({data, size});
  MemorySource stream({data, size});
  DiskSource src;
  src.name = "fuzz";
  if (random) {
    src.random = &ra;
  } else {
    src.stream = &stream;
  }
  src.open_extent =
      [data,
       size](std::string_view) -> Result<std::unique_ptr<RandomAccessSource>> {
    return std::unique_ptr<RandomAccessSource>(
        std::make_unique<MemoryRandomAccess>(
            std::span<const uint8_t>(data, size)));
  };
  OpenOptions options;
  options.format = format;
  options.input_size = size;
  auto reader = OpenDiskReader(src, options);
  if (reader.ok()) Drain(**reader, threads);
}

}  // namespace

void FuzzVmdkReader(const uint8_t* data, size_t size) {
  FuzzOne(data, size, "vmdk", true, 1);
  FuzzOne(data, size, "vmdk", false, size % 2 ? 2 : 1);
}

void FuzzQcow2Reader(const uint8_t* data, size_t size) {
  FuzzOne(data, size, "qcow2", true, 1);
}

}  // namespace ova2virt
