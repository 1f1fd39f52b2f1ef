#include "convert/vmdk_sparse_reader.h"

#include <algorithm>
#include <string>

#include "core/checked_math.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

using vmdk::kSectorSize;

// Adjacent grains are read together, up to this many bytes at a time.
constexpr size_t kReadBytes = 2 << 20;
// Grain directory entries read at a time in random-access mode.
constexpr uint64_t kGdChunkEntries = 16384;
// Grain tables a sequential read holds at once (4 bytes each: 16 MiB).
constexpr uint64_t kMaxSequentialTables = 4 << 20;

std::string Sector(uint64_t s) { return "sector " + std::to_string(s); }

}  // namespace

VmdkSparseReader::~VmdkSparseReader() = default;

Status VmdkSparseReader::Init(const vmdk::SparseHeader& header,
                              uint64_t file_size) {
  header_ = header;
  file_size_ = file_size;
  RETURN_IF_ERROR(vmdk::ValidateSparseHeader(header_, file_size));
  if (header_.flags & vmdk::kFlagMarkers) {
    return FailedError("sparse reader: the extent has markers (a stream)");
  }
  capacity_ = header_.capacity_bytes();
  grain_bytes_ = header_.grain_bytes();
  grains_ = vmdk::GrainCount(header_);
  tables_ = vmdk::GrainTableCount(header_);
  data_start_ = std::max<uint64_t>(header_.overhead, 1) * kSectorSize;
  if (header_.gd_offset == vmdk::kGdAtEnd || header_.gd_offset == 0) {
    return CorruptError("header at byte 56: no grain directory offset");
  }
  auto gd_end = CheckedAdd<uint64_t>(
      header_.gd_offset * kSectorSize,  // gd_offset < 2^55 checked below
      tables_ * 4);
  if (header_.gd_offset > (uint64_t{1} << 54) || !gd_end ||
      (file_size != 0 && *gd_end > file_size)) {
    return CorruptError("header at byte 56: grain directory at " +
                        Sector(header_.gd_offset) +
                        " lies beyond the end of the file");
  }
  buffer_.resize(kReadBytes);
  return OkStatus();
}

Status VmdkSparseReader::SetDescriptor(std::string_view text, uint64_t at) {
  // The extent files of split disks reserve the space but leave it empty.
  if (text.empty() || text[0] == '\0') return OkStatus();
  auto parsed = ParseVmdkDescriptor(text);
  if (!parsed.ok()) {
    return parsed.status().WithContext("embedded descriptor at byte " +
                                       std::to_string(at));
  }
  descriptor_ = std::move(parsed).value();
  has_descriptor_ = true;
  RETURN_IF_ERROR(CheckVmdkDescriptorSupported(descriptor_));
  format_name_ = "vmdk-" + descriptor_.create_type;
  return OkStatus();
}

