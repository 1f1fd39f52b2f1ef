// Reads qcow2 images (versions 2 and 3): standard, zero and compressed
// clusters, with or without extended L2 entries. A backing file is never
// followed: such an image is kUnsupported, naming the backing file.
#ifndef OVA2VIRT_CONVERT_QCOW2_READER_H_
#define OVA2VIRT_CONVERT_QCOW2_READER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convert/disk_reader.h"
#include "core/byte_stream.h"
#include "core/compress.h"

namespace ova2virt {

class Qcow2Reader : public DiskReader {
 public:
  // Validates the header and the L1 table's place; `keep` optionally owns
  // `file`. kCorrupt/kUnsupported naming the field and its byte offset.
  static Result<std::unique_ptr<Qcow2Reader>> Open(
      RandomAccessSource& file, std::unique_ptr<RandomAccessSource> keep);

  uint64_t capacity() const override { return size_; }
  Result<bool> Next(DataRun* run) override;
  std::string_view format_name() const override { return "qcow2"; }
  ReadProgress progress() const override;
  uint64_t bytes_read() const override { return bytes_read_; }

  uint32_t version() const { return version_; }
  uint64_t cluster_size() const { return cluster_size_; }
  bool extended_l2() const { return extended_l2_; }

 private:
  Qcow2Reader() = default;
  Status ParseHeader();
  // Reads the refcount table and the L1 table and records where the
  // metadata lives (header, L1, refcount table and blocks, L2 tables).
  // kCorrupt for a table outside the file, two tables that overlap, or an
  // L2 table used twice (a loop in the tree).
  Status MapMetadata(uint64_t l1_size, uint64_t rc_offset,
                     uint64_t rc_clusters);
  // kCorrupt when [host, host + len) overlaps any metadata: data read from
  // there would be the image's own tables.
  Status CheckNotMetadata(uint64_t host, uint64_t len,
                          const std::string& where) const;
  Result<uint64_t> L1Entry(uint64_t index);
  Status CheckDataCluster(uint64_t guest_cluster, uint64_t host,
                          uint64_t len) const;
  Result<bool> ReadCompressed(uint64_t guest_cluster, uint64_t entry,
                              DataRun* run);

  std::unique_ptr<RandomAccessSource> keep_;
  RandomAccessSource* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint32_t version_ = 0;
  uint32_t cluster_bits_ = 0;
  uint64_t cluster_size_ = 0;
  uint64_t size_ = 0;
  bool extended_l2_ = false;
  uint64_t l2_entries_ = 0;  // entries per L2 table
  size_t entry_bytes_ = 8;   // 16 with extended L2
  uint64_t l1_offset_ = 0;
  uint64_t l1_needed_ = 0;
  uint64_t bytes_read_ = 0;

  // Metadata ranges [start, end), sorted and disjoint; L2 table offsets,
  // sorted (each one cluster long).
  std::vector<std::pair<uint64_t, uint64_t>> metadata_;
  std::vector<uint64_t> l2_tables_;
  bool l2_sorted_ = false;

  uint64_t l1_chunk_start_ = ~uint64_t{0};
  std::vector<uint64_t> l1_chunk_;
  uint64_t l1_index_ = 0;
  std::vector<uint8_t> l2_;
  bool l2_loaded_ = false;
  uint64_t l2_index_ = 0;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> comp_;
  Inflater inflater_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_QCOW2_READER_H_
