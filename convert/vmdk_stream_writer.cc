#include "convert/vmdk_stream_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_format.h"
#include "convert/zero.h"
#include "core/checked_math.h"
#include "core/compress.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

using vmdk::kSectorSize;

constexpr uint64_t kOverheadSectors = 128;  // first grain at 64 KiB

uint64_t RoundUp(uint64_t v, uint64_t to) { return DivRoundUp(v, to) * to; }

// FNV-1a: content ids derived from the name and size, so the same input
// gives the same bytes.
uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Hex(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", digits,
                static_cast<unsigned long long>(v));
  return std::string(buf).substr(0, digits);
}

std::string SafeExtentName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    out.push_back(c < 0x20 || c == '"' || c == 0x7f ? '_'
                                                    : static_cast<char>(c));
  }
  return out.empty() ? "disk.vmdk" : out;
}

}  // namespace

// Grains waiting to be deflated, and their framed output (marker, zlib
// data, padding), packed in grain order.
class VmdkStreamWriter::Batch : public WorkerPool::Job {
 public:
  Batch(uint64_t grain_bytes, size_t max_grains, int level)
      : grain_bytes_(grain_bytes),
        level_(level),
        in(max_grains * grain_bytes) {}

  void Reset() {
    grains.clear();
    status = OkStatus();
  }

  void Run() override {
    thread_local std::unique_ptr<Deflater> deflater;
    thread_local int deflater_level = -1;
    if (deflater == nullptr || deflater_level != level_) {
      deflater = std::make_unique<Deflater>(level_);
      deflater_level = level_;
    }
    size_t bound = deflater->Bound(grain_bytes_);
    size_t slot = RoundUp(vmdk::kGrainMarkerSize + bound, kSectorSize);
    if (out.size() < grains.size() * slot) out.resize(grains.size() * slot);
    framed.assign(grains.size(), 0);
    size_t p = 0;
    for (size_t i = 0; i < grains.size(); ++i) {
      const uint8_t* src = in.data() + i * grain_bytes_;
      if (IsAllZero(src, grain_bytes_)) continue;
      uint8_t* dst = out.data() + p;
      auto n = deflater->Zlib({src, grain_bytes_},
                              {dst + vmdk::kGrainMarkerSize, bound});
      if (!n.ok()) {
        status = n.status();
        return;
      }
      StoreLe64(dst, grains[i] * kGrainSectors);
      StoreLe32(dst + 8, static_cast<uint32_t>(*n));
      size_t total = RoundUp(vmdk::kGrainMarkerSize + *n, kSectorSize);
      std::memset(dst + vmdk::kGrainMarkerSize + *n, 0,
                  total - vmdk::kGrainMarkerSize - *n);
      framed[i] = static_cast<uint32_t>(total);
      p += total;
    }
  }

  uint64_t grain_bytes_;
  int level_;
  std::vector<uint64_t> grains;
  std::vector<uint8_t> in;
  std::vector<uint8_t> out;
  std::vector<uint32_t> framed;
  Status status;
};

VmdkStreamWriter::VmdkStreamWriter(ByteSink& sink, uint64_t capacity,
                                   VmdkStreamWriterOptions options)
    : sink_(sink),
      options_(std::move(options)),
      capacity_sectors_(DivRoundUp(capacity, kSectorSize)),
      grains_(DivRoundUp(capacity_sectors_, kGrainSectors)),
      grain_bytes_(kGrainSectors * kSectorSize) {
  gd_.assign(DivRoundUp(grains_, kGtesPerGt), 0);
  batch_ = std::make_unique<Batch>(grain_bytes_, max_grains_per_batch_,
                                   options_.compression_level);
}

VmdkStreamWriter::~VmdkStreamWriter() { pool_.reset(); }

void VmdkStreamWriter::SetThreads(int threads) {
  if (threads < 2 || pool_ != nullptr) return;
  pool_ = std::make_unique<WorkerPool>(threads);
  window_ = static_cast<size_t>(2 * threads + 2);
}

