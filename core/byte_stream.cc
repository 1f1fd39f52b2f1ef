#include "core/byte_stream.h"

#include <algorithm>
#include <cstring>

#include "core/checked_math.h"

namespace ova2virt {

Result<size_t> ReadUpTo(ByteSource& source, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, source.Read(out.subspan(done)));
    if (n == 0) break;
    done += n;
  }
  return done;
}

Status ReadExactly(ByteSource& source, std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(size_t n, ReadUpTo(source, out));
  if (n != out.size()) {
    return CorruptError("unexpected end of data (wanted " +
                        std::to_string(out.size()) + " bytes, got " +
                        std::to_string(n) + ")");
  }
  return OkStatus();
}

Status SkipBytes(ByteSource& source, uint64_t count) {
  uint8_t buf[64 * 1024];
  while (count > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(count, sizeof buf));
    ASSIGN_OR_RETURN(size_t n, source.Read({buf, want}));
    if (n == 0) return CorruptError("unexpected end of data while skipping");
    count -= n;
  }
  return OkStatus();
}

Result<uint64_t> Drain(ByteSource& source) {
  std::vector<uint8_t> buf(256 * 1024);
  uint64_t total = 0;
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, source.Read(buf));
    if (n == 0) return total;
    total += n;
  }
}

Result<std::string> ReadAllCapped(ByteSource& source, size_t cap) {
  std::string out;
  uint8_t buf[16 * 1024];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, source.Read(buf));
    if (n == 0) return out;
    if (out.size() + n > cap) {
      return CorruptError("larger than the limit of " + std::to_string(cap) +
                          " bytes");
    }
    out.append(reinterpret_cast<const char*>(buf), n);
  }
}

Result<uint64_t> CopyStream(ByteSource& source, ByteSink& sink) {
  std::vector<uint8_t> buf(1024 * 1024);
  uint64_t total = 0;
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, source.Read(buf));
    if (n == 0) return total;
    RETURN_IF_ERROR(sink.Write({buf.data(), n}));
    total += n;
  }
}

Status ReadExactlyAt(RandomAccessSource& source, uint64_t offset,
                     std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, source.ReadAt(offset + done, out.subspan(done)));
    if (n == 0) {
      return CorruptError("unexpected end of data at byte " +
                          std::to_string(offset + done) + " (size " +
                          std::to_string(source.size()) + ")");
    }
    done += n;
  }
  return OkStatus();
}

