// Files on the local file system, behind the byte-stream interfaces.
// Every read, write and sync goes through the fault-injection seam.
#ifndef OVA2VIRT_CORE_FILE_H_
#define OVA2VIRT_CORE_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

// An owned file descriptor. Errors name the path.
class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  static Result<File> OpenRead(const std::string& path);
  // Creates a new file; fails with kExists if it is there. Mode 0600 by
  // default: disk images are private until someone decides otherwise.
  static Result<File> CreateExclusive(const std::string& path, int mode = 0600);
  // Opens an existing file for writing (no truncation).
  static Result<File> OpenWrite(const std::string& path);
  // Wraps a descriptor the caller keeps (stdin); it is not closed.
  static File Borrow(int fd, std::string name);
  // For a pipe: asks for a 1 MiB pipe buffer (Linux's default is 64 KiB),
  // so that the writer and this reader trade places 16 times less often.
  // Does nothing for other files, or where the kernel refuses.
  void GrowPipeBuffer();

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  Result<size_t> Read(std::span<uint8_t> out);
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out);
  Status WriteAll(std::span<const uint8_t> data);
  Status WriteAllAt(uint64_t offset, std::span<const uint8_t> data);
  Status Sync();
  Status Truncate(uint64_t size);
  Result<uint64_t> Size() const;
  // True for regular files and block devices (pread works), false for pipes.
  bool IsSeekable() const;
  Status Close();

 private:
  int fd_ = -1;
  bool owned_ = true;
  std::string path_;
};

// A file (or stdin) read front to back.
class FileSource : public ByteSource {
 public:
  explicit FileSource(File file) : file_(std::move(file)) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    return file_.Read(out);
  }
  File& file() { return file_; }

 private:
  File file_;
};

// A regular file read at offsets.
class FileRandomAccess : public RandomAccessSource {
 public:
  static Result<std::unique_ptr<FileRandomAccess>> Open(
      const std::string& path);
  explicit FileRandomAccess(File file, uint64_t size)
      : file_(std::move(file)), size_(size) {}
  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override;
  File& file() { return file_; }

 private:
  File file_;
  uint64_t size_;
};

// Appends to a file through a large buffer (few syscalls); pieces of a
// quarter of the buffer or more are written without copying.
class FileSink : public ByteSink {
 public:
  explicit FileSink(File& file, size_t buffer_size = 1 << 20);
  Status Write(std::span<const uint8_t> data) override;
  Status Close() override;  // flushes; does not close the File
  uint64_t written() const { return written_; }

 private:
  Status Flush();
  File& file_;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
  uint64_t written_ = 0;
};

// Writes a file at offsets; holes stay holes.
class FileBlockSink : public BlockSink {
 public:
  enum class Mode {
    kBuffered,  // through the page cache
    // Writes whose memory, offset and length are multiples of
    // AlignedBuffer::kAlignment bypass the page cache (O_DIRECT): no copy
    // into the cache, no cache filled with a disk image nobody reads back,
    // and little left for the final sync to do. Other writes (tables,
    // headers, a short last cluster) go through the cache as usual; the
    // kernel keeps the two coherent. Where the file system refuses direct
    // I/O, every write goes through the cache.
    kDirectWhenAligned,
  };
  explicit FileBlockSink(File& file, Mode mode = Mode::kBuffered)
      : file_(file), direct_allowed_(mode == Mode::kDirectWhenAligned) {}
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override;
  // One pwritev() with direct I/O when every piece is aligned; otherwise
  // piece by piece as WriteAt().
  Status WriteVectorAt(
      uint64_t offset,
      std::span<const std::span<const uint8_t>> pieces) override;
  Status SetSize(uint64_t size) override { return file_.Truncate(size); }
  Status Close() override { return file_.Sync(); }
  // Bytes written with direct I/O so far (for tests and reports).
  uint64_t direct_bytes() const { return direct_bytes_; }

 private:
  // Switches the descriptor's O_DIRECT flag; false if the file system
  // refuses it.
  bool SetDirect(bool on);
  // Whether a write of `data` at `offset` may bypass the cache.
  bool Aligned(uint64_t offset, std::span<const uint8_t> data) const;

  File& file_;
  bool direct_allowed_;
  bool direct_on_ = false;
  uint64_t direct_bytes_ = 0;
};

// An output file that appears under its final name only when complete.
//
// Create() makes "DIR/.NAME.ova2virt-tmp-XXXXXX" (mode 0600); Commit() syncs
// it and renames it to the final name (refusing to replace an existing file
// unless `replace` is set). Destroyed uncommitted, it removes the temporary
// file, so a failure or an interrupt leaves nothing behind. The marker in the
// name lets `ova2virt cleanup` find leftovers of a killed process.
class TempOutputFile {
 public:
  static Result<std::unique_ptr<TempOutputFile>> Create(
      const std::string& final_path, bool replace = false);
  ~TempOutputFile();

  File& file() { return file_; }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  Status Commit();

 private:
  TempOutputFile() = default;
  File file_;
  std::string temp_path_;
  std::string final_path_;
  bool replace_ = false;
  bool committed_ = false;
};

// The marker every temporary output name carries.
inline constexpr std::string_view kTempMarker = ".ova2virt-tmp-";

// Reads a whole small file (descriptors, keys); kCorrupt beyond `cap` bytes.
Result<std::string> ReadSmallFile(const std::string& path, size_t cap);
// Writes a whole file through a TempOutputFile.
Status WriteFileAtomically(const std::string& path, std::string_view data,
                           bool replace = false, int mode = 0644);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_FILE_H_