std::string VmdkStreamWriter::DescriptorText() const {
  VmdkDescriptor d;
  d.version = "1";
  d.encoding = "UTF-8";
  std::string name = SafeExtentName(options_.extent_name);
  std::string seed = name + '\0' + std::to_string(capacity_sectors_);
  uint32_t cid = static_cast<uint32_t>(Fnv1a(seed));
  // 0xffffffff means "no parent" and 0xfffffffe is reserved by VMware.
  if (cid >= 0xfffffffeu) cid = 0x0badc1d0;
  d.cid = Hex(cid, 8);
  d.parent_cid = "ffffffff";
  d.create_type = "streamOptimized";
  d.extents.push_back({"RW", capacity_sectors_, "SPARSE", name, 0});
  bool ide = options_.adapter_type == "ide";
  uint64_t heads = ide ? 16 : 255;
  uint64_t sectors = 63;
  uint64_t cylinders = std::min<uint64_t>(
      ide ? 16383 : 65535, DivRoundUp(capacity_sectors_, heads * sectors));
  d.ddb = {
      {"ddb.adapterType", options_.adapter_type},
      {"ddb.geometry.cylinders", std::to_string(cylinders)},
      {"ddb.geometry.heads", std::to_string(heads)},
      {"ddb.geometry.sectors", std::to_string(sectors)},
      {"ddb.longContentID", Hex(Fnv1a("long", Fnv1a(seed)), 16) +
                                Hex(Fnv1a(seed, cid), 8) + Hex(cid, 8)},
      {"ddb.toolsInstallType", options_.tools_install_type},
      {"ddb.toolsVersion", options_.tools_version},
      {"ddb.virtualHWVersion", options_.virtual_hw_version},
  };
  return FormatVmdkDescriptor(d);
}

Status VmdkStreamWriter::Emit(std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(sink_.Write(bytes));
  bytes_written_ += bytes.size();
  sector_ += bytes.size() / kSectorSize;
  return OkStatus();
}

Status VmdkStreamWriter::WriteMarker(uint64_t val, uint32_t type) {
  uint8_t m[kSectorSize] = {};
  StoreLe64(m, val);
  StoreLe32(m + 12, type);
  return Emit(m);
}

vmdk::SparseHeader VmdkStreamWriter::Header(uint64_t gd_offset) const {
  vmdk::SparseHeader h;
  h.version = 3;
  h.flags =
      vmdk::kFlagValidNewline | vmdk::kFlagCompressed | vmdk::kFlagMarkers;
  h.capacity = capacity_sectors_;
  h.grain_size = kGrainSectors;
  h.descriptor_offset = 1;
  h.descriptor_size = DivRoundUp(DescriptorText().size(), kSectorSize);
  h.num_gtes_per_gt = kGtesPerGt;
  h.rgd_offset = 0;
  h.gd_offset = gd_offset;
  h.overhead = RoundUp(1 + h.descriptor_size, kOverheadSectors);
  h.compress_algorithm = vmdk::kCompressionDeflate;
  return h;
}

Status VmdkStreamWriter::WriteHead() {
  head_written_ = true;
  std::string desc = DescriptorText();
  // The header says "directory at the end"; the footer holds the real one.
  vmdk::SparseHeader h = Header(vmdk::kGdAtEnd);
  std::vector<uint8_t> head(h.overhead * kSectorSize, 0);
  vmdk::FormatSparseHeader(h, std::span<uint8_t, 512>(head.data(), 512));
  std::memcpy(head.data() + kSectorSize, desc.data(), desc.size());
  return Emit(head);
}

Status VmdkStreamWriter::WriteRun(uint64_t offset,
                                  std::span<const uint8_t> data) {
  if (finished_) return FailedError("vmdk stream writer: write after finish");
  if (offset < next_offset_) {
    return FailedError(
        "vmdk stream writer: runs must come in increasing "
        "order (byte " +
        std::to_string(offset) + " after byte " + std::to_string(next_offset_) +
        ")");
  }
  if (!RangeWithin(offset, data.size(), capacity_sectors_ * kSectorSize)) {
    return FailedError("vmdk stream writer: run at byte " +
                       std::to_string(offset) + " extends beyond the capacity");
  }
  if (!head_written_) RETURN_IF_ERROR(WriteHead());
  next_offset_ = offset + data.size();
  while (!data.empty()) {
    uint64_t g = offset / grain_bytes_;
    uint64_t in = offset % grain_bytes_;
    size_t n =
        static_cast<size_t>(std::min<uint64_t>(grain_bytes_ - in, data.size()));
    bool same = grain_open_ && grain_ == g;
    // A whole grain of zeros is never copied, let alone compressed.
    if (!same && in == 0 && n == grain_bytes_ && IsAllZero(data.data(), n)) {
      offset += n;
      data = data.subspan(n);
      continue;
    }
    if (!same) {
      CloseGrain();
      RETURN_IF_ERROR(StartGrain(g));
    }
    uint8_t* slot =
        batch_->in.data() + (batch_->grains.size() - 1) * grain_bytes_;
    if (in > filled_) std::memset(slot + filled_, 0, in - filled_);
    std::memcpy(slot + in, data.data(), n);
    filled_ = in + n;
    offset += n;
    data = data.subspan(n);
  }
  return OkStatus();
}

Status VmdkStreamWriter::StartGrain(uint64_t grain) {
  if (batch_->grains.size() >= max_grains_per_batch_) {
    RETURN_IF_ERROR(SubmitBatch());
  }
  batch_->grains.push_back(grain);
  grain_open_ = true;
  grain_ = grain;
  filled_ = 0;
  return OkStatus();
}