Result<size_t> MemorySource::Read(std::span<uint8_t> out) {
  size_t n = std::min(out.size(), data_.size() - pos_);
  if (n) std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<size_t> MemoryRandomAccess::ReadAt(uint64_t offset,
                                          std::span<uint8_t> out) {
  if (offset >= data_.size()) return size_t{0};
  size_t n = static_cast<size_t>(
      std::min<uint64_t>(out.size(), data_.size() - offset));
  std::memcpy(out.data(), data_.data() + offset, n);
  return n;
}

Status StringSink::Write(std::span<const uint8_t> data) {
  data_.append(reinterpret_cast<const char*>(data.data()), data.size());
  return OkStatus();
}

Status MemoryBlockSink::WriteAt(uint64_t offset,
                                std::span<const uint8_t> data) {
  auto end = CheckedAdd<uint64_t>(offset, data.size());
  if (!end || *end > (uint64_t{1} << 34)) {
    return FailedError("memory sink: write beyond 16 GiB");
  }
  if (data_.size() < *end) data_.resize(*end, '\0');
  std::memcpy(data_.data() + offset, data.data(), data.size());
  return OkStatus();
}

Status MemoryBlockSink::SetSize(uint64_t size) {
  if (size > (uint64_t{1} << 34)) {
    return FailedError("memory sink: size beyond 16 GiB");
  }
  data_.resize(size, '\0');
  return OkStatus();
}

Status BlockSink::WriteVectorAt(
    uint64_t offset, std::span<const std::span<const uint8_t>> pieces) {
  for (std::span<const uint8_t> piece : pieces) {
    RETURN_IF_ERROR(WriteAt(offset, piece));
    offset += piece.size();
  }
  return OkStatus();
}

GatheringBlockSink::GatheringBlockSink(BlockSink& inner, size_t buffer_size,
                                       size_t pass_through)
    : inner_(inner), pass_through_(pass_through) {
  // Aligned for direct I/O (core/aligned_buffer.h's alignment), without
  // depending on the allocator's.
  constexpr size_t kAlign = 4096;
  storage_.resize(buffer_size + kAlign);
  size_t skew = reinterpret_cast<uintptr_t>(storage_.data()) % kAlign;
  buffer_ = {storage_.data() + (skew ? kAlign - skew : 0), buffer_size};
}

Status GatheringBlockSink::Flush() {
  if (used_ == 0) return OkStatus();
  size_t n = used_;
  used_ = 0;
  ++inner_writes_;
  return inner_.WriteAt(start_, buffer_.first(n));
}

Status GatheringBlockSink::WriteAt(uint64_t offset,
                                   std::span<const uint8_t> data) {
  return WriteLeased(offset, data, nullptr);
}

Status GatheringBlockSink::WriteLeased(uint64_t offset,
                                       std::span<const uint8_t> data,
                                       const BufferLease& lease) {
  bool continues = used_ > 0 && offset == start_ + used_;
  if (data.size() >= pass_through_ || !continues ||
      data.size() > buffer_.size() - used_) {
    RETURN_IF_ERROR(Flush());
    if (data.size() >= pass_through_ || data.size() > buffer_.size()) {
      ++inner_writes_;
      return inner_.WriteLeased(offset, data, lease);
    }
    start_ = offset;
  }
  if (!data.empty())
    std::memcpy(buffer_.data() + used_, data.data(), data.size());
  used_ += data.size();
  if (used_ == buffer_.size()) return Flush();
  return OkStatus();
}

Status GatheringBlockSink::SetSize(uint64_t size) {
  RETURN_IF_ERROR(Flush());
  return inner_.SetSize(size);
}

Status GatheringBlockSink::Close() {
  RETURN_IF_ERROR(Flush());
  return inner_.Close();
}

SliceRandomAccess::SliceRandomAccess(RandomAccessSource& parent,
                                     uint64_t offset, uint64_t length)
    : parent_(parent), offset_(offset), length_(length) {}

Result<size_t> SliceRandomAccess::ReadAt(uint64_t offset,
                                         std::span<uint8_t> out) {
  if (offset >= length_) return size_t{0};
  size_t n =
      static_cast<size_t>(std::min<uint64_t>(out.size(), length_ - offset));
  return parent_.ReadAt(offset_ + offset, out.first(n));
}

Result<size_t> SequentialReader::Read(std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(size_t n, source_.ReadAt(pos_, out));
  pos_ += n;
  return n;
}

Result<size_t> LimitedSource::Read(std::span<uint8_t> out) {
  if (remaining_ == 0 || out.empty()) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
  ASSIGN_OR_RETURN(size_t n, inner_.Read(out.first(want)));
  remaining_ -= n;
  return n;
}

Result<size_t> LimitedSource::ReadShared(std::span<uint8_t> out,
                                         uint64_t* ticket) {
  *ticket = 0;
  if (remaining_ == 0 || out.empty()) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
  ASSIGN_OR_RETURN(size_t n, inner_.ReadShared(out.first(want), ticket));
  remaining_ -= n;
  return n;
}

Result<size_t> CountingSource::Read(std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(size_t n, inner_.Read(out));
  count_ += n;
  return n;
}

Result<size_t> CountingSource::ReadShared(std::span<uint8_t> out,
                                          uint64_t* ticket) {
  ASSIGN_OR_RETURN(size_t n, inner_.ReadShared(out, ticket));
  count_ += n;
  return n;
}

}  // namespace ova2virt
