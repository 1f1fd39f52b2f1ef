#include "convert/vmdk_stream_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "convert/zero.h"
#include "core/aligned_buffer.h"
#include "core/checked_math.h"
#include "core/compress.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

using vmdk::kSectorSize;

// Grains per batch aim at about 1 MiB of decoded data: large enough that
// handing a batch to a worker costs nothing next to inflating it, small
// enough that the batches in flight stay a few MiB.
constexpr uint64_t kBatchBytes = 1 << 20;
// Stretches of grains remembered for duplicate detection (16 bytes each).
constexpr size_t kMaxGrainIntervals = 1 << 20;

std::string At(uint64_t pos) { return "at byte " + std::to_string(pos); }

}  // namespace

// Compressed grains waiting to be inflated, and the runs they become.
class VmdkStreamReader::Batch : public WorkerPool::Job {
 public:
  struct Grain {
    uint64_t guest_offset;  // bytes
    uint64_t marker_pos;    // stream offset of the grain's marker
    uint32_t comp_offset;   // into comp
    uint32_t comp_size;
    uint32_t length;  // guest bytes this grain covers (the last may be short)
  };

  explicit Batch(uint64_t grain_bytes) : grain_bytes_(grain_bytes) {}

  void Reset() {
    comp.clear();
    grains.clear();
    runs.clear();
    status = OkStatus();
  }

  // Inflates every grain into its slot of `out`, drops all-zero grains and
  // joins grains that are adjacent both on the disk and in `out`.
  void Run() override {
    thread_local Inflater inflater;
    // Aligned, so that a file sink can write the runs with direct I/O.
    if (out.size() < grains.size() * grain_bytes_) {
      out.Resize(grains.size() * grain_bytes_);
    }
    runs.clear();
    for (size_t i = 0; i < grains.size(); ++i) {
      const Grain& g = grains[i];
      uint8_t* dst = out.data() + i * grain_bytes_;
      auto n = inflater.Zlib({comp.data() + g.comp_offset, g.comp_size},
                             {dst, static_cast<size_t>(grain_bytes_)});
      if (!n.ok()) {
        status = n.status().WithContext(
            "grain for sector " + std::to_string(g.guest_offset / kSectorSize) +
            " " + At(g.marker_pos));
        return;
      }
      if (*n < g.length) std::memset(dst + *n, 0, g.length - *n);
      if (IsAllZero(dst, g.length)) continue;
      if (!runs.empty()) {
        DataRun& last = runs.back();
        if (last.offset + last.data.size() == g.guest_offset &&
            last.data.data() + last.data.size() == dst) {
          last.data = {last.data.data(), last.data.size() + g.length};
          continue;
        }
      }
      runs.push_back({g.guest_offset, {dst, g.length}});
    }
  }

  std::vector<uint8_t> comp;
  std::vector<Grain> grains;
  AlignedBuffer out;
  std::vector<DataRun> runs;
  Status status;

 private:
  uint64_t grain_bytes_;
};

VmdkStreamReader::VmdkStreamReader(ByteSource& source,
                                   std::unique_ptr<ByteSource> keep,
                                   uint64_t input_size, size_t cursor_capacity)
    : keep_(std::move(keep)),
      cursor_(source, cursor_capacity),
      input_size_(input_size),
      seen_(kMaxGrainIntervals) {}

VmdkStreamReader::~VmdkStreamReader() {
  // Stop the workers before the batches they may be inflating go away.
  pool_.reset();
}

Result<std::unique_ptr<VmdkStreamReader>> VmdkStreamReader::Open(
    ByteSource& source, std::unique_ptr<ByteSource> keep, uint64_t input_size) {
  // The cursor must hold the largest compressed grain (2 MiB grains at most)
  // and the largest embedded descriptor (1 MiB) in one piece.
  size_t capacity = static_cast<size_t>(
      vmdk::MaxCompressedGrain(vmdk::kMaxGrainSectors * kSectorSize) +
      kSectorSize);
  std::unique_ptr<VmdkStreamReader> r(
      new VmdkStreamReader(source, std::move(keep), input_size, capacity));
  RETURN_IF_ERROR(r->ReadHeaderArea());
  return r;
}

