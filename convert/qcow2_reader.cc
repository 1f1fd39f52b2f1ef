#include "convert/qcow2_reader.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "convert/qcow2_format.h"
#include "convert/vmdk_format.h"
#include "core/checked_math.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

// Adjacent clusters are read together, up to this many bytes at a time.
constexpr size_t kReadBytes = 2 << 20;
// L1 entries read at a time.
constexpr uint64_t kL1ChunkEntries = 8192;

std::string Byte(uint64_t at) { return "at byte " + std::to_string(at); }

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Result<std::unique_ptr<Qcow2Reader>> Qcow2Reader::Open(
    RandomAccessSource& file, std::unique_ptr<RandomAccessSource> keep) {
  std::unique_ptr<Qcow2Reader> r(new Qcow2Reader());
  r->keep_ = std::move(keep);
  r->file_ = &file;
  r->file_size_ = file.size();
  RETURN_IF_ERROR(r->ParseHeader());
  return r;
}

Status Qcow2Reader::ParseHeader() {
  uint8_t h[112] = {};
  if (file_size_ < qcow2::kV2HeaderLength) {
    return CorruptError("qcow2 header: file of " + std::to_string(file_size_) +
                        " bytes is too short");
  }
  RETURN_IF_ERROR(ReadExactlyAt(
      *file_, 0,
      {h, static_cast<size_t>(std::min<uint64_t>(sizeof h, file_size_))}));
  bytes_read_ += sizeof h;
  if (LoadBe32(h + qcow2::kOffMagic) != qcow2::kMagic) {
    return CorruptError("qcow2 header at byte 0: bad magic");
  }
  version_ = LoadBe32(h + qcow2::kOffVersion);
  if (version_ != 2 && version_ != 3) {
    return UnsupportedError("qcow2 header at byte 4: version " +
                            std::to_string(version_) + " is not supported");
  }
  cluster_bits_ = LoadBe32(h + qcow2::kOffClusterBits);
  if (cluster_bits_ < qcow2::kMinClusterBits ||
      cluster_bits_ > qcow2::kMaxClusterBits) {
    return CorruptError("qcow2 header at byte 20: cluster_bits " +
                        std::to_string(cluster_bits_) +
                        " outside 9 to 21 (512 bytes to 2 MiB)");
  }
  cluster_size_ = uint64_t{1} << cluster_bits_;
  uint64_t backing_offset = LoadBe64(h + qcow2::kOffBackingFileOffset);
  if (backing_offset != 0) {
    uint32_t len = LoadBe32(h + qcow2::kOffBackingFileSize);
    std::string name;
    if (len <= qcow2::kMaxBackingFileName &&
        RangeWithin(backing_offset, len, file_size_)) {
      name.resize(len);
      RETURN_IF_ERROR(ReadExactlyAt(
          *file_, backing_offset,
          {reinterpret_cast<uint8_t*>(name.data()), name.size()}));
    }
    return UnsupportedError(
        "qcow2 image has a backing file " + Quote(name) +
        ", which is never followed; flatten it first (qemu-img convert)");
  }
  if (LoadBe32(h + qcow2::kOffCryptMethod) != 0) {
    return UnsupportedError("encrypted qcow2 images are not supported");
  }
  uint32_t header_length = qcow2::kV2HeaderLength;
  if (version_ >= 3) {
    header_length = LoadBe32(h + qcow2::kOffHeaderLength);
    if (header_length < qcow2::kV3HeaderLength || header_length % 8 != 0 ||
        header_length > cluster_size_) {
      return CorruptError("qcow2 header at byte 100: header length " +
                          std::to_string(header_length));
    }
    uint64_t incompat = LoadBe64(h + qcow2::kOffIncompatibleFeatures);
    const uint64_t known = qcow2::kIncompatDirty | qcow2::kIncompatCorrupt |
                           qcow2::kIncompatExternalData |
                           qcow2::kIncompatCompressionType |
                           qcow2::kIncompatExtendedL2;
    if (incompat & ~known) {
      return UnsupportedError(
          "qcow2 header at byte 72: unknown incompatible "
          "features " +
          Hex(incompat & ~known));
    }
    if (incompat & qcow2::kIncompatCorrupt) {
      return CorruptError(
          "qcow2 header at byte 72: the image is marked "
          "corrupt");
    }
    if (incompat & qcow2::kIncompatExternalData) {
      return UnsupportedError(
          "qcow2 images with an external data file are "
          "not supported");
    }
    if (incompat & qcow2::kIncompatCompressionType) {
      uint8_t type = header_length > qcow2::kOffCompressionType
                         ? h[qcow2::kOffCompressionType]
                         : 0;
      if (type == 1) {
        return UnsupportedError(
            "qcow2 images with zstd-compressed clusters "
            "are not supported");
      }
      if (type != 0) {
        return UnsupportedError("qcow2 header at byte 104: compression type " +
                                std::to_string(type));
      }
    }
    extended_l2_ = (incompat & qcow2::kIncompatExtendedL2) != 0;
    if (extended_l2_ && cluster_bits_ < 14) {
      return CorruptError(
          "qcow2 header: extended L2 entries need clusters of "
          "16 KiB or more");
    }
    // The dirty bit only means the refcounts may be stale; reading does not
    // use them.
  }
  size_ = LoadBe64(h + qcow2::kOffSize);
  if (size_ > vmdk::kMaxCapacityBytes) {
    return UnsupportedError("qcow2 header at byte 24: virtual size " +
                            std::to_string(size_) +
                            " exceeds the limit of 64 TiB");
  }
  entry_bytes_ = extended_l2_ ? 16 : 8;
  l2_entries_ = cluster_size_ / entry_bytes_;
  uint64_t l1_size = LoadBe32(h + qcow2::kOffL1Size);
  l1_offset_ = LoadBe64(h + qcow2::kOffL1TableOffset);
  l1_needed_ = DivRoundUp(size_, cluster_size_ * l2_entries_);
  if (l1_needed_ * 8 > qcow2::kMaxL1Bytes) {
    return UnsupportedError("qcow2 header: an L1 table of " +
                            std::to_string(l1_needed_) +
                            " entries exceeds the limit of 32 MiB");
  }
  if (l1_size < l1_needed_) {
    return CorruptError("qcow2 header at byte 36: L1 table of " +
                        std::to_string(l1_size) + " entries is too small for " +
                        std::to_string(size_) + " bytes");
  }
  if (l1_size * 8 > qcow2::kMaxL1Bytes) {
    return CorruptError("qcow2 header at byte 36: L1 table of " +
                        std::to_string(l1_size) +
                        " entries exceeds the limit of 32 MiB");
  }
  if (l1_needed_ > 0 &&
      (l1_offset_ % cluster_size_ != 0 || l1_offset_ < cluster_size_ ||
       !RangeWithin(l1_offset_, l1_size * 8, file_size_))) {
    return CorruptError("qcow2 header at byte 40: L1 table " +
                        Byte(l1_offset_) + " is unaligned or outside the file");
  }
  uint64_t rc_offset = LoadBe64(h + qcow2::kOffRefcountTableOffset);
  uint64_t rc_clusters = LoadBe32(h + qcow2::kOffRefcountTableClusters);
  RETURN_IF_ERROR(
      MapMetadata(l1_needed_ > 0 ? l1_size : 0, rc_offset, rc_clusters));
  buffer_.resize(std::max<uint64_t>(kReadBytes, cluster_size_));
  return OkStatus();
}

