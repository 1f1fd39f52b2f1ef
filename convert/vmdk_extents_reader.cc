#include "convert/vmdk_extents_reader.h"

#include <algorithm>

#include "convert/owned_sources.h"
#include "convert/raw.h"
#include "convert/vmdk_format.h"
#include "convert/vmdk_sparse_reader.h"
#include "convert/vmdk_stream_reader.h"
#include "core/checked_math.h"

namespace ova2virt {
namespace {

using vmdk::kSectorSize;

bool IsFlatType(std::string_view t) { return t == "FLAT" || t == "VMFS"; }

}  // namespace

VmdkExtentsReader::~VmdkExtentsReader() = default;

Result<std::unique_ptr<VmdkExtentsReader>> VmdkExtentsReader::Open(
    VmdkDescriptor descriptor, OpenExtentFn open_extent) {
  RETURN_IF_ERROR(CheckVmdkDescriptorSupported(descriptor));
  if (descriptor.extents.empty()) {
    return CorruptError("vmdk descriptor lists no extents");
  }
  for (const VmdkExtent& e : descriptor.extents) {
    if (e.type == "ZERO") continue;
    if (e.type != "SPARSE" && !IsFlatType(e.type)) {
      // VMFSSPARSE (COWD), SESPARSE, VMFSRDM, VMFSRAW...
      return UnsupportedError("vmdk extent type " + Quote(e.type) +
                              " is not supported");
    }
    RETURN_IF_ERROR(CheckExtentName(e.file));
    auto end = CheckedAdd<uint64_t>(e.offset, e.sectors);
    if (!end || *end > (uint64_t{1} << 54)) {
      return CorruptError("vmdk extent " + Quote(e.file) +
                          ": offset and size overflow");
    }
  }
  ASSIGN_OR_RETURN(uint64_t capacity, descriptor.CapacityBytes());
  if (capacity > vmdk::kMaxCapacityBytes) {
    return UnsupportedError("vmdk descriptor: capacity of " +
                            std::to_string(capacity) +
                            " bytes exceeds the limit of 64 TiB");
  }
  if (!open_extent) {
    return UnsupportedError(
        "a vmdk descriptor names extent files, and they cannot be opened "
        "here (a descriptor read from a pipe?)");
  }
  std::unique_ptr<VmdkExtentsReader> r(new VmdkExtentsReader());
  r->format_name_ = "vmdk-" + descriptor.create_type;
  r->descriptor_ = std::move(descriptor);
  r->open_extent_ = std::move(open_extent);
  r->capacity_ = capacity;
  return r;
}

Status VmdkExtentsReader::OpenExtent() {
  const VmdkExtent& e = descriptor_.extents[index_];
  length_ = e.sectors * kSectorSize;
  if (e.type == "ZERO") return OkStatus();
  // Checked in Open(); checked again because it is cheap and this is the
  // line a descriptor must never get past.
  RETURN_IF_ERROR(CheckExtentName(e.file));
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessSource> file,
                   open_extent_(e.file));
  if (IsFlatType(e.type)) {
    uint64_t start = e.offset * kSectorSize;
    if (!RangeWithin(start, length_, file->size())) {
      return CorruptError("flat extent file of " +
                          std::to_string(file->size()) +
                          " bytes is shorter than its extent (" +
                          std::to_string(start + length_) + " bytes)");
    }
    auto slice = std::make_unique<OwnedSlice>(std::move(file), start, length_);
    RandomAccessSource& ref = *slice;
    current_ = std::make_unique<RawReader>(ref, std::move(slice));
    return OkStatus();
  }
  uint8_t sector[kSectorSize];
  RETURN_IF_ERROR(ReadExactlyAt(*file, 0, sector));
  vmdk::SparseHeader h = vmdk::ParseSparseHeader(sector);
  if (h.magic == vmdk::kSparseMagic && (h.flags & vmdk::kFlagMarkers)) {
    uint64_t size = file->size();
    auto stream = std::make_unique<OwnedSequentialSource>(std::move(file));
    ByteSource& ref = *stream;
    ASSIGN_OR_RETURN(current_,
                     VmdkStreamReader::Open(ref, std::move(stream), size));
  } else {
    RandomAccessSource& ref = *file;
    ASSIGN_OR_RETURN(current_,
                     VmdkSparseReader::OpenRandom(ref, std::move(file)));
  }
  if (current_->capacity() < length_) {
    return CorruptError(
        "sparse extent holds " + std::to_string(current_->capacity()) +
        " bytes, less than the descriptor's " + std::to_string(length_));
  }
  current_->SetThreads(threads_);
  return OkStatus();
}

Result<bool> VmdkExtentsReader::Next(DataRun* run) {
  while (index_ < descriptor_.extents.size()) {
    const std::string& name = descriptor_.extents[index_].file;
    if (!opened_) {
      Status s = OpenExtent();
      if (!s.ok()) return s.WithContext("extent " + Quote(name));
      opened_ = true;
    }
    if (current_ != nullptr) {
      auto more = current_->Next(run);
      if (!more.ok()) return more.status().WithContext("extent " + Quote(name));
      if (*more) {
        // A sparse extent may be larger than its line says: the line wins.
        if (run->offset >= length_) continue;
        if (run->data.size() > length_ - run->offset) {
          run->data = run->data.first(length_ - run->offset);
        }
        run->offset += base_;
        return true;
      }
      done_bytes_read_ += current_->bytes_read();
      current_.reset();
    }
    base_ += length_;
    ++index_;
    opened_ = false;
  }
  return false;
}

ReadProgress VmdkExtentsReader::progress() const {
  uint64_t done = base_;
  if (current_ != nullptr) {
    ReadProgress p = current_->progress();
    if (p.total > 0) {
      done += static_cast<uint64_t>(static_cast<double>(length_) * p.done /
                                    p.total);
    }
  }
  return {std::min(done, capacity_), capacity_};
}

uint64_t VmdkExtentsReader::bytes_read() const {
  return done_bytes_read_ + (current_ ? current_->bytes_read() : 0);
}

}  // namespace ova2virt