Status VmdkStreamReader::ReadHeaderArea() {
  ASSIGN_OR_RETURN(auto sector, cursor_.Take(kSectorSize));
  header_ = vmdk::ParseSparseHeader(sector.first<512>());
  RETURN_IF_ERROR(vmdk::ValidateSparseHeader(header_, 0));
  if (!(header_.flags & vmdk::kFlagMarkers)) {
    return FailedError("not a streamOptimized extent (no markers)");
  }
  if (header_.overhead < 1) {
    return CorruptError("header at byte 64: overhead of 0 sectors");
  }
  capacity_ = header_.capacity_bytes();
  grain_bytes_ = header_.grain_bytes();
  max_grains_per_batch_ =
      static_cast<size_t>(std::max<uint64_t>(1, kBatchBytes / grain_bytes_));

  // The embedded descriptor sits inside the header area in both layouts;
  // one placed after the grains cannot be read in stream order and is
  // ignored (the header holds everything needed to read the data).
  auto overhead_bytes = CheckedMul<uint64_t>(header_.overhead, kSectorSize);
  if (!overhead_bytes) {
    return CorruptError("header at byte 64: overhead overflows");
  }
  uint64_t desc_start = header_.descriptor_offset * kSectorSize;
  uint64_t desc_size = header_.descriptor_size * kSectorSize;
  if (desc_size > 0 && desc_start >= cursor_.position() &&
      desc_start + desc_size <= *overhead_bytes) {
    RETURN_IF_ERROR(cursor_.Skip(desc_start - cursor_.position()));
    ASSIGN_OR_RETURN(auto text, cursor_.Take(static_cast<size_t>(desc_size)));
    // A reserved but empty descriptor area says nothing.
    if (text[0] != 0) {
      auto parsed = ParseVmdkDescriptor(AsStringView(text));
      if (!parsed.ok()) {
        return parsed.status().WithContext("embedded descriptor " +
                                           At(desc_start));
      }
      descriptor_ = std::move(parsed).value();
      has_descriptor_ = true;
      RETURN_IF_ERROR(CheckVmdkDescriptorSupported(descriptor_));
    }
  }
  if (*overhead_bytes > cursor_.position()) {
    RETURN_IF_ERROR(cursor_.Skip(*overhead_bytes - cursor_.position()));
  }
  return OkStatus();
}

void VmdkStreamReader::SetThreads(int threads) {
  if (threads < 2 || pool_ != nullptr) return;
  pool_ = std::make_unique<WorkerPool>(threads);
  // Enough batches in flight to keep every worker busy while the caller
  // writes the oldest, bounded so that batches of large grains stay small.
  uint64_t batch_bytes = max_grains_per_batch_ * grain_bytes_ * 2;
  window_ = static_cast<size_t>(std::clamp<uint64_t>(
      (16u << 20) / batch_bytes, 2, static_cast<uint64_t>(2 * threads + 2)));
}

std::unique_ptr<VmdkStreamReader::Batch> VmdkStreamReader::TakeFreeBatch() {
  if (free_.empty()) return std::make_unique<Batch>(grain_bytes_);
  std::unique_ptr<Batch> b = std::move(free_.back());
  free_.pop_back();
  b->Reset();
  return b;
}