Status Qcow2Reader::MapMetadata(uint64_t l1_size, uint64_t rc_offset,
                                uint64_t rc_clusters) {
  // The refcount table: reading needs no refcounts, but a table outside the
  // file or on top of other metadata marks an image no qemu would open.
  // (Every number below is bounded: cluster_size_ <= 2 MiB, rc_clusters <
  // 2^32, l1_size * 8 <= 32 MiB.)
  if (rc_clusters == 0 ||
      rc_clusters * cluster_size_ > qcow2::kMaxRefcountTableBytes) {
    return CorruptError("qcow2 header at byte 56: refcount table of " +
                        std::to_string(rc_clusters) +
                        " clusters (allowed: 1 to 8 MiB)");
  }
  uint64_t rc_bytes = rc_clusters * cluster_size_;
  if (rc_offset % cluster_size_ != 0 || rc_offset < cluster_size_ ||
      !RangeWithin(rc_offset, rc_bytes, file_size_)) {
    return CorruptError("qcow2 header at byte 48: refcount table " +
                        Byte(rc_offset) + " is unaligned or outside the file");
  }
  metadata_.emplace_back(0, cluster_size_);
  metadata_.emplace_back(rc_offset, rc_offset + rc_bytes);
  if (l1_size > 0) {
    metadata_.emplace_back(
        l1_offset_,
        l1_offset_ + DivRoundUp(l1_size * 8, cluster_size_) * cluster_size_);
  }
  std::vector<uint64_t> table(rc_bytes / 8);
  RETURN_IF_ERROR(ReadExactlyAt(
      *file_, rc_offset, {reinterpret_cast<uint8_t*>(table.data()), rc_bytes}));
  bytes_read_ += rc_bytes;
  for (uint64_t i = 0; i < table.size(); ++i) {
    uint64_t block = LoadBe64(&table[i]) & qcow2::kOffsetMask;
    if (block == 0) continue;
    if (block % cluster_size_ != 0 ||
        !RangeWithin(block, cluster_size_, file_size_)) {
      return CorruptError("qcow2 refcount table entry " + std::to_string(i) +
                          ": refcount block " + Byte(block) +
                          " is unaligned or past the end of the file");
    }
    metadata_.emplace_back(block, block + cluster_size_);
  }
  std::sort(metadata_.begin(), metadata_.end());
  for (size_t i = 1; i < metadata_.size(); ++i) {
    if (metadata_[i].first < metadata_[i - 1].second) {
      return CorruptError("qcow2 metadata " + Byte(metadata_[i].first) +
                          " overlaps other metadata " +
                          Byte(metadata_[i - 1].first) +
                          " (header, L1 table, refcount table or block)");
    }
  }
  // The L2 tables the L1 table names.
  for (uint64_t i = 0; i < l1_needed_; ++i) {
    ASSIGN_OR_RETURN(uint64_t l1e, L1Entry(i));
    uint64_t l2 = l1e & qcow2::kOffsetMask;
    if (l2 == 0) continue;
    std::string where = "qcow2 L1 entry " + std::to_string(i);
    if (l2 % cluster_size_ != 0 || l2 < cluster_size_ ||
        !RangeWithin(l2, cluster_size_, file_size_)) {
      return CorruptError(where + ": L2 table " + Byte(l2) +
                          " is unaligned, in the header or past the end");
    }
    // (Not yet against the other L2 tables: l2_tables_ is sorted below.)
    RETURN_IF_ERROR(CheckNotMetadata(l2, cluster_size_, where + ": L2 table"));
    l2_tables_.push_back(l2);
  }
  std::sort(l2_tables_.begin(), l2_tables_.end());
  l2_sorted_ = true;
  auto twice = std::adjacent_find(l2_tables_.begin(), l2_tables_.end());
  if (twice != l2_tables_.end()) {
    return CorruptError("qcow2 L2 table " + Byte(*twice) +
                        " is used by two L1 entries (a loop in the tree)");
  }
  return OkStatus();
}

