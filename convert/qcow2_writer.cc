#include "convert/qcow2_writer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "convert/qcow2_format.h"
#include "convert/zero.h"
#include "core/checked_math.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

constexpr uint64_t kCs = Qcow2Writer::kClusterSize;
constexpr uint32_t kL2Bits = Qcow2Writer::kClusterBits - 3;  // 8-byte entries
constexpr uint64_t kL2Entries = uint64_t{1} << kL2Bits;
constexpr uint32_t kRefcountOrder = 4;  // 16-bit refcounts, as qemu writes
constexpr uint64_t kRefblockEntries = kCs * 8 / (1u << kRefcountOrder);
constexpr uint32_t kHeaderLength = 112;  // v3 fields + compression type

}  // namespace

Qcow2Writer::Qcow2Writer(BlockSink& sink, uint64_t capacity)
    : sink_(sink), virtual_size_(DivRoundUp(capacity, 512) * 512) {}

uint64_t Qcow2Writer::ClusterLength(uint64_t c) const {
  return std::min(kCs, virtual_size_ - c * kCs);
}

Status Qcow2Writer::Record(uint64_t guest, uint64_t host, uint64_t count) {
  if (!extents_.empty()) {
    Extent& last = extents_.back();
    if (last.guest + last.count == guest && last.host + last.count == host) {
      last.count += count;
      return OkStatus();
    }
  }
  if (extents_.size() >= kMaxExtents) {
    return UnsupportedError("qcow2 writer: the data arrives in more than " +
                            std::to_string(kMaxExtents) +
                            " separate stretches");
  }
  extents_.push_back({guest, host, count});
  return OkStatus();
}

Status Qcow2Writer::AppendClusters(uint64_t guest,
                                   std::span<const uint8_t> data,
                                   uint64_t count) {
  static const std::vector<uint8_t> kZeros(kCs, 0);
  uint64_t host = next_host_;
  RETURN_IF_ERROR(sink_.WriteLeased(host * kCs, data, lease_));
  // The disk's last cluster may be short: complete it so the data area
  // stays a whole number of clusters for a sequential sink.
  uint64_t pad = count * kCs - data.size();
  if (pad > 0) {
    RETURN_IF_ERROR(sink_.WriteAt(host * kCs + data.size(),
                                  {kZeros.data(), static_cast<size_t>(pad)}));
  }
  next_host_ += count;
  data_clusters_ += count;
  bytes_written_ += count * kCs;
  return Record(guest, host, count);
}

Status Qcow2Writer::WriteRun(uint64_t offset, std::span<const uint8_t> data) {
  if (finished_) return FailedError("qcow2 writer: write after finish");
  if (!RangeWithin(offset, data.size(), virtual_size_)) {
    return FailedError("qcow2 writer: run at byte " + std::to_string(offset) +
                       " extends beyond the virtual size");
  }
  while (!data.empty()) {
    uint64_t c = offset / kCs;
    uint64_t in = offset % kCs;
    uint64_t cl = ClusterLength(c);
    if (in == 0 && data.size() >= cl) {
      uint64_t whole = data.size() / kCs;
      uint64_t bytes = whole * kCs;
      uint64_t last = c + whole;
      if (bytes < data.size() && (last + 1) * kCs >= virtual_size_ &&
          data.size() - bytes == ClusterLength(last)) {
        bytes = data.size();  // ends with the disk's short last cluster
      }
      RETURN_IF_ERROR(WriteWholeClusters(c, data.first(bytes)));
      offset += bytes;
      data = data.subspan(bytes);
    } else {
      size_t n = static_cast<size_t>(std::min<uint64_t>(cl - in, data.size()));
      RETURN_IF_ERROR(WritePartial(c, in, data.first(n)));
      offset += n;
      data = data.subspan(n);
    }
  }
  return OkStatus();
}

Status Qcow2Writer::WriteDataRun(const DataRun& run) {
  // A cluster made of whole pieces the reader found non-zero is non-zero:
  // no need to read it again.
  uint64_t g = run.nonzero_granule;
  clusters_checked_ = g != 0 && g <= kCs && kCs % g == 0 && run.offset % g == 0;
  lease_ = run.lease;
  Status s = WriteRun(run.offset, run.data);
  clusters_checked_ = false;
  lease_.reset();
  return s;
}

