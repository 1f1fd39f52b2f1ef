#include "convert/vmdk_stream_reader.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "convert/zero.h"
#include "core/aligned_buffer.h"
#include "core/checked_math.h"
#include "core/compress.h"
#include "core/endian.h"
#include "core/leased_buffers.h"

namespace ova2virt {
namespace {

using vmdk::kSectorSize;

// Grains per batch aim at about 1 MiB of decoded data: large enough that
// handing a batch to a worker costs nothing next to inflating it, small
// enough that the batches in flight stay a few MiB.
constexpr uint64_t kBatchBytes = 1 << 20;
// The stream is read this much at a time, into the buffers the grains are
// inflated from.
constexpr uint64_t kChunkBytes = 1 << 20;
// Decoded bytes a sink may hold on to (leased) while the reader goes on.
constexpr size_t kLeasedAheadBytes = 8 << 20;
// Stretches of grains remembered for duplicate detection (16 bytes each).
constexpr size_t kMaxGrainIntervals = 1 << 20;

std::string At(uint64_t pos) { return "at byte " + std::to_string(pos); }

// splitmix64's finalizer: a bijection that scatters its input's bits.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

// A piece of the compressed stream, read in place. Its buffer is not
// zero-filled (only bytes [0, end) are ever read; a reused chunk holds old
// bytes anyway) and is aligned, as direct reads into it would need.
struct VmdkStreamReader::Chunk {
  explicit Chunk(size_t capacity) : data(capacity) {}
  AlignedBuffer data;
  size_t end = 0;       // bytes held
  size_t pos = 0;       // bytes parsed
  uint64_t offset = 0;  // stream offset of data[0]
  uint64_t ticket = 0;  // the source's ticket for the bytes read into it
  int users = 0;        // batches whose grains lie in it
};

// Compressed grains waiting to be inflated, and the runs they become.
class VmdkStreamReader::Batch : public WorkerPool::Job {
 public:
  struct Grain {
    uint64_t guest_offset;  // bytes
    uint64_t marker_pos;    // stream offset of the grain's marker
    const uint8_t* comp;    // the zlib data, in the batch's chunk
    uint32_t comp_size;
    uint32_t length;  // guest bytes this grain covers (the last may be short)
  };

  explicit Batch(uint64_t grain_bytes) : grain_bytes_(grain_bytes) {}

  void Reset() {
    chunk = nullptr;
    grains.clear();
    runs.clear();
    status = OkStatus();
  }