Status VmdkStreamReader::AddGrain(Batch& batch, std::span<const uint8_t> marker,
                                  uint64_t marker_pos) {
  uint64_t lba = LoadLe64(marker.data());
  uint32_t size = LoadLe32(marker.data() + 8);
  auto where = [&] { return "grain marker " + At(marker_pos); };
  if (lba % header_.grain_size != 0) {
    return CorruptError(where() + ": sector " + std::to_string(lba) +
                        " is not on a grain boundary");
  }
  if (lba >= header_.capacity) {
    return CorruptError(where() + ": sector " + std::to_string(lba) +
                        " is beyond the capacity of " +
                        std::to_string(header_.capacity) + " sectors");
  }
  if (size > vmdk::MaxCompressedGrain(grain_bytes_)) {
    return CorruptError(where() + ": compressed size " + std::to_string(size) +
                        " exceeds " +
                        std::to_string(vmdk::MaxCompressedGrain(grain_bytes_)));
  }
  switch (seen_.Insert(lba / header_.grain_size)) {
    case GrainSet::InsertResult::kInserted:
      break;
    case GrainSet::InsertResult::kDuplicate:
      return CorruptError(where() + ": sector " + std::to_string(lba) +
                          " was already delivered by an earlier grain");
    case GrainSet::InsertResult::kTooFragmented:
      return UnsupportedError(where() + ": the stream is too fragmented (" +
                              std::to_string(seen_.intervals()) +
                              " separate stretches of grains)");
  }
  Batch::Grain g;
  g.guest_offset = lba * kSectorSize;
  g.marker_pos = marker_pos;
  g.comp_offset = static_cast<uint32_t>(batch.comp.size());
  g.comp_size = size;
  g.length = static_cast<uint32_t>(
      std::min<uint64_t>(grain_bytes_, capacity_ - g.guest_offset));
  // The data starts in the marker's own sector; copy that part before the
  // next Take() moves the cursor's buffer.
  size_t first = std::min<size_t>(size, kSectorSize - vmdk::kGrainMarkerSize);
  batch.comp.insert(batch.comp.end(), marker.begin() + vmdk::kGrainMarkerSize,
                    marker.begin() + vmdk::kGrainMarkerSize + first);
  if (size > first) {
    uint64_t total = vmdk::kGrainMarkerSize + uint64_t{size};
    uint64_t padded = DivRoundUp(total, kSectorSize) * kSectorSize;
    ASSIGN_OR_RETURN(auto rest,
                     cursor_.Take(static_cast<size_t>(padded - kSectorSize)));
    batch.comp.insert(batch.comp.end(), rest.begin(),
                      rest.begin() + (size - first));
  }
  batch.grains.push_back(g);
  return OkStatus();
}

Status VmdkStreamReader::FillBatch(Batch& batch) {
  while (!end_of_stream_ && batch.grains.size() < max_grains_per_batch_) {
    uint64_t pos = cursor_.position();
    ASSIGN_OR_RETURN(auto marker, cursor_.TakeUpTo(kSectorSize));
    if (marker.empty()) {
      return CorruptError("no end-of-stream marker: the stream ends " +
                          At(pos) + " (truncated?)");
    }
    if (marker.size() < kSectorSize) {
      return CorruptError("truncated marker " + At(pos));
    }
    if (LoadLe32(marker.data() + 8) != 0) {
      RETURN_IF_ERROR(AddGrain(batch, marker, pos));
      continue;
    }
    uint64_t val = LoadLe64(marker.data());
    uint32_t type = LoadLe32(marker.data() + 12);
    switch (type) {
      case vmdk::kMarkerEndOfStream:
        end_of_stream_ = true;
        break;
      case vmdk::kMarkerGrainTable:
      case vmdk::kMarkerGrainDirectory:
      case vmdk::kMarkerFooter:
      case vmdk::kMarkerUnspecified: {
        // Tables and the footer repeat what the grain markers said.
        auto skip = CheckedMul<uint64_t>(val, kSectorSize);
        if (!skip) {
          return CorruptError("metadata marker " + At(pos) +
                              ": length overflows");
        }
        RETURN_IF_ERROR(cursor_.Skip(*skip));
        break;
      }
      default:
        return CorruptError("unknown marker type " + std::to_string(type) +
                            " " + At(pos));
    }
  }
  return OkStatus();
}

Result<bool> VmdkStreamReader::Next(DataRun* run) {
  RETURN_IF_ERROR(failed_);
  for (;;) {
    if (current_ != nullptr) {
      if (run_index_ < current_->runs.size()) {
        *run = current_->runs[run_index_++];
        return true;
      }
      free_.push_back(std::move(current_));
    }
    // Keep the pipeline full: parse ahead on this thread, inflate on the
    // workers (or right here without them).
    while (!end_of_stream_ && in_flight_.size() < window_) {
      std::unique_ptr<Batch> batch = TakeFreeBatch();
      Status s = FillBatch(*batch);
      if (!s.ok()) {
        failed_ = s;
        return s;
      }
      if (batch->grains.empty()) {
        free_.push_back(std::move(batch));
        break;
      }
      if (pool_ != nullptr) {
        pool_->Submit(batch.get());
      } else {
        batch->Run();
      }
      in_flight_.push_back(std::move(batch));
    }
    if (in_flight_.empty()) return false;
    current_ = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (pool_ != nullptr) pool_->Wait(current_.get());
    run_index_ = 0;
    if (!current_->status.ok()) {
      failed_ = current_->status;
      return failed_;
    }
  }
}

}  // namespace ova2virt