Status Qcow2Writer::WriteWholeClusters(uint64_t first,
                                       std::span<const uint8_t> data) {
  auto pending = [&](uint64_t c) {
    return (!partials_.empty() && partials_.count(c)) ||
           (!early_flushed_.empty() && early_flushed_.count(c));
  };
  size_t pos = 0;
  uint64_t c = first;
  while (pos < data.size()) {
    size_t len = static_cast<size_t>(ClusterLength(c));
    if (pending(c)) {
      // Part of this cluster came earlier, unaligned: join it.
      RETURN_IF_ERROR(WritePartial(c, 0, data.subspan(pos, len)));
      pos += len;
      ++c;
      continue;
    }
    if (!clusters_checked_ && IsAllZero(data.data() + pos, len)) {
      pos += len;
      ++c;
      continue;
    }
    // A stretch of non-zero clusters goes out in one write.
    size_t start = pos;
    uint64_t start_cluster = c;
    pos += len;
    ++c;
    while (pos < data.size()) {
      size_t next = static_cast<size_t>(ClusterLength(c));
      if (pending(c) ||
          (!clusters_checked_ && IsAllZero(data.data() + pos, next))) {
        break;
      }
      pos += next;
      ++c;
    }
    RETURN_IF_ERROR(AppendClusters(
        start_cluster, data.subspan(start, pos - start), c - start_cluster));
  }
  return OkStatus();
}

Status Qcow2Writer::WritePartial(uint64_t cluster, uint64_t in_cluster,
                                 std::span<const uint8_t> data) {
  if (auto f = early_flushed_.find(cluster); f != early_flushed_.end()) {
    bytes_written_ += data.size();
    return sink_.WriteAt(f->second * kCs + in_cluster, data);
  }
  auto [it, inserted] = partials_.try_emplace(cluster);
  Partial& p = it->second;
  if (inserted) {
    p.data.assign(kCs, 0);
    p.sequence = sequence_++;
  }
  std::memcpy(p.data.data() + in_cluster, data.data(), data.size());
  p.filled += data.size();
  if (p.filled >= ClusterLength(cluster)) return FlushPartial(it, true);
  if (partials_.size() > kMaxPartialClusters) {
    auto oldest = std::min_element(
        partials_.begin(), partials_.end(), [](const auto& a, const auto& b) {
          return a.second.sequence < b.second.sequence;
        });
    return FlushPartial(oldest, false);
  }
  return OkStatus();
}

Status Qcow2Writer::FlushPartial(std::map<uint64_t, Partial>::iterator it,
                                 bool complete) {
  uint64_t cluster = it->first;
  std::vector<uint8_t> data = std::move(it->second.data);
  partials_.erase(it);
  if (IsAllZero(data.data(), ClusterLength(cluster))) return OkStatus();
  uint64_t host = next_host_;
  RETURN_IF_ERROR(AppendClusters(cluster, data, 1));
  if (!complete) {
    if (early_flushed_.size() >= kMaxExtents) {
      return UnsupportedError("qcow2 writer: too many unaligned clusters");
    }
    early_flushed_[cluster] = host;
  }
  return OkStatus();
}

Result<WriteStats> Qcow2Writer::Finish() {
  if (finished_) return FailedError("qcow2 writer: finished twice");
  finished_ = true;
  while (!partials_.empty()) {
    RETURN_IF_ERROR(FlushPartial(partials_.begin(), true));
  }
  std::sort(extents_.begin(), extents_.end(),
            [](const Extent& a, const Extent& b) { return a.guest < b.guest; });
  for (size_t i = 1; i < extents_.size(); ++i) {
    const Extent& prev = extents_[i - 1];
    if (prev.guest + prev.count > extents_[i].guest) {
      // The reader broke its promise of non-overlapping runs; refuse rather
      // than write an image with two mappings for one cluster.
      return FailedError("qcow2 writer: guest cluster " +
                         std::to_string(extents_[i].guest) +
                         " was written twice");
    }
  }
  RETURN_IF_ERROR(WriteMetadata());
  WriteStats s;
  s.bytes_written = bytes_written_;
  s.data_clusters = data_clusters_;
  s.cluster_size = kCs;
  s.virtual_size = virtual_size_;
  return s;
}

