#include "core/file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/cancel.h"
#include "core/io_faults.h"

namespace ova2virt {

File::File(File&& other) noexcept
    : fd_(other.fd_), owned_(other.owned_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    fd_ = other.fd_;
    owned_ = other.owned_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

File::~File() { Close().IgnoreError(); }

Result<File> File::OpenRead(const std::string& path) {
  if (int e = InjectedIoFault(IoOp::kOpen)) return ErrnoError(path, e);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, errno);
  return File(fd, path);
}

Result<File> File::CreateExclusive(const std::string& path, int mode) {
  if (int e = InjectedIoFault(IoOp::kOpen)) return ErrnoError(path, e);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(path, errno);
  return File(fd, path);
}

Result<File> File::OpenWrite(const std::string& path) {
  if (int e = InjectedIoFault(IoOp::kOpen)) return ErrnoError(path, e);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, errno);
  return File(fd, path);
}

File File::Borrow(int fd, std::string name) {
  File f(fd, std::move(name));
  f.owned_ = false;
  return f;
}

void File::GrowPipeBuffer() {
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  // 1 MiB is also the unprivileged limit (/proc/sys/fs/pipe-max-size).
  (void)::fcntl(fd_, F_SETPIPE_SZ, 1 << 20);
}

Result<size_t> File::Read(std::span<uint8_t> out) {
  if (int e = InjectedIoFault(IoOp::kRead)) return ErrnoError(path_, e);
  for (;;) {
    ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError(path_, errno);
    // A signal interrupted a read that may block forever (a pipe): if it
    // asked us to stop, stop.
    RETURN_IF_ERROR(CheckCancelled());
  }
}

Result<size_t> File::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  if (int e = InjectedIoFault(IoOp::kRead)) return ErrnoError(path_, e);
  if (offset > static_cast<uint64_t>(INT64_MAX)) return size_t{0};
  for (;;) {
    ssize_t n =
        ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError(path_, errno);
  }
}

Status File::WriteAll(std::span<const uint8_t> data) {
  if (int e = InjectedIoFault(IoOp::kWrite)) return ErrnoError(path_, e);
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        RETURN_IF_ERROR(CheckCancelled());
        continue;
      }
      return ErrnoError(path_, errno);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return OkStatus();
}

namespace {

// Writes all of `data` at `offset`; returns 0 or the errno that stopped it.
int PwriteAll(int fd, uint64_t offset, std::span<const uint8_t> data) {
  while (!data.empty()) {
    ssize_t n =
        ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data = data.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

}  // namespace

Status File::WriteAllAt(uint64_t offset, std::span<const uint8_t> data) {
  if (int e = InjectedIoFault(IoOp::kWrite)) return ErrnoError(path_, e);
  if (int e = PwriteAll(fd_, offset, data)) return ErrnoError(path_, e);
  return OkStatus();
}

Status File::Sync() {
  if (int e = InjectedIoFault(IoOp::kSync)) return ErrnoError(path_, e);
  if (::fsync(fd_) != 0 && errno != EINVAL) return ErrnoError(path_, errno);
  return OkStatus();
}

Status File::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoError(path_, errno);
  }
  return OkStatus();
}

Result<uint64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoError(path_, errno);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (::ioctl(fd_, BLKGETSIZE64, &bytes) != 0) {
      return ErrnoError(path_, errno);
    }
    return bytes;
  }
  return static_cast<uint64_t>(st.st_size);
}

bool File::IsSeekable() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return false;
  return S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
}

Status File::Close() {
  if (fd_ < 0) return OkStatus();
  int fd = fd_;
  fd_ = -1;
  if (!owned_) return OkStatus();
  if (::close(fd) != 0 && errno != EINTR) return ErrnoError(path_, errno);
  return OkStatus();
}

Result<std::unique_ptr<FileRandomAccess>> FileRandomAccess::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(File f, File::OpenRead(path));
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  return std::make_unique<FileRandomAccess>(std::move(f), size);
}

Result<size_t> FileRandomAccess::ReadAt(uint64_t offset,
                                        std::span<uint8_t> out) {
  if (offset >= size_) return size_t{0};
  if (out.size() > size_ - offset) out = out.first(size_ - offset);
  return file_.ReadAt(offset, out);
}

bool FileBlockSink::SetDirect(bool on) {
  int flags = ::fcntl(file_.fd(), F_GETFL);
  if (flags < 0) return false;
  int want = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  if (want != flags && ::fcntl(file_.fd(), F_SETFL, want) != 0) return false;
  direct_on_ = on;
  return true;
}

bool FileBlockSink::Aligned(uint64_t offset,
                            std::span<const uint8_t> data) const {
  constexpr uint64_t kAlign = AlignedBuffer::kAlignment;
  return direct_allowed_ && !data.empty() && offset % kAlign == 0 &&
         data.size() % kAlign == 0 &&
         reinterpret_cast<uintptr_t>(data.data()) % kAlign == 0;
}