  // Inflates every grain into its slot of `out` (a buffer of at least
  // grains.size() grains), drops all-zero grains and joins grains that are
  // adjacent both on the disk and in `out`.
  void Run() override {
    thread_local Inflater inflater;
    runs.clear();
    for (size_t i = 0; i < grains.size(); ++i) {
      const Grain& g = grains[i];
      uint8_t* dst = out->data() + i * grain_bytes_;
      auto n = inflater.Zlib({g.comp, g.comp_size},
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
      // Every grain of the run was checked just above, while in cache.
      runs.push_back({g.guest_offset,
                      {dst, g.length},
                      static_cast<uint32_t>(grain_bytes_)});
    }
  }

  Chunk* chunk = nullptr;
  std::vector<Grain> grains;
  // Aligned, so that a file sink can write the runs with direct I/O; leased,
  // so that it can write them after the reader moved on.
  std::shared_ptr<AlignedBuffer> out;
  std::vector<DataRun> runs;
  Status status;

 private:
  uint64_t grain_bytes_;
};

VmdkStreamReader::VmdkStreamReader(ByteSource& source,
                                   std::unique_ptr<ByteSource> keep,
                                   uint64_t input_size)
    : source_(source),
      keep_(std::move(keep)),
      input_size_(input_size),
      seen_(kMaxGrainIntervals) {}

VmdkStreamReader::~VmdkStreamReader() {
  // Stop the workers before the batches they may be inflating go away, and
  // let the source's tee finish with the chunks before they are freed.
  pool_.reset();
  source_.Reclaim(last_ticket_);
}

Result<std::unique_ptr<VmdkStreamReader>> VmdkStreamReader::Open(
    ByteSource& source, std::unique_ptr<ByteSource> keep, uint64_t input_size) {
  std::unique_ptr<VmdkStreamReader> r(
      new VmdkStreamReader(source, std::move(keep), input_size));
  // The header area is parsed from a cursor that holds the largest embedded
  // descriptor (1 MiB) in one piece; what it read beyond is the first
  // chunk's start.
  StreamCursor cursor(source, kSectorSize + vmdk::kMaxDescriptorBytes);
  RETURN_IF_ERROR(r->ReadHeaderArea(cursor));
  // A chunk holds the largest compressed grain (2 MiB grains at most) with
  // its marker, and whatever the cursor read ahead.
  r->chunk_capacity_ = static_cast<size_t>(std::max<uint64_t>(
      {kChunkBytes, kSectorSize + vmdk::kMaxDescriptorBytes,
       vmdk::MaxCompressedGrain(r->grain_bytes_) + 2 * kSectorSize}));
  auto first = std::make_unique<Chunk>(r->chunk_capacity_);
  std::span<const uint8_t> ahead = cursor.Buffered();
  std::memcpy(first->data.data(), ahead.data(), ahead.size());
  first->end = ahead.size();
  first->offset = cursor.position();
  r->bytes_read_ = cursor.bytes_read();
  r->chunk_ = first.get();
  r->chunks_.push_back(std::move(first));
  return r;
}

Status VmdkStreamReader::ReadHeaderArea(StreamCursor& cursor) {
  SeedDigest();
  ASSIGN_OR_RETURN(auto sector, cursor.Take(kSectorSize));
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
  if (desc_size > 0 && desc_start >= cursor.position() &&
      desc_start + desc_size <= *overhead_bytes) {
    RETURN_IF_ERROR(cursor.Skip(desc_start - cursor.position()));
    ASSIGN_OR_RETURN(auto text, cursor.Take(static_cast<size_t>(desc_size)));
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
  RETURN_IF_ERROR(ReadDirectory(cursor, *overhead_bytes));
  if (*overhead_bytes > cursor.position()) {
    RETURN_IF_ERROR(cursor.Skip(*overhead_bytes - cursor.position()));
  }
  return OkStatus();
}

namespace {
constexpr uint64_t kDigestPrime = (uint64_t{1} << 61) - 1;

__extension__ typedef unsigned __int128 Uint128;

uint64_t MulMod(uint64_t a, uint64_t b) {
  // a, b < p = 2^61 - 1: fold the high bits down (2^61 = 1 mod p).
  Uint128 x = static_cast<Uint128>(a) * b;
  uint64_t r = (static_cast<uint64_t>(x) & kDigestPrime) +
               static_cast<uint64_t>(x >> 61);
  r = (r & kDigestPrime) + (r >> 61);  // r < 2^62 before, <= 2^61 after
  return r >= kDigestPrime ? r - kDigestPrime : r;
}
}  // namespace

void VmdkStreamReader::SeedDigest() {
  if (digest_r_ != 0) return;
  std::random_device seed;
  digest_key_ = (uint64_t{seed()} << 32) | seed();
  digest_r_ = 2 + ((uint64_t{seed()} << 32) | seed()) % (kDigestPrime - 4);
}

uint64_t VmdkStreamReader::SectorHash(uint64_t sector) const {
  return Mix(sector ^ digest_key_) % kDigestPrime;
}

uint64_t VmdkStreamReader::PowR(uint64_t e) const {
  uint64_t result = 1;
  uint64_t base = digest_r_;
  for (; e != 0; e >>= 1) {
    if (e & 1) result = MulMod(result, base);
    base = MulMod(base, base);
  }
  return result;
}

uint64_t VmdkStreamReader::GrainDigest(uint64_t grain, uint64_t sector) const {
  return MulMod(SectorHash(sector), PowR(grain));
}

Status VmdkStreamReader::DigestTable(std::span<const uint8_t> table,
                                     const std::string& where,
                                     uint64_t first_grain_sector,
                                     uint64_t end_sector,
                                     TableSeen* out) const {
  uint64_t power = 1;
  for (uint64_t j = 0; j < header_.num_gtes_per_gt;
       ++j, power = MulMod(power, digest_r_)) {
    uint64_t sector = LoadLe32(table.data() + j * 4);
    if (sector == 0) continue;
    if (sector == vmdk::kZeroedGte && (header_.flags & vmdk::kFlagZeroedGte)) {
      continue;
    }
    // The header area holds the header, the descriptor, the directories
    // and (in qemu-img's layout) the tables: a grain there would be read
    // from the metadata by every reader that follows the tables. In
    // VMware's layout a table comes after its grains.
    if (sector < first_grain_sector || sector >= end_sector) {
      return CorruptError(
          where + ": entry " + std::to_string(j) + " points to sector " +
          std::to_string(sector) +
          (sector < first_grain_sector
               ? ", inside the metadata (the header area ends at sector " +
                     std::to_string(first_grain_sector) + ")"
               : ", not to a grain before the table"));
    }
    out->digest =
        (out->digest + MulMod(SectorHash(sector), power)) % kDigestPrime;
    ++out->grains;
    out->last_entry = j;
    out->last_sector = std::max(out->last_sector, sector);
  }
  return OkStatus();
}

Status VmdkStreamReader::AddTable(uint64_t table, const TableSeen& seen,
                                  const std::string& where) {
  if (seen.grains == 0) return OkStatus();
  const uint64_t first = table * header_.num_gtes_per_gt;
  if (first + seen.last_entry >= vmdk::GrainCount(header_)) {
    return CorruptError(where + ": entry " + std::to_string(seen.last_entry) +
                        " is beyond the capacity of " +
                        std::to_string(header_.capacity) + " sectors");
  }
  expected_digest_ =
      (expected_digest_ + MulMod(seen.digest, PowR(first))) % kDigestPrime;
  expected_grains_ += seen.grains;
  last_expected_sector_ = std::max(last_expected_sector_, seen.last_sector);
  return OkStatus();
}

Status VmdkStreamReader::ReadDirectory(StreamCursor& cursor,
                                       uint64_t overhead_bytes) {
  // VMware's layout says "at end"; a directory past the header area (or
  // one the descriptor already went past) cannot be read before the grains,
  // and then the end-of-stream marker decides.
  if (header_.gd_offset == vmdk::kGdAtEnd || header_.gd_offset == 0) {
    return OkStatus();
  }
  const uint64_t tables = vmdk::GrainTableCount(header_);
  const uint64_t gte_bytes = uint64_t{header_.num_gtes_per_gt} * 4;
  const uint64_t gd_bytes = tables * 4;
  auto gd_start = CheckedMul<uint64_t>(header_.gd_offset, kSectorSize);
  if (!gd_start || *gd_start < cursor.position() ||
      *gd_start + gd_bytes > overhead_bytes) {
    return OkStatus();
  }
  SeedDigest();
  gd_offset_bytes_ = *gd_start;
  const std::string gd_where = "grain directory " + At(*gd_start);

  // The directory, read in pieces the cursor can hold: (table's byte
  // offset, table number) for every table present.
  std::vector<std::pair<uint64_t, uint64_t>> present;
  RETURN_IF_ERROR(cursor.Skip(*gd_start - cursor.position()));
  for (uint64_t t = 0; t < tables;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(tables - t, 1 << 16));
    ASSIGN_OR_RETURN(auto bytes, cursor.Take(n * 4));
    for (size_t i = 0; i < n; ++i, ++t) {
      uint64_t sector = LoadLe32(bytes.data() + i * 4);
      if (sector == 0) continue;
      uint64_t start = sector * kSectorSize;
      // Tables lie after the directory, inside the header area: before the
      // grains, where a stream reader meets them.
      if (start < *gd_start + gd_bytes || start + gte_bytes > overhead_bytes) {
        return CorruptError(
            gd_where + ": entry " + std::to_string(t) + " points to sector " +
            std::to_string(sector) +
            ", not to a grain table between the directory and the end of "
            "the header area (sector " +
            std::to_string(overhead_bytes / kSectorSize) + ")");
      }
      present.emplace_back(start, t);
    }
  }
  std::sort(present.begin(), present.end());

  const uint64_t first_grain_sector = overhead_bytes / kSectorSize;
  for (const auto& [start, t] : present) {
    if (start < cursor.position()) {
      return CorruptError(gd_where + ": grain table " + std::to_string(t) +
                          " " + At(start) +
                          " overlaps the directory or another table");
    }
    RETURN_IF_ERROR(cursor.Skip(start - cursor.position()));
    ASSIGN_OR_RETURN(auto table, cursor.Take(static_cast<size_t>(gte_bytes)));
    const std::string where =
        "grain table " + std::to_string(t) + " " + At(start);
    TableSeen seen;
    RETURN_IF_ERROR(
        DigestTable(table, where, first_grain_sector, ~uint64_t{0}, &seen));
    RETURN_IF_ERROR(AddTable(t, seen, where));
  }
  tables_known_ = true;
  return OkStatus();
}

Status VmdkStreamReader::CheckAllArrived(uint64_t end) const {
  if (arrived_grains_ < expected_grains_) {
    return CorruptError(
        "the stream ends " + At(end) + ", but the grain directory " +
        At(gd_offset_bytes_) + " lists " + std::to_string(expected_grains_) +
        " grains (the last at byte " +
        std::to_string(last_expected_sector_ * kSectorSize) + ") and only " +
        std::to_string(arrived_grains_) + " arrived (truncated?)");
  }
  if (arrived_grains_ != expected_grains_ ||
      arrived_digest_ != expected_digest_) {
    return CorruptError("the grains in the stream (ending " + At(end) +
                        ") are not the ones the grain directory " +
                        At(gd_offset_bytes_) + " and its tables list");
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

uint64_t VmdkStreamReader::Position() const {
  return chunk_->offset + chunk_->pos;
}

size_t VmdkStreamReader::Available() const { return chunk_->end - chunk_->pos; }

std::unique_ptr<VmdkStreamReader::Batch> VmdkStreamReader::TakeFreeBatch() {
  if (free_.empty()) return std::make_unique<Batch>(grain_bytes_);
  std::unique_ptr<Batch> b = std::move(free_.back());
  free_.pop_back();
  b->Reset();
  return b;
}

void VmdkStreamReader::Recycle(std::unique_ptr<Batch> batch) {
  Chunk* c = batch->chunk;
  batch->chunk = nullptr;
  batch->out.reset();  // back to outputs_ once no sink holds it either
  if (c != nullptr && --c->users == 0 && c != chunk_) {
    free_chunks_.push_back(c);
  }
  free_.push_back(std::move(batch));
}

Status VmdkStreamReader::Refill() {
  Chunk* old = chunk_;
  Chunk* next = nullptr;
  if (!free_chunks_.empty()) {
    next = free_chunks_.back();
    free_chunks_.pop_back();
    // The tee underneath may still be reading what was there.
    source_.Reclaim(next->ticket);
  } else {
    // At most one chunk per batch alive, the one being parsed and this one.
    chunks_.push_back(std::make_unique<Chunk>(chunk_capacity_));
    next = chunks_.back().get();
  }
  // The unparsed tail (a marker or a grain cut by the chunk's end) moves to
  // the front: the only bytes of the stream copied between buffers.
  size_t tail = old->end - old->pos;
  std::memcpy(next->data.data(), old->data.data() + old->pos, tail);
  next->offset = old->offset + old->pos;
  next->end = tail;
  next->pos = 0;
  next->ticket = 0;
  chunk_ = next;
  if (old->users == 0) free_chunks_.push_back(old);
  if (skip_ > 0) {
    // Metadata reaching past the old chunk: read through, never kept. A
    // plain read, so the tee is done with these bytes when it returns.
    Status s = SkipBytes(source_, skip_);
    if (!s.ok()) {
      return CorruptError("unexpected end of data at byte " +
                          std::to_string(next->offset) +
                          " (a metadata marker's sectors run past the end)");
    }
    bytes_read_ += skip_;
    next->offset += skip_;
    skip_ = 0;
  }
  while (next->end < next->data.size() && !source_ended_) {
    uint64_t ticket = 0;
    ASSIGN_OR_RETURN(size_t n,
                     source_.ReadShared({next->data.data() + next->end,
                                         next->data.size() - next->end},
                                        &ticket));
    if (n == 0) source_ended_ = true;
    next->end += n;
    bytes_read_ += n;
    if (ticket != 0) next->ticket = last_ticket_ = ticket;
  }
  return OkStatus();
}

Status VmdkStreamReader::ReadTableMarker(uint32_t type, uint64_t val,
                                         uint64_t pos, Batch& batch,
                                         bool* wait) {
  const bool is_table = type == vmdk::kMarkerGrainTable;
  const uint64_t tables = vmdk::GrainTableCount(header_);
  const uint64_t need =
      is_table ? uint64_t{header_.num_gtes_per_gt} * 4 : tables * 4;
  const std::string where =
      (is_table ? "grain table marker " : "grain directory marker ") + At(pos);
  if (val > (uint64_t{1} << 40)) {
    return CorruptError(where + ": length of " + std::to_string(val) +
                        " sectors overflows");
  }
  if (val * kSectorSize < need) {
    return CorruptError(where + ": " + std::to_string(val) +
                        " sectors cannot hold " + std::to_string(need / 4) +
                        " entries");
  }
  // A directory too large for a chunk (disks of terabytes) goes unchecked;
  // the end-of-stream marker still proves the stream whole.
  if (kSectorSize + need > chunk_capacity_) {
    tables_unchecked_ = true;
    return OkStatus();
  }
  if (Available() < kSectorSize + need) {
    if (!batch.grains.empty()) {
      *wait = true;
      return OkStatus();
    }
    if (!source_ended_) RETURN_IF_ERROR(Refill());
    if (Available() < kSectorSize + need) {
      return CorruptError("unexpected end of data " +
                          At(chunk_->offset + chunk_->end) + " in the " +
                          where);
    }
  }
  std::span<const uint8_t> body(chunk_->data.data() + chunk_->pos + kSectorSize,
                                static_cast<size_t>(need));
  const uint64_t body_sector = pos / kSectorSize + 1;
  if (is_table) {
    // VMware writes a table for every stretch, empty or not, and
    // sometimes one more (the corpus's cot_input.vmdk: 33 for 32).
    if (tables_seen_.size() >= 2 * tables + 16) {
      return CorruptError(where + ": far more grain tables than the " +
                          std::to_string(tables) + " the disk has");
    }
    TableSeen seen;
    seen.sector = body_sector;
    RETURN_IF_ERROR(
        DigestTable(body, where, header_.overhead, pos / kSectorSize, &seen));
    tables_seen_.push_back(seen);
    return OkStatus();
  }
  if (directory_seen_) {
    return CorruptError(where + ": a second grain directory");
  }
  // Tables arrive in stream order, so tables_seen_ is sorted by sector.
  for (uint64_t t = 0; t < tables; ++t) {
    uint64_t sector = LoadLe32(body.data() + t * 4);
    if (sector == 0) continue;
    auto it = std::lower_bound(
        tables_seen_.begin(), tables_seen_.end(), sector,
        [](const TableSeen& a, uint64_t v) { return a.sector < v; });
    if (it == tables_seen_.end() || it->sector != sector) {
      return CorruptError(where + ": entry " + std::to_string(t) +
                          " points to sector " + std::to_string(sector) +
                          ", where no grain table went by");
    }
    if (it->used) {
      return CorruptError(where + ": entry " + std::to_string(t) +
                          " points to the grain table at sector " +
                          std::to_string(sector) + ", as an earlier one does");
    }
    it->used = true;
    RETURN_IF_ERROR(AddTable(t, *it, where));
  }
  for (const TableSeen& seen : tables_seen_) {
    if (!seen.used && seen.grains > 0) {
      return CorruptError("grain table at sector " +
                          std::to_string(seen.sector) +
                          " is in no entry of the grain directory " + At(pos));
    }
  }
  tables_seen_.clear();
  tables_seen_.shrink_to_fit();
  directory_seen_ = !tables_unchecked_;
  directory_sector_ = body_sector;
  gd_offset_bytes_ = body_sector * kSectorSize;
  return OkStatus();
}

Status VmdkStreamReader::FillBatch(Batch& batch) {
  while (!end_of_stream_ && batch.grains.size() < max_grains_per_batch_) {
    if (Available() < kSectorSize) {
      // A batch's grains lie in one chunk: a new chunk, a new batch.
      if (!batch.grains.empty()) return OkStatus();
      if (!source_ended_ || skip_ > 0) RETURN_IF_ERROR(Refill());
      if (Available() == 0 && tables_known_) {
        // qemu-img writes no end-of-stream marker: the tables say when the
        // stream is complete.
        RETURN_IF_ERROR(CheckAllArrived(Position()));
        end_of_stream_ = true;
        return OkStatus();
      }
      if (Available() == 0) {
        return CorruptError("no end-of-stream marker: the stream ends " +
                            At(Position()) + " (truncated?)");
      }
      if (Available() < kSectorSize) {
        return CorruptError("truncated marker " + At(Position()));
      }
    }
    const uint64_t pos = Position();
    const uint8_t* marker = chunk_->data.data() + chunk_->pos;
    uint32_t size = LoadLe32(marker + 8);
    if (size != 0) {
      uint64_t lba = LoadLe64(marker);
      auto where = [&] { return "grain marker " + At(pos); };
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
        return CorruptError(
            where() + ": compressed size " + std::to_string(size) +
            " exceeds " +
            std::to_string(vmdk::MaxCompressedGrain(grain_bytes_)));
      }
      // The marker, the data and the padding to a sector: within the
      // chunk's capacity, by the check above.
      size_t total = static_cast<size_t>(
          DivRoundUp(vmdk::kGrainMarkerSize + uint64_t{size}, kSectorSize) *
          kSectorSize);
      if (Available() < total) {
        if (!batch.grains.empty()) return OkStatus();
        if (!source_ended_) RETURN_IF_ERROR(Refill());
        if (Available() < total) {
          return CorruptError("unexpected end of data " +
                              At(chunk_->offset + chunk_->end) + " in the " +
                              where());
        }
        marker = chunk_->data.data() + chunk_->pos;
      }
      if (tables_known_ && pos / kSectorSize > last_expected_sector_) {
        return CorruptError(where() + ": sector " + std::to_string(lba) +
                            " is not in the grain tables");
      }
      ++arrived_grains_;
      arrived_digest_ = (arrived_digest_ + GrainDigest(lba / header_.grain_size,
                                                       pos / kSectorSize)) %
                        kDigestPrime;
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
      g.marker_pos = pos;
      g.comp = marker + vmdk::kGrainMarkerSize;
      g.comp_size = size;
      g.length = static_cast<uint32_t>(
          std::min<uint64_t>(grain_bytes_, capacity_ - g.guest_offset));
      if (batch.grains.empty()) {
        batch.chunk = chunk_;
        ++chunk_->users;
      }
      batch.grains.push_back(g);
      chunk_->pos += total;
      continue;
    }
    uint64_t val = LoadLe64(marker);
    uint32_t type = LoadLe32(marker + 12);
    switch (type) {
      case vmdk::kMarkerEndOfStream:
        // qemu-img pads its last grain's cluster with zeros, which read as
        // this marker.
        if (tables_known_ || directory_seen_) {
          RETURN_IF_ERROR(CheckAllArrived(pos));
        }
        end_of_stream_ = true;
        chunk_->pos += kSectorSize;
        break;
      case vmdk::kMarkerFooter:
        // The footer is a copy of the header (with the real gdOffset): a
        // copy that disagrees about the disk means the file was tampered
        // with or mangled, and readers that trust the footer (VMware's,
        // qemu's) would see another disk than this one.
        if (val >= 1) {
          if (Available() < 2 * kSectorSize) {
            if (!batch.grains.empty()) return OkStatus();  // next chunk
            if (!source_ended_) RETURN_IF_ERROR(Refill());
            if (Available() < 2 * kSectorSize) {
              return CorruptError("truncated footer " + At(pos + kSectorSize));
            }
            marker = chunk_->data.data() + chunk_->pos;
          }
          vmdk::SparseHeader footer = vmdk::ParseSparseHeader(
              std::span<const uint8_t, 512>(marker + kSectorSize, 512));
          if (footer.magic != header_.magic ||
              footer.capacity != header_.capacity ||
              footer.grain_size != header_.grain_size) {
            return CorruptError("footer " + At(pos + kSectorSize) +
                                " describes another disk than the header "
                                "(capacity " +
                                std::to_string(footer.capacity) + " sectors, " +
                                "grain size " +
                                std::to_string(footer.grain_size) + ")");
          }
          if (directory_seen_ && footer.gd_offset != directory_sector_) {
            return CorruptError("footer " + At(pos + kSectorSize) +
                                ": gdOffset " +
                                std::to_string(footer.gd_offset) +
                                " is not the grain directory at sector " +
                                std::to_string(directory_sector_));
          }
        }
        [[fallthrough]];
      case vmdk::kMarkerGrainTable:
      case vmdk::kMarkerGrainDirectory:
        // (The footer falls through to here too.)
        if (!tables_known_ && type != vmdk::kMarkerFooter) {
          // VMware's layout: the tables and the directory must describe
          // the grains that went by, as the readers that follow them
          // (VMware's, qemu's) would see them.
          bool wait = false;
          RETURN_IF_ERROR(ReadTableMarker(type, val, pos, batch, &wait));
          if (wait) return OkStatus();  // a new chunk, a new batch
          marker = chunk_->data.data() + chunk_->pos;
        }
        [[fallthrough]];
      case vmdk::kMarkerUnspecified: {
        // Tables and the footer repeat what the grain markers said.
        auto skip = CheckedMul<uint64_t>(val, kSectorSize);
        if (!skip) {
          return CorruptError("metadata marker " + At(pos) +
                              ": length overflows");
        }
        chunk_->pos += kSectorSize;
        uint64_t here = std::min<uint64_t>(*skip, Available());
        chunk_->pos += static_cast<size_t>(here);
        skip_ = *skip - here;
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
        run->lease = current_->out;
        return true;
      }
      Recycle(std::move(current_));
    }
    // Keep the pipeline full: parse ahead on this thread, inflate on the
    // workers (or right here without them).
    while (!end_of_stream_ && in_flight_.size() < window_) {
      std::unique_ptr<Batch> batch = TakeFreeBatch();
      Status s = FillBatch(*batch);
      if (!s.ok()) {
        Recycle(std::move(batch));
        failed_ = s;
        return s;
      }
      if (batch->grains.empty()) {
        Recycle(std::move(batch));
        continue;  // metadata only, or the chunk ended: go on parsing
      }
      if (outputs_ == nullptr) {
        // Every batch in flight and the one being handed out hold a
        // buffer; the rest may be held by a sink writing behind.
        outputs_ = std::make_unique<LeasedBuffers>(
            max_grains_per_batch_ * grain_bytes_,
            window_ + 1 +
                std::max<size_t>(2, kLeasedAheadBytes / (max_grains_per_batch_ *
                                                         grain_bytes_)));
      }
      batch->out = outputs_->Take();
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