Status Qcow2Writer::WriteMetadata() {
  // Layout after the data: L2 tables, the L1 table, refcount blocks, the
  // refcount table. Everything is allocated exactly once, so every cluster
  // from 0 to the end has a refcount of 1.
  uint64_t l1_entries = DivRoundUp(virtual_size_, kCs * kL2Entries);
  uint64_t l2_count = 0;
  uint64_t last_l1 = ~uint64_t{0};
  for (const Extent& e : extents_) {
    uint64_t from = e.guest >> kL2Bits;
    uint64_t to = (e.guest + e.count - 1) >> kL2Bits;
    l2_count += to - from + 1 - (from == last_l1 ? 1 : 0);
    last_l1 = to;
  }
  uint64_t l2_first = next_host_;
  uint64_t l1_first = l2_first + l2_count;
  // An empty disk has no L1 table at all (offset 0), as qemu-img makes it.
  uint64_t l1_clusters = DivRoundUp(l1_entries * 8, kCs);
  uint64_t rc_first = l1_first + l1_clusters;
  uint64_t blocks = 1, table_clusters = 1;
  for (;;) {
    uint64_t total = rc_first + blocks + table_clusters;
    uint64_t b = DivRoundUp(total, kRefblockEntries);
    uint64_t t = DivRoundUp(b * 8, kCs);
    if (b == blocks && t == table_clusters) break;
    blocks = b;
    table_clusters = t;
  }
  uint64_t total = rc_first + blocks + table_clusters;

  std::vector<uint8_t> buf(kCs);
  std::vector<uint64_t> l1(l1_entries, 0);
  uint64_t l2_host = l2_first;
  uint64_t current = ~uint64_t{0};
  auto flush_l2 = [&]() -> Status {
    if (current == ~uint64_t{0}) return OkStatus();
    RETURN_IF_ERROR(sink_.WriteAt(l2_host * kCs, buf));
    bytes_written_ += kCs;
    l1[current] = (l2_host * kCs) | qcow2::kFlagCopied;
    ++l2_host;
    std::fill(buf.begin(), buf.end(), 0);
    return OkStatus();
  };
  for (const Extent& e : extents_) {
    for (uint64_t i = 0; i < e.count; ++i) {
      uint64_t g = e.guest + i;
      if ((g >> kL2Bits) != current) {
        RETURN_IF_ERROR(flush_l2());
        current = g >> kL2Bits;
      }
      StoreBe64(buf.data() + (g & (kL2Entries - 1)) * 8,
                ((e.host + i) * kCs) | qcow2::kFlagCopied);
    }
  }
  RETURN_IF_ERROR(flush_l2());

  if (l1_clusters > 0) {
    std::vector<uint8_t> l1_bytes(l1_clusters * kCs, 0);
    for (uint64_t i = 0; i < l1_entries; ++i) {
      StoreBe64(l1_bytes.data() + i * 8, l1[i]);
    }
    RETURN_IF_ERROR(sink_.WriteAt(l1_first * kCs, l1_bytes));
    bytes_written_ += l1_bytes.size();
  }

  for (uint64_t b = 0; b < blocks; ++b) {
    std::fill(buf.begin(), buf.end(), 0);
    for (uint64_t j = 0; j < kRefblockEntries; ++j) {
      if (b * kRefblockEntries + j >= total) break;
      StoreBe16(buf.data() + j * 2, 1);
    }
    RETURN_IF_ERROR(sink_.WriteAt((rc_first + b) * kCs, buf));
    bytes_written_ += kCs;
  }
  std::vector<uint8_t> table(table_clusters * kCs, 0);
  for (uint64_t b = 0; b < blocks; ++b) {
    StoreBe64(table.data() + b * 8, (rc_first + b) * kCs);
  }
  RETURN_IF_ERROR(sink_.WriteAt((rc_first + blocks) * kCs, table));
  bytes_written_ += table.size();
  RETURN_IF_ERROR(sink_.SetSize(total * kCs));

  // The header goes last, so an interrupted image is never mistaken for a
  // valid one.
  std::fill(buf.begin(), buf.end(), 0);
  uint8_t* h = buf.data();
  StoreBe32(h + qcow2::kOffMagic, qcow2::kMagic);
  StoreBe32(h + qcow2::kOffVersion, 3);
  StoreBe32(h + qcow2::kOffClusterBits, kClusterBits);
  StoreBe64(h + qcow2::kOffSize, virtual_size_);
  StoreBe32(h + qcow2::kOffL1Size, static_cast<uint32_t>(l1_entries));
  StoreBe64(h + qcow2::kOffL1TableOffset, l1_clusters > 0 ? l1_first * kCs : 0);
  StoreBe64(h + qcow2::kOffRefcountTableOffset, (rc_first + blocks) * kCs);
  StoreBe32(h + qcow2::kOffRefcountTableClusters,
            static_cast<uint32_t>(table_clusters));
  StoreBe32(h + qcow2::kOffRefcountOrder, kRefcountOrder);
  StoreBe32(h + qcow2::kOffHeaderLength, kHeaderLength);
  // Byte 104 (compression type) stays 0: zlib. After the header, an
  // end-of-extensions marker: 8 zero bytes, already in place.
  RETURN_IF_ERROR(sink_.WriteAt(0, buf));
  bytes_written_ += kCs;
  return OkStatus();
}

}  // namespace ova2virt