Status Qcow2Reader::CheckNotMetadata(uint64_t host, uint64_t len,
                                     const std::string& where) const {
  uint64_t end = host + len;  // host and len are within the file
  // The last metadata range that starts before `end`.
  auto m = std::lower_bound(metadata_.begin(), metadata_.end(),
                            std::make_pair(end, uint64_t{0}));
  if (m != metadata_.begin() && std::prev(m)->second > host) {
    return CorruptError(where + " " + Byte(host) +
                        " overlaps the image's metadata " +
                        Byte(std::prev(m)->first));
  }
  if (!l2_sorted_) return OkStatus();
  auto l2 =
      std::lower_bound(l2_tables_.begin(), l2_tables_.end(),
                       host >= cluster_size_ ? host - cluster_size_ + 1 : 0);
  if (l2 != l2_tables_.end() && *l2 < end) {
    return CorruptError(where + " " + Byte(host) + " overlaps the L2 table " +
                        Byte(*l2));
  }
  return OkStatus();
}

ReadProgress Qcow2Reader::progress() const {
  uint64_t per_l1 = cluster_size_ * l2_entries_;
  return {std::min(size_, l1_index_ * per_l1), size_};
}

Result<uint64_t> Qcow2Reader::L1Entry(uint64_t index) {
  if (index < l1_chunk_start_ || index >= l1_chunk_start_ + l1_chunk_.size()) {
    l1_chunk_start_ = index - index % kL1ChunkEntries;
    uint64_t count = std::min(kL1ChunkEntries, l1_needed_ - l1_chunk_start_);
    l1_chunk_.resize(count);
    RETURN_IF_ERROR(ReadExactlyAt(
        *file_, l1_offset_ + l1_chunk_start_ * 8,
        {reinterpret_cast<uint8_t*>(l1_chunk_.data()), count * 8}));
    bytes_read_ += count * 8;
  }
  return LoadBe64(&l1_chunk_[index - l1_chunk_start_]);
}