void VmdkStreamWriter::CloseGrain() {
  if (!grain_open_) return;
  uint8_t* slot =
      batch_->in.data() + (batch_->grains.size() - 1) * grain_bytes_;
  if (filled_ < grain_bytes_) {
    std::memset(slot + filled_, 0, grain_bytes_ - filled_);
  }
  grain_open_ = false;
}

Status VmdkStreamWriter::SubmitBatch() {
  if (batch_->grains.empty()) return OkStatus();
  if (pool_ != nullptr) {
    pool_->Submit(batch_.get());
  } else {
    batch_->Run();
  }
  in_flight_.push_back(std::move(batch_));
  if (free_.empty()) {
    batch_ = std::make_unique<Batch>(grain_bytes_, max_grains_per_batch_,
                                     options_.compression_level);
  } else {
    batch_ = std::move(free_.back());
    free_.pop_back();
    batch_->Reset();
  }
  // Write out the oldest batches once enough are in flight.
  while (in_flight_.size() >= window_) {
    std::unique_ptr<Batch> done = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (pool_ != nullptr) pool_->Wait(done.get());
    RETURN_IF_ERROR(WriteBatch(*done));
    free_.push_back(std::move(done));
  }
  return OkStatus();
}

Status VmdkStreamWriter::WriteGrainTable() {
  RETURN_IF_ERROR(
      WriteMarker(kGtesPerGt * 4 / kSectorSize, vmdk::kMarkerGrainTable));
  gd_[gt_index_] = static_cast<uint32_t>(sector_);
  std::vector<uint8_t> table(kGtesPerGt * 4);
  for (uint32_t i = 0; i < kGtesPerGt; ++i) StoreLe32(&table[i * 4], gt_[i]);
  gt_used_ = false;
  return Emit(table);
}

Status VmdkStreamWriter::WriteBatch(Batch& batch) {
  RETURN_IF_ERROR(batch.status);
  size_t start = 0, p = 0;
  for (size_t i = 0; i < batch.grains.size(); ++i) {
    if (batch.framed[i] == 0) continue;
    uint64_t g = batch.grains[i];
    if (g / kGtesPerGt != gt_index_) {
      // The grains of the previous table go out before that table.
      RETURN_IF_ERROR(Emit({batch.out.data() + start, p - start}));
      start = p;
      if (gt_used_) RETURN_IF_ERROR(WriteGrainTable());
      gt_index_ = g / kGtesPerGt;
      gt_.assign(kGtesPerGt, 0);
    }
    uint64_t at = sector_ + (p - start) / kSectorSize;
    if (at > 0xffffffffu) {
      return UnsupportedError(
          "vmdk stream writer: a streamOptimized vmdk "
          "cannot grow beyond 2 TiB of compressed data");
    }
    gt_[g % kGtesPerGt] = static_cast<uint32_t>(at);
    gt_used_ = true;
    p += batch.framed[i];
    ++grains_written_;
  }
  return Emit({batch.out.data() + start, p - start});
}

Result<WriteStats> VmdkStreamWriter::Finish() {
  if (finished_) return FailedError("vmdk stream writer: finished twice");
  finished_ = true;
  if (!head_written_) RETURN_IF_ERROR(WriteHead());
  CloseGrain();
  window_ = 1;  // drain everything
  RETURN_IF_ERROR(SubmitBatch());
  while (!in_flight_.empty()) {
    std::unique_ptr<Batch> done = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (pool_ != nullptr) pool_->Wait(done.get());
    RETURN_IF_ERROR(WriteBatch(*done));
  }
  if (gt_used_) RETURN_IF_ERROR(WriteGrainTable());

  uint64_t gd_sectors = DivRoundUp(gd_.size() * 4, kSectorSize);
  RETURN_IF_ERROR(WriteMarker(gd_sectors, vmdk::kMarkerGrainDirectory));
  uint64_t gd_offset = sector_;
  std::vector<uint8_t> gd(gd_sectors * kSectorSize, 0);
  for (size_t i = 0; i < gd_.size(); ++i) StoreLe32(&gd[i * 4], gd_[i]);
  RETURN_IF_ERROR(Emit(gd));

  RETURN_IF_ERROR(WriteMarker(1, vmdk::kMarkerFooter));
  uint8_t footer[kSectorSize];
  vmdk::FormatSparseHeader(Header(gd_offset), footer);
  RETURN_IF_ERROR(Emit(footer));
  RETURN_IF_ERROR(WriteMarker(0, vmdk::kMarkerEndOfStream));

  WriteStats s;
  s.bytes_written = bytes_written_;
  s.data_clusters = grains_written_;
  s.cluster_size = grain_bytes_;
  s.virtual_size = capacity_sectors_ * kSectorSize;
  return s;
}

}  // namespace ova2virt
