#include "ova/tar_stream.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstring>

#include "core/checked_math.h"

namespace ova2virt {
namespace {

// Large reads: few system calls, and libarchive hands out entry data
// straight from this buffer.
constexpr size_t kBufferSize = 1 << 20;
constexpr uint64_t kBlock = 512;

// libarchive says "Truncated tar archive..." when the data ends early.
bool SaysTruncated(const char* message) {
  return message != nullptr &&
         std::string_view(message).starts_with("Truncated");
}

// libarchive's wording, made ours: lower case and saying what it means.
std::string Describe(const char* message) {
  std::string m = message ? message : "unknown error";
  if (SaysTruncated(message)) return "archive is truncated";
  if (m == "Damaged tar archive") {
    return "damaged tar header (bad checksum or not a header)";
  }
  if (m == "Unrecognized archive format") return "not a tar archive";
  if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z')
    m[0] = static_cast<char>(m[0] + 32);
  return m;
}

}  // namespace

std::string_view TarEntryTypeName(TarEntryType type) {
  switch (type) {
    case TarEntryType::kFile:
      return "file";
    case TarEntryType::kDirectory:
      return "directory";
    case TarEntryType::kSymlink:
      return "symbolic link";
    case TarEntryType::kHardlink:
      return "hard link";
    case TarEntryType::kCharDevice:
      return "character device";
    case TarEntryType::kBlockDevice:
      return "block device";
    case TarEntryType::kFifo:
      return "fifo";
    case TarEntryType::kSocket:
      return "socket";
    case TarEntryType::kOther:
      return "special entry";
  }
  return "special entry";
}

// libarchive's client callbacks, with access to the stream's state.
struct TarStream::Callbacks {
  static la_ssize_t Read(struct archive* a, void* client, const void** out) {
    auto* self = static_cast<TarStream*>(client);
    Result<size_t> n = size_t{0};
    if (self->file_ != nullptr) {
      n = self->file_->ReadAt(self->file_pos_, self->buffer_);
      if (n.ok()) self->file_pos_ += *n;
    } else {
      n = self->stream_->Read(self->buffer_);
    }
    if (!n.ok()) {
      self->callback_status_ = n.status();
      archive_set_error(a, EIO, "%s", n.status().message().c_str());
      return -1;
    }
    *out = self->buffer_.data();
    return static_cast<la_ssize_t>(*n);
  }

  // Seekable input only: skipping is moving the offset. Never past the end,
  // so a member that claims more than the file holds reads as truncated.
  static la_int64_t Skip(struct archive*, void* client, la_int64_t request) {
    auto* self = static_cast<TarStream*>(client);
    if (request <= 0) return 0;
    uint64_t size = self->file_->size();
    uint64_t left = size > self->file_pos_ ? size - self->file_pos_ : 0;
    uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(request), left);
    self->file_pos_ += n;
    return static_cast<la_int64_t>(n);
  }
};

TarStream::TarStream() : buffer_(kBufferSize) {}

TarStream::~TarStream() {
  if (archive_ != nullptr) archive_read_free(archive_);
}

Result<std::unique_ptr<TarStream>> TarStream::Open(RandomAccessSource& file) {
  std::unique_ptr<TarStream> s(new TarStream());
  s->file_ = &file;
  RETURN_IF_ERROR(s->Start());
  return s;
}

Result<std::unique_ptr<TarStream>> TarStream::Open(ByteSource& stream) {
  std::unique_ptr<TarStream> s(new TarStream());
  s->stream_ = &stream;
  RETURN_IF_ERROR(s->Start());
  return s;
}

Status TarStream::Start() {
  archive_ = archive_read_new();
  if (archive_ == nullptr) return FailedError("out of memory");
  // Tar only (no zip, cpio...), and gzip only: other filters may run
  // external programs.
  archive_read_support_format_tar(archive_);
  archive_read_support_filter_gzip(archive_);
  archive_read_set_callback_data(archive_, this);
  archive_read_set_read_callback(archive_, &Callbacks::Read);
  if (file_ != nullptr) {
    archive_read_set_skip_callback(archive_, &Callbacks::Skip);
  }
  if (archive_read_open1(archive_) != ARCHIVE_OK) {
    return ArchiveError(0);
  }
  return OkStatus();
}

Status TarStream::ArchiveError(uint64_t offset) {
  if (!callback_status_.ok()) return callback_status_;
  const char* message = archive_error_string(archive_);
  return Status::AtByte(ErrorCode::kCorrupt, offset, Describe(message),
                        SaysTruncated(message));
}

bool TarStream::compressed() const {
  return archive_filter_count(archive_) > 1 &&
         archive_filter_code(archive_, 0) != ARCHIVE_FILTER_NONE;
}

