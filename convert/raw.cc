#include "convert/raw.h"

#include <algorithm>
#include <string>

#include "convert/zero.h"
#include "core/checked_math.h"

namespace ova2virt {
namespace {

// Large reads: few system calls, and runs the writers can pass on whole.
constexpr size_t kChunk = 2 << 20;

}  // namespace

RawReader::RawReader(RandomAccessSource& file,
                     std::unique_ptr<RandomAccessSource> keep,
                     std::string format_name)
    : keep_file_(std::move(keep)),
      file_(&file),
      format_name_(std::move(format_name)),
      capacity_(file.size()) {}

RawReader::RawReader(ByteSource& stream, uint64_t size,
                     std::unique_ptr<ByteSource> keep)
    : keep_stream_(std::move(keep)),
      stream_(&stream),
      format_name_("raw"),
      capacity_(size) {}

Result<bool> RawReader::Next(DataRun* run) {
  if (pos_ >= capacity_) return false;
  if (buffer_.empty()) buffer_.resize(kChunk);
  size_t want =
      static_cast<size_t>(std::min<uint64_t>(kChunk, capacity_ - pos_));
  if (file_ != nullptr) {
    RETURN_IF_ERROR(ReadExactlyAt(*file_, pos_, {buffer_.data(), want}));
  } else {
    ASSIGN_OR_RETURN(size_t n, ReadUpTo(*stream_, {buffer_.data(), want}));
    if (n < want) {
      return CorruptError("unexpected end of data at byte " +
                          std::to_string(pos_ + n) + " (expected " +
                          std::to_string(capacity_) + " bytes)");
    }
  }
  *run = {pos_, {buffer_.data(), want}};
  pos_ += want;
  return true;
}

RawWriter::RawWriter(BlockSink& sink, uint64_t capacity)
    : sink_(sink), capacity_(capacity) {}

Status RawWriter::WriteRun(uint64_t offset, std::span<const uint8_t> data) {
  if (!RangeWithin(offset, data.size(), capacity_)) {
    return FailedError("raw writer: run at byte " + std::to_string(offset) +
                       " extends beyond the capacity");
  }
  // Write the non-zero stretches, each in one call; block boundaries are
  // counted from the start of the disk so holes align with the file's.
  size_t i = 0;
  while (i < data.size()) {
    uint64_t abs = offset + i;
    size_t step = static_cast<size_t>(
        std::min<uint64_t>(kBlockSize - abs % kBlockSize, data.size() - i));
    if (IsAllZero(data.data() + i, step)) {
      i += step;
      continue;
    }
    size_t start = i;
    i += step;
    while (i < data.size()) {
      size_t next = std::min(kBlockSize, data.size() - i);
      if (IsAllZero(data.data() + i, next)) break;
      i += next;
    }
    std::span<const uint8_t> stretch = data.subspan(start, i - start);
    RETURN_IF_ERROR(sink_.WriteLeased(offset + start, stretch, lease_));
    bytes_written_ += i - start;
    blocks_written_ += DivRoundUp(i - start, kBlockSize);
  }
  return OkStatus();
}

Status RawWriter::WriteDataRun(const DataRun& run) {
  lease_ = run.lease;
  Status s = WriteRun(run.offset, run.data);
  lease_.reset();
  return s;
}

Result<WriteStats> RawWriter::Finish() {
  RETURN_IF_ERROR(sink_.SetSize(capacity_));
  WriteStats s;
  s.bytes_written = bytes_written_;
  s.data_clusters = blocks_written_;
  s.cluster_size = kBlockSize;
  s.virtual_size = capacity_;
  return s;
}

}  // namespace ova2virt