Status Qcow2Reader::CheckDataCluster(uint64_t guest_cluster, uint64_t host,
                                     uint64_t len) const {
  auto where = [&] {
    return "qcow2 L2 entry for guest byte " +
           std::to_string(guest_cluster * cluster_size_);
  };
  if (host % cluster_size_ != 0) {
    return CorruptError(where() + ": host offset " + std::to_string(host) +
                        " is not cluster-aligned");
  }
  if (host < cluster_size_) {
    return CorruptError(where() + " points into the header");
  }
  if (!RangeWithin(host, len, file_size_)) {
    return CorruptError(where() + " points past the end of the file (" +
                        Byte(host) + ")");
  }
  return CheckNotMetadata(host, len, where() + ": data");
}

Result<bool> Qcow2Reader::ReadCompressed(uint64_t guest_cluster, uint64_t entry,
                                         DataRun* run) {
  // qcow2.txt "Compressed Clusters Descriptor": offset in the low x bits,
  // additional 512-byte sectors above it.
  uint32_t x = 62 - (cluster_bits_ - 8);
  uint64_t host = entry & ((uint64_t{1} << x) - 1);
  uint64_t sectors =
      ((entry >> x) & ((uint64_t{1} << (cluster_bits_ - 8)) - 1)) + 1;
  uint64_t size = sectors * 512 - (host & 511);
  std::string where = "qcow2 compressed cluster for guest byte " +
                      std::to_string(guest_cluster * cluster_size_);
  if (host < cluster_size_ || host >= file_size_) {
    return CorruptError(where + ": host offset " + std::to_string(host) +
                        " is outside the data area");
  }
  // The last sector may run past the end of the file; the stream itself
  // ends before it.
  size = std::min(size, file_size_ - host);
  RETURN_IF_ERROR(CheckNotMetadata(host, size, where + ": compressed data"));
  comp_.resize(size);
  RETURN_IF_ERROR(ReadExactlyAt(*file_, host, comp_));
  bytes_read_ += size;
  auto n = inflater_.RawDeflate(comp_, {buffer_.data(), cluster_size_});
  if (!n.ok()) return n.status().WithContext(where);
  if (*n != cluster_size_) {
    return CorruptError(where + ": inflates to " + std::to_string(*n) +
                        " bytes instead of a whole cluster");
  }
  uint64_t guest = guest_cluster * cluster_size_;
  *run = {guest, {buffer_.data(), std::min(cluster_size_, size_ - guest)}};
  return true;
}