uint64_t TarStream::position() const {
  la_int64_t p = archive_filter_bytes(archive_, 0);
  return p < 0 ? 0 : static_cast<uint64_t>(p);
}

std::vector<std::string> TarStream::TakeWarnings() {
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

Result<std::optional<TarEntry>> TarStream::Next() {
  if (at_end_) return std::optional<TarEntry>();
  if (in_entry_) {
    RETURN_IF_ERROR(Skip());
    in_entry_ = false;
  }
  uint64_t header_offset = next_header_;
  struct archive_entry* e = nullptr;
  int r = archive_read_next_header(archive_, &e);
  // A read that failed can reach libarchive's tar reader as the end of the
  // archive (it looks for end blocks, finds none, and settles): an I/O
  // error must never pass for a clean end.
  if (!callback_status_.ok()) return callback_status_;
  if (r == ARCHIVE_EOF) {
    at_end_ = true;
    uint64_t pos = position();
    end_blocks_ = pos > next_header_
                      ? static_cast<int>((pos - next_header_) / kBlock)
                      : 0;
    return std::optional<TarEntry>();
  }
  if (r == ARCHIVE_WARN) {
    const char* w = archive_error_string(archive_);
    // Names are taken as the bytes stored, never converted, so libarchive's
    // complaint that it cannot convert them to the C locale is moot.
    if (w != nullptr && std::strstr(w, "can't be converted") == nullptr) {
      warnings_.push_back(Describe(w));
    }
  } else if (r != ARCHIVE_OK) {
    return ArchiveError(header_offset);
  }
  TarEntry entry;
  const char* name = archive_entry_pathname(e);
  if (name == nullptr) name = archive_entry_pathname_utf8(e);
  entry.name = name ? name : "";
  entry.size = archive_entry_size(e);
  entry.header_offset = header_offset;
  entry.data_offset = position();
  entry.sparse = archive_entry_sparse_count(e) > 0;
  if (const char* hl = archive_entry_hardlink(e)) {
    entry.type = TarEntryType::kHardlink;
    entry.link_target = hl;
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        entry.type = TarEntryType::kFile;
        break;
      case AE_IFDIR:
        entry.type = TarEntryType::kDirectory;
        break;
      case AE_IFLNK:
        entry.type = TarEntryType::kSymlink;
        if (const char* t = archive_entry_symlink(e)) entry.link_target = t;
        break;
      case AE_IFCHR:
        entry.type = TarEntryType::kCharDevice;
        break;
      case AE_IFBLK:
        entry.type = TarEntryType::kBlockDevice;
        break;
      case AE_IFIFO:
        entry.type = TarEntryType::kFifo;
        break;
      case AE_IFSOCK:
        entry.type = TarEntryType::kSocket;
        break;
      default:
        entry.type = TarEntryType::kOther;
    }
  }
  // Where the next header should start: after this entry's padded data. A
  // size no file can have leaves the end unknown; reading will fail.
  uint64_t size = entry.size > 0 ? static_cast<uint64_t>(entry.size) : 0;
  auto padded = CheckedAlignUp(size, kBlock);
  auto next = padded ? CheckedAdd(entry.data_offset, *padded) : std::nullopt;
  next_header_ = next.value_or(UINT64_MAX);
  in_entry_ = true;
  return std::optional<TarEntry>(std::move(entry));
}

Result<std::span<const uint8_t>> TarStream::ReadBlock() {
  if (!in_entry_) return std::span<const uint8_t>();
  if (!pending_.empty()) {
    std::span<const uint8_t> out = pending_;
    pending_ = {};
    return out;
  }
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(archive_, &buf, &size, &offset);
  if (!callback_status_.ok()) return callback_status_;
  if (r == ARCHIVE_EOF) return std::span<const uint8_t>();
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    return ArchiveError(position());
  }
  return std::span<const uint8_t>(static_cast<const uint8_t*>(buf), size);
}

// archive_read_data() would keep the rest of a block to itself (mixing it
// with archive_read_data_block() loses data), so copying reads are served
// from the blocks too.
Result<size_t> TarStream::Read(std::span<uint8_t> out) {
  if (!in_entry_ || out.empty()) return size_t{0};
  ASSIGN_OR_RETURN(std::span<const uint8_t> block, ReadBlock());
  size_t n = std::min(out.size(), block.size());
  if (n) std::memcpy(out.data(), block.data(), n);
  pending_ = block.subspan(n);
  return n;
}

Status TarStream::Skip() {
  if (!in_entry_) return OkStatus();
  pending_ = {};
  if (archive_read_data_skip(archive_) != ARCHIVE_OK) {
    return ArchiveError(position());
  }
  if (!callback_status_.ok()) return callback_status_;
  in_entry_ = false;
  return OkStatus();
}

}  // namespace ova2virt
