// A tar archive read front to back, one entry at a time, over libarchive
// (which nothing else in ova2virt sees). Formats: POSIX ustar and pax, GNU
// and old-style tar, plain or gzip-compressed. Entries are reported as they
// are, hostile or not: judging them is the PackageReader's job.
#ifndef OVA2VIRT_OVA_TAR_STREAM_H_
#define OVA2VIRT_OVA_TAR_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/byte_stream.h"
#include "core/status.h"

struct archive;  // libarchive's handle, opaque here

namespace ova2virt {

enum class TarEntryType {
  kFile,
  kDirectory,
  kSymlink,
  kHardlink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kSocket,
  kOther,
};

// "file", "directory", "symbolic link", "hard link", ...
std::string_view TarEntryTypeName(TarEntryType type);

struct TarEntry {
  std::string name;  // the bytes stored (pax, GNU long name or ustar)
  std::string link_target;
  TarEntryType type = TarEntryType::kFile;
  int64_t size = 0;            // as declared; may be negative in a hostile file
  uint64_t header_offset = 0;  // first header block, extension headers included
  uint64_t data_offset = 0;    // first data byte, in the uncompressed stream
  bool sparse = false;         // a GNU or pax sparse file
};

class TarStream {
 public:
  // Reads from a seekable source; skipping an entry's data seeks when the
  // archive is not compressed. The source must outlive the stream.
  static Result<std::unique_ptr<TarStream>> Open(RandomAccessSource& file);
  // Reads from a forward-only stream (a pipe).
  static Result<std::unique_ptr<TarStream>> Open(ByteSource& stream);
  ~TarStream();
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;

  // The next entry, after skipping what is left of the current one's data;
  // nullopt at the end of the archive. kCorrupt "at byte N: WHY"
  // (Status::AtByte: byte_offset() N, truncated() when the archive ends
  // early) for a
  // damaged header (bad checksum), a truncated archive, or input that is not
  // a tar archive; errors of the underlying source are returned as they are.
  Result<std::optional<TarEntry>> Next();
  // The next piece of the current entry's data, without copying; empty at
  // the end of the entry. Valid until the next call. kCorrupt if the archive
  // ends inside the entry.
  Result<std::span<const uint8_t>> ReadBlock();
  // Copies up to out.size() bytes of the current entry's data; 0 at its end.
  Result<size_t> Read(std::span<uint8_t> out);
  // Skips the rest of the current entry's data.
  Status Skip();

  // True when the tar is wrapped in gzip.
  bool compressed() const;
  // Bytes consumed so far of the (uncompressed) tar stream.
  uint64_t position() const;
  // Once Next() returned nullopt: where the last entry's data (padded) ended
  // and how many zero blocks followed it (0, 1 or 2; 2 is correct).
  uint64_t end_of_entries() const { return next_header_; }
  int end_blocks() const { return end_blocks_; }
  // libarchive's warnings about headers (ignored pax keywords...), to be
  // reported; cleared by the call.
  std::vector<std::string> TakeWarnings();

  struct Callbacks;

 private:
  TarStream();
  Status Start();
  // libarchive's error (or the source's) as kCorrupt "at byte OFFSET: ...",
  // with the offset, and whether the archive ended early, in the Status.
  Status ArchiveError(uint64_t offset);

  ::archive* archive_ = nullptr;
  RandomAccessSource* file_ = nullptr;
  ByteSource* stream_ = nullptr;
  uint64_t file_pos_ = 0;
  std::vector<uint8_t> buffer_;
  Status callback_status_;
  bool at_end_ = false;
  bool in_entry_ = false;
  std::span<const uint8_t> pending_;  // the rest of a block Read() began
  uint64_t next_header_ = 0;
  int end_blocks_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_TAR_STREAM_H_