Status FileBlockSink::WriteVectorAt(
    uint64_t offset, std::span<const std::span<const uint8_t>> pieces) {
  bool aligned =
      direct_allowed_ && pieces.size() > 1 && pieces.size() <= IOV_MAX;
  uint64_t at = offset;
  for (size_t i = 0; aligned && i < pieces.size(); ++i) {
    aligned = Aligned(at, pieces[i]);
    at += pieces[i].size();
  }
  if (!aligned || (!direct_on_ && !SetDirect(true))) {
    return BlockSink::WriteVectorAt(offset, pieces);
  }
  if (int e = InjectedIoFault(IoOp::kWrite)) {
    return ErrnoError(file_.path(), e);
  }
  std::vector<iovec> iov(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    iov[i] = {const_cast<uint8_t*>(pieces[i].data()), pieces[i].size()};
  }
  size_t first = 0;
  const uint64_t start = offset;
  while (first < iov.size()) {
    ssize_t n = ::pwritev(file_.fd(), iov.data() + first,
                          static_cast<int>(iov.size() - first),
                          static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && offset == start) {
      // As in WriteAt(): direct I/O refused after all; through the cache.
      direct_allowed_ = false;
      SetDirect(false);
      return BlockSink::WriteVectorAt(offset, pieces);
    }
    if (n < 0) return ErrnoError(file_.path(), errno);
    offset += static_cast<uint64_t>(n);
    direct_bytes_ += static_cast<uint64_t>(n);
    // Skip what was written: whole iovecs, then part of the next (a short
    // direct write still ends on an aligned boundary).
    size_t done = static_cast<size_t>(n);
    while (first < iov.size() && done >= iov[first].iov_len) {
      done -= iov[first].iov_len;
      ++first;
    }
    if (done > 0) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + done;
      iov[first].iov_len -= done;
    }
  }
  return OkStatus();
}

Status FileBlockSink::WriteAt(uint64_t offset, std::span<const uint8_t> data) {
  bool aligned = Aligned(offset, data);
  if (aligned != direct_on_ && !SetDirect(aligned)) {
    // The file system has no direct I/O (or will not switch back, which
    // Linux does not refuse): everything through the cache.
    direct_allowed_ = false;
    aligned = false;
    if (direct_on_) SetDirect(false);
  }
  if (!aligned) return file_.WriteAllAt(offset, data);
  if (int e = InjectedIoFault(IoOp::kWrite)) {
    return ErrnoError(file_.path(), e);
  }
  int e = PwriteAll(file_.fd(), offset, data);
  if (e == EINVAL) {
    // Some file systems accept the flag and refuse the write (alignment
    // stricter than 4 KiB): give up on direct I/O and write it again
    // through the cache. Rewriting bytes already written is harmless.
    direct_allowed_ = false;
    SetDirect(false);
    return file_.WriteAllAt(offset, data);
  }
  if (e != 0) return ErrnoError(file_.path(), e);
  direct_bytes_ += data.size();
  return OkStatus();
}

FileSink::FileSink(File& file, size_t buffer_size)
    : file_(file), buffer_(buffer_size) {}

Status FileSink::Write(std::span<const uint8_t> data) {
  // Large pieces (a batch of compressed grains) go straight to the file
  // after what is buffered: copying them would cost more than the system
  // call it saves. Small ones (markers, tables) are gathered.
  if (data.size() >= buffer_.size() / 4) {
    RETURN_IF_ERROR(Flush());
    RETURN_IF_ERROR(file_.WriteAll(data));
    written_ += data.size();
    return OkStatus();
  }
  if (used_ + data.size() > buffer_.size()) RETURN_IF_ERROR(Flush());
  std::memcpy(buffer_.data() + used_, data.data(), data.size());
  used_ += data.size();
  written_ += data.size();
  return OkStatus();
}

Status FileSink::Flush() {
  if (used_ == 0) return OkStatus();
  size_t n = used_;
  used_ = 0;
  return file_.WriteAll({buffer_.data(), n});
}

Status FileSink::Close() { return Flush(); }

Result<std::unique_ptr<TempOutputFile>> TempOutputFile::Create(
    const std::string& final_path, bool replace) {
  std::string dir = ".";
  std::string base = final_path;
  if (size_t slash = final_path.rfind('/'); slash != std::string::npos) {
    dir = final_path.substr(0, slash == 0 ? 1 : slash);
    base = final_path.substr(slash + 1);
  }
  if (base.empty()) return UsageError(Quote(final_path) + ": not a file name");
  if (!replace && ::access(final_path.c_str(), F_OK) == 0) {
    return ExistsError(final_path + ": already exists");
  }
  std::string tmpl = dir + "/." + base + std::string(kTempMarker) + "XXXXXX";
  if (int e = InjectedIoFault(IoOp::kOpen)) return ErrnoError(final_path, e);
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(dir, errno);
  std::unique_ptr<TempOutputFile> t(new TempOutputFile());
  t->file_ = File(fd, tmpl);
  t->temp_path_ = tmpl;
  t->final_path_ = final_path;
  t->replace_ = replace;
  return t;
}

TempOutputFile::~TempOutputFile() {
  if (!committed_ && !temp_path_.empty()) {
    file_.Close().IgnoreError();
    ::unlink(temp_path_.c_str());
  }
}

Status TempOutputFile::Commit() {
  RETURN_IF_ERROR(file_.Sync());
  RETURN_IF_ERROR(file_.Close());
  int flags = replace_ ? 0 : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(),
                  flags) != 0) {
    int e = errno;
    if (e == EEXIST) return ExistsError(final_path_ + ": already exists");
    return ErrnoError(final_path_, e);
  }
  committed_ = true;
  return OkStatus();
}

Result<std::string> ReadSmallFile(const std::string& path, size_t cap) {
  ASSIGN_OR_RETURN(File f, File::OpenRead(path));
  FileSource src(std::move(f));
  auto r = ReadAllCapped(src, cap);
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Status WriteFileAtomically(const std::string& path, std::string_view data,
                           bool replace, int mode) {
  ASSIGN_OR_RETURN(auto out, TempOutputFile::Create(path, replace));
  RETURN_IF_ERROR(out->file().WriteAll(AsBytes(data)));
  if (::fchmod(out->file().fd(), static_cast<mode_t>(mode)) != 0) {
    return ErrnoError(out->temp_path(), errno);
  }
  return out->Commit();
}

}  // namespace ova2virt