Result<std::unique_ptr<VmdkSparseReader>> VmdkSparseReader::OpenRandom(
    RandomAccessSource& file, std::unique_ptr<RandomAccessSource> keep) {
  std::unique_ptr<VmdkSparseReader> r(new VmdkSparseReader());
  r->keep_file_ = std::move(keep);
  r->file_ = &file;
  uint8_t sector[kSectorSize];
  RETURN_IF_ERROR(ReadExactlyAt(file, 0, sector));
  RETURN_IF_ERROR(r->Init(vmdk::ParseSparseHeader(sector), file.size()));
  const vmdk::SparseHeader& h = r->header_;
  // Sizes and offsets below were bounded by ValidateSparseHeader and Init.
  RETURN_IF_ERROR(r->Claim(0, kSectorSize, "the header"));
  RETURN_IF_ERROR(r->Claim(h.descriptor_offset * kSectorSize,
                           h.descriptor_size * kSectorSize,
                           "the embedded descriptor"));
  RETURN_IF_ERROR(r->Claim(h.gd_offset * kSectorSize, r->tables_ * 4,
                           "the grain directory"));
  RETURN_IF_ERROR(r->ClaimRedundantTables());
  if (h.descriptor_size > 0) {
    std::string text(h.descriptor_size * kSectorSize, '\0');
    RETURN_IF_ERROR(
        ReadExactlyAt(file, h.descriptor_offset * kSectorSize,
                      {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
    RETURN_IF_ERROR(r->SetDescriptor(text, h.descriptor_offset * kSectorSize));
  }
  return r;
}

Result<std::unique_ptr<VmdkSparseReader>> VmdkSparseReader::OpenSequential(
    ByteSource& source, std::unique_ptr<ByteSource> keep, uint64_t input_size) {
  std::unique_ptr<VmdkSparseReader> r(new VmdkSparseReader());
  r->keep_stream_ = std::move(keep);
  r->input_size_ = input_size;
  r->cursor_.emplace(source,
                     std::max<size_t>(kReadBytes, vmdk::kMaxDescriptorBytes) +
                         2 * kSectorSize);
  ASSIGN_OR_RETURN(auto sector, r->cursor_->Take(kSectorSize));
  RETURN_IF_ERROR(r->Init(vmdk::ParseSparseHeader(sector.first<512>()), 0));
  const vmdk::SparseHeader& h = r->header_;
  uint64_t desc_at = h.descriptor_offset * kSectorSize;
  if (h.descriptor_size > 0 && desc_at >= r->cursor_->position()) {
    RETURN_IF_ERROR(r->cursor_->Skip(desc_at - r->cursor_->position()));
    ASSIGN_OR_RETURN(auto text,
                     r->cursor_->Take(h.descriptor_size * kSectorSize));
    RETURN_IF_ERROR(r->SetDescriptor(AsStringView(text), desc_at));
  }
  RETURN_IF_ERROR(r->PlanSequential());
  return r;
}

ReadProgress VmdkSparseReader::progress() const {
  if (cursor_) return {cursor_->position(), input_size_};
  uint64_t per_table = header_.num_gtes_per_gt * grain_bytes_;
  return {std::min(capacity_, table_ * per_table), capacity_};
}

uint64_t VmdkSparseReader::bytes_read() const {
  return cursor_ ? cursor_->bytes_read() : bytes_read_;
}

Status VmdkSparseReader::CheckGrainTarget(uint64_t grain, uint64_t sector,
                                          uint64_t len) const {
  auto where = [&] {
    return "grain table entry for " + Sector(grain * header_.grain_size);
  };
  if (sector > (uint64_t{1} << 54) || sector * kSectorSize < data_start_) {
    return CorruptError(where() + " points into the header area (" +
                        Sector(sector) + ")");
  }
  auto end = CheckedAdd<uint64_t>(sector * kSectorSize, len);
  if (!end || (file_size_ != 0 && *end > file_size_)) {
    return CorruptError(where() + " points past the end of the file (" +
                        Sector(sector) + ")");
  }
  return OkStatus();
}

Status VmdkSparseReader::Claim(uint64_t at, uint64_t len,
                               const std::string& what) {
  if (claims_full_) return OkStatus();
  uint64_t with = 0;
  switch (claimed_.Insert(at, len, &with)) {
    case ByteRangeSet::InsertResult::kInserted:
      return OkStatus();
    case ByteRangeSet::InsertResult::kOverlap:
      return CorruptError(what + " at byte " + std::to_string(at) +
                          " overlaps the header, a table or a grain at byte " +
                          std::to_string(with));
    case ByteRangeSet::InsertResult::kTooFragmented:
      claims_full_ = true;
      return OkStatus();
  }
  return OkStatus();
}

Status VmdkSparseReader::ClaimRedundantTables() {
  // Nobody reads the redundant copies, but a grain placed on them would be
  // metadata read as data by the readers that skip the check (qemu's).
  const vmdk::SparseHeader& h = header_;
  if (!(h.flags & vmdk::kFlagRedundantGd) || h.rgd_offset == 0 ||
      h.rgd_offset == vmdk::kGdAtEnd || h.rgd_offset > (uint64_t{1} << 54)) {
    return OkStatus();
  }
  const uint64_t rgd = h.rgd_offset * kSectorSize;
  const uint64_t gt_bytes = uint64_t{h.num_gtes_per_gt} * 4;
  if (rgd + tables_ * 4 > file_size_) return OkStatus();  // not there
  RETURN_IF_ERROR(Claim(rgd, tables_ * 4, "the redundant grain directory"));
  std::vector<uint32_t> chunk;
  for (uint64_t t = 0; t < tables_ && !claims_full_;) {
    uint64_t count = std::min(kGdChunkEntries, tables_ - t);
    chunk.resize(count);
    RETURN_IF_ERROR(
        ReadExactlyAt(*file_, rgd + t * 4,
                      {reinterpret_cast<uint8_t*>(chunk.data()), count * 4}));
    bytes_read_ += count * 4;
    for (uint64_t i = 0; i < count; ++i, ++t) {
      uint64_t at = uint64_t{LoadLe32(&chunk[i])} * kSectorSize;
      if (at == 0 || at + gt_bytes > file_size_) continue;
      RETURN_IF_ERROR(
          Claim(at, gt_bytes, "redundant grain table " + std::to_string(t)));
    }
  }
  return OkStatus();
}

Result<uint32_t> VmdkSparseReader::GdEntry(uint64_t index) {
  if (index < gd_chunk_start_ || index >= gd_chunk_start_ + gd_chunk_.size()) {
    gd_chunk_start_ = index - index % kGdChunkEntries;
    uint64_t count = std::min(kGdChunkEntries, tables_ - gd_chunk_start_);
    gd_chunk_.resize(count);
    uint64_t at = header_.gd_offset * kSectorSize + gd_chunk_start_ * 4;
    RETURN_IF_ERROR(ReadExactlyAt(
        *file_, at, {reinterpret_cast<uint8_t*>(gd_chunk_.data()), count * 4}));
    bytes_read_ += count * 4;
  }
  return LoadLe32(&gd_chunk_[index - gd_chunk_start_]);
}

Result<bool> VmdkSparseReader::ReadCompressedGrain(uint64_t grain,
                                                   uint64_t sector,
                                                   DataRun* run) {
  // Compressed grains without markers carry their size in front (and their
  // lba too when the header says so).
  size_t head = (header_.flags & vmdk::kFlagMarkers) ? 12 : 4;
  uint64_t max_comp = vmdk::MaxCompressedGrain(grain_bytes_);
  std::vector<uint8_t> comp(head + max_comp);
  uint64_t at = sector * kSectorSize;
  RETURN_IF_ERROR(CheckGrainTarget(grain, sector, head));
  auto what = [&] {
    return "the compressed grain for " + Sector(grain * header_.grain_size);
  };
  size_t got = 0;
  if (cursor_) {
    ASSIGN_OR_RETURN(auto h, cursor_->Take(head));
    std::copy(h.begin(), h.end(), comp.begin());
    got = head;
  } else {
    ASSIGN_OR_RETURN(got, file_->ReadAt(at, {comp.data(), comp.size()}));
    if (got < head) {
      return CorruptError("compressed grain at byte " + std::to_string(at) +
                          " is truncated");
    }
  }
  uint32_t size = LoadLe32(comp.data() + head - 4);
  if (size > max_comp) {
    return CorruptError("compressed grain at byte " + std::to_string(at) +
                        ": size " + std::to_string(size) + " exceeds " +
                        std::to_string(max_comp));
  }
  if (cursor_) {
    ASSIGN_OR_RETURN(auto data, cursor_->Take(size));
    std::copy(data.begin(), data.end(), comp.begin() + head);
  } else if (got < head + size) {
    return CorruptError("compressed grain at byte " + std::to_string(at) +
                        " is truncated");
  } else {
    RETURN_IF_ERROR(Claim(at, head + size, what()));
  }
  bytes_read_ += head + size;
  uint64_t guest = grain * grain_bytes_;
  size_t len = static_cast<size_t>(std::min(grain_bytes_, capacity_ - guest));
  auto n = inflater_.Zlib({comp.data() + head, size},
                          {buffer_.data(), static_cast<size_t>(grain_bytes_)});
  if (!n.ok()) {
    return n.status().WithContext("compressed grain at byte " +
                                  std::to_string(at));
  }
  if (*n < len) std::fill(buffer_.begin() + *n, buffer_.begin() + len, 0);
  *run = {guest, {buffer_.data(), len}};
  return true;
}

Result<bool> VmdkSparseReader::NextRandom(DataRun* run) {
  const uint64_t per_table = header_.num_gtes_per_gt;
  while (table_ < tables_) {
    if (!gt_loaded_) {
      ASSIGN_OR_RETURN(uint32_t gde, GdEntry(table_));
      if (gde == 0) {  // no table: every grain of this stretch is zeros
        ++table_;
        continue;
      }
      uint64_t at = uint64_t{gde} * kSectorSize;
      if (at + per_table * 4 > file_size_) {
        return CorruptError("grain directory entry " + std::to_string(table_) +
                            " points past the end of the file (" + Sector(gde) +
                            ")");
      }
      RETURN_IF_ERROR(
          Claim(at, per_table * 4, "grain table " + std::to_string(table_)));
      gt_.resize(per_table);
      RETURN_IF_ERROR(ReadExactlyAt(
          *file_, at, {reinterpret_cast<uint8_t*>(gt_.data()), per_table * 4}));
      bytes_read_ += per_table * 4;
      gt_loaded_ = true;
      entry_ = 0;
    }
    while (entry_ < per_table) {
      uint64_t grain = table_ * per_table + entry_;
      if (grain >= grains_) break;
      uint32_t v = LoadLe32(&gt_[entry_]);
      if (v == 0 ||
          (v == vmdk::kZeroedGte && (header_.flags & vmdk::kFlagZeroedGte))) {
        ++entry_;
        continue;
      }
      if (header_.flags & vmdk::kFlagCompressed) {
        ++entry_;
        return ReadCompressedGrain(grain, v, run);
      }
      // Join the grains that follow on the disk and in the file.
      uint64_t guest = grain * grain_bytes_;
      uint64_t len = std::min(grain_bytes_, capacity_ - guest);
      RETURN_IF_ERROR(CheckGrainTarget(grain, v, len));
      ++entry_;
      while (entry_ < per_table && grain + 1 < grains_ &&
             len + grain_bytes_ <= buffer_.size() &&
             LoadLe32(&gt_[entry_]) ==
                 uint64_t{v} + (len / grain_bytes_) * header_.grain_size &&
             len % grain_bytes_ == 0) {
        uint64_t next_len = std::min(grain_bytes_, capacity_ - guest - len);
        RETURN_IF_ERROR(
            CheckGrainTarget(grain + 1, LoadLe32(&gt_[entry_]), next_len));
        len += next_len;
        ++grain;
        ++entry_;
      }
      RETURN_IF_ERROR(Claim(uint64_t{v} * kSectorSize, len,
                            "the grain for " + Sector(guest / kSectorSize)));
      RETURN_IF_ERROR(ReadExactlyAt(*file_, uint64_t{v} * kSectorSize,
                                    {buffer_.data(), len}));
      bytes_read_ += len;
      *run = {guest, {buffer_.data(), len}};
      return true;
    }
    gt_loaded_ = false;
    ++table_;
  }
  return false;
}

Status VmdkSparseReader::PlanSequential() {
  StreamCursor& c = *cursor_;
  auto seek_forward = [&](uint64_t at, const std::string& what) -> Status {
    if (at < c.position()) {
      return UnsupportedError(what + " at byte " + std::to_string(at) +
                              " comes before data already read: this layout "
                              "needs a seekable input");
    }
    return c.Skip(at - c.position());
  };
  if (tables_ > kMaxSequentialTables) {
    return UnsupportedError(std::to_string(tables_) +
                            " grain tables are too many to read from a "
                            "stream: use a seekable input");
  }
  RETURN_IF_ERROR(
      seek_forward(header_.gd_offset * kSectorSize, "the grain directory"));
  std::vector<std::pair<uint64_t, uint64_t>> tables;  // (sector, index)
  for (uint64_t i = 0; i < tables_;) {
    uint64_t n = std::min<uint64_t>(tables_ - i, kReadBytes / 4);
    ASSIGN_OR_RETURN(auto gd, c.Take(n * 4));
    for (uint64_t k = 0; k < n; ++k) {
      uint32_t v = LoadLe32(gd.data() + k * 4);
      if (v != 0) tables.emplace_back(v, i + k);
    }
    i += n;
  }
  std::sort(tables.begin(), tables.end());
  const uint64_t per_table = header_.num_gtes_per_gt;
  for (const auto& [sector, index] : tables) {
    RETURN_IF_ERROR(seek_forward(sector * kSectorSize,
                                 "grain table " + std::to_string(index)));
    ASSIGN_OR_RETURN(auto gt, c.Take(per_table * 4));
    for (uint64_t e = 0; e < per_table; ++e) {
      uint64_t grain = index * per_table + e;
      if (grain >= grains_) break;
      uint32_t v = LoadLe32(gt.data() + e * 4);
      if (v == 0 ||
          (v == vmdk::kZeroedGte && (header_.flags & vmdk::kFlagZeroedGte))) {
        continue;
      }
      if (plan_.size() >= kMaxSequentialGrains) {
        return UnsupportedError("more than " +
                                std::to_string(kMaxSequentialGrains) +
                                " allocated grains to read from a stream: "
                                "use a seekable input");
      }
      plan_.emplace_back(v, grain);
    }
  }
  std::sort(plan_.begin(), plan_.end());
  for (size_t i = 0; i < plan_.size(); ++i) {
    uint64_t grain = plan_[i].second;
    RETURN_IF_ERROR(CheckGrainTarget(grain, plan_[i].first, 0));
    if (plan_[i].first * kSectorSize < c.position()) {
      return UnsupportedError(
          "the grain for " + Sector(grain * header_.grain_size) +
          " is stored before the grain tables: this layout needs a seekable "
          "input");
    }
    if (i > 0 && plan_[i].first == plan_[i - 1].first) {
      return CorruptError("grain table entries for " +
                          Sector(plan_[i - 1].second * header_.grain_size) +
                          " and " + Sector(grain * header_.grain_size) +
                          " point at the same " + Sector(plan_[i].first));
    }
  }
  return OkStatus();
}

Result<bool> VmdkSparseReader::NextSequential(DataRun* run) {
  StreamCursor& c = *cursor_;
  if (plan_index_ >= plan_.size()) return false;
  auto [sector, grain] = plan_[plan_index_++];
  uint64_t at = sector * kSectorSize;
  if (at < c.position()) {
    return CorruptError("grain at " + Sector(sector) +
                        " overlaps the data before it");
  }
  RETURN_IF_ERROR(c.Skip(at - c.position()));
  if (header_.flags & vmdk::kFlagCompressed) {
    return ReadCompressedGrain(grain, sector, run);
  }
  uint64_t guest = grain * grain_bytes_;
  uint64_t len = std::min(grain_bytes_, capacity_ - guest);
  while (plan_index_ < plan_.size() && len % grain_bytes_ == 0 &&
         len + grain_bytes_ <= kReadBytes &&
         plan_[plan_index_].first ==
             sector + (len / grain_bytes_) * header_.grain_size &&
         plan_[plan_index_].second == grain + len / grain_bytes_) {
    len += std::min(grain_bytes_, capacity_ - guest - len);
    ++plan_index_;
  }
  ASSIGN_OR_RETURN(auto data, c.Take(static_cast<size_t>(len)));
  *run = {guest, data};
  return true;
}

Result<bool> VmdkSparseReader::Next(DataRun* run) {
  return cursor_ ? NextSequential(run) : NextRandom(run);
}

}  // namespace ova2virt