Result<bool> Qcow2Reader::Next(DataRun* run) {
  while (l1_index_ < l1_needed_) {
    if (!l2_loaded_) {
      ASSIGN_OR_RETURN(uint64_t l1e, L1Entry(l1_index_));
      uint64_t l2_offset = l1e & qcow2::kOffsetMask;
      if (l2_offset == 0) {
        ++l1_index_;
        continue;
      }
      if (l2_offset % cluster_size_ != 0 || l2_offset < cluster_size_ ||
          !RangeWithin(l2_offset, cluster_size_, file_size_)) {
        return CorruptError("qcow2 L1 entry " + std::to_string(l1_index_) +
                            ": L2 table " + Byte(l2_offset) +
                            " is unaligned, in the header or past the end");
      }
      l2_.resize(cluster_size_);
      RETURN_IF_ERROR(ReadExactlyAt(*file_, l2_offset, l2_));
      bytes_read_ += cluster_size_;
      l2_loaded_ = true;
      l2_index_ = 0;
    }
    while (l2_index_ < l2_entries_) {
      uint64_t guest_cluster = l1_index_ * l2_entries_ + l2_index_;
      uint64_t guest = guest_cluster * cluster_size_;
      if (guest >= size_) break;
      const uint8_t* e = l2_.data() + l2_index_ * entry_bytes_;
      uint64_t entry = LoadBe64(e);
      ++l2_index_;
      if (entry & qcow2::kFlagCompressed) {
        return ReadCompressed(guest_cluster, entry & ~(3ull << 62), run);
      }
      uint64_t host = entry & qcow2::kOffsetMask;
      uint64_t len = std::min(cluster_size_, size_ - guest);
      if (extended_l2_) {
        uint64_t bitmap = LoadBe64(e + 8);
        uint32_t alloc = static_cast<uint32_t>(bitmap);
        uint32_t zero = static_cast<uint32_t>(bitmap >> 32);
        if (alloc & zero) {
          return CorruptError("qcow2 L2 entry for guest byte " +
                              std::to_string(guest) +
                              ": subclusters both allocated and zero");
        }
        if (alloc == 0) continue;  // zeros or unallocated: both read as 0
        if (host == 0) {
          return CorruptError("qcow2 L2 entry for guest byte " +
                              std::to_string(guest) +
                              ": allocated subclusters without a cluster");
        }
        RETURN_IF_ERROR(CheckDataCluster(guest_cluster, host, len));
        RETURN_IF_ERROR(ReadExactlyAt(*file_, host, {buffer_.data(), len}));
        bytes_read_ += len;
        // Subclusters that are not allocated read as zeros whatever the
        // host cluster holds there.
        uint64_t sub = cluster_size_ / qcow2::kSubclusters;
        for (int i = 0; i < qcow2::kSubclusters; ++i) {
          if (alloc & (1u << i)) continue;
          uint64_t from = i * sub;
          if (from >= len) break;
          std::fill_n(buffer_.begin() + from, std::min(sub, len - from), 0);
        }
        *run = {guest, {buffer_.data(), len}};
        return true;
      }
      if (version_ >= 3 && (entry & qcow2::kFlagZero)) continue;
      if (host == 0) continue;  // unallocated, and there is no backing file
      RETURN_IF_ERROR(CheckDataCluster(guest_cluster, host, len));
      // Join the clusters that follow both on the disk and in the file.
      while (l2_index_ < l2_entries_ && len % cluster_size_ == 0 &&
             len + cluster_size_ <= buffer_.size() && guest + len < size_) {
        uint64_t next = LoadBe64(l2_.data() + l2_index_ * entry_bytes_);
        if ((next & qcow2::kFlagCompressed) || (next & qcow2::kFlagZero) ||
            (next & qcow2::kOffsetMask) != host + len) {
          break;
        }
        uint64_t next_len = std::min(cluster_size_, size_ - guest - len);
        RETURN_IF_ERROR(CheckDataCluster(guest_cluster + len / cluster_size_,
                                         host + len, next_len));
        len += next_len;
        ++l2_index_;
      }
      RETURN_IF_ERROR(ReadExactlyAt(*file_, host, {buffer_.data(), len}));
      bytes_read_ += len;
      *run = {guest, {buffer_.data(), len}};
      return true;
    }
    l2_loaded_ = false;
    ++l1_index_;
  }
  return false;
}

}  // namespace ova2virt
