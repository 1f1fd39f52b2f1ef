// Package members from files on disk: an .ovf (or .vmx) and the files
// beside it. The descriptor comes first, then its manifest and certificate
// (same base name, .mf and .cert), then the files the reader asks for.
// Names have been validated by the reader; this file also refuses anything
// that is not a regular file inside the package directory.
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <deque>
#include <set>

#include "ova/member_name.h"
#include "ova/package_source.h"

namespace ova2virt {
namespace {

constexpr size_t kBufferSize = 1 << 20;

class FilesSource : public PackageSource {
 public:
  FilesSource(std::string dir, std::string descriptor, InputKind kind)
      : dir_(std::move(dir)),
        descriptor_(std::move(descriptor)),
        kind_(kind),
        buffer_(kBufferSize) {}

  Status Start() {
    char resolved[PATH_MAX];
    if (::realpath(dir_.c_str(), resolved) == nullptr) {
      return ErrnoError(dir_, errno);
    }
    real_dir_ = resolved;
    return OkStatus();
  }

  InputKind kind() const override { return kind_; }
  bool streamed() const override { return false; }
  std::string_view noun() const override { return "file"; }

  Result<std::optional<SourceEntry>> Next(const WantedFiles& wanted) override {
    file_.reset();
    pos_ = 0;
    while (true) {
      std::string name;
      bool optional = false;
      if (phase_ == 0) {
        name = descriptor_;
        phase_ = 1;
      } else if (phase_ == 1 || phase_ == 2) {
        // The manifest and certificate share the descriptor's base name.
        std::string ext = phase_ == 1 ? ".mf" : ".cert";
        ++phase_;
        if (kind_ == InputKind::kVmx) continue;
        name = descriptor_.substr(0, descriptor_.rfind('.')) + ext;
        optional = true;
      } else {
        for (std::string& w : wanted()) {
          if (queued_.insert(w).second) queue_.push_back(std::move(w));
        }
        if (queue_.empty()) return std::optional<SourceEntry>();
        name = std::move(queue_.front());
        queue_.pop_front();
        // Missing files are the reader's to report; skip them here.
        optional = true;
      }
      if (!yielded_.insert(name).second) continue;
      queued_.insert(name);
      ASSIGN_OR_RETURN(bool opened, OpenMember(name, optional));
      if (!opened) continue;
      SourceEntry entry;
      entry.name = name;
      entry.type = TarEntryType::kFile;
      entry.size = static_cast<int64_t>(file_->size());
      return std::optional<SourceEntry>(std::move(entry));
    }
  }

  Result<std::span<const uint8_t>> ReadBlock() override {
    if (!file_) return std::span<const uint8_t>();
    ASSIGN_OR_RETURN(size_t n, file_->ReadAt(pos_, buffer_));
    pos_ += n;
    return std::span<const uint8_t>(buffer_.data(), n);
  }

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (!file_) return size_t{0};
    ASSIGN_OR_RETURN(size_t n, file_->ReadAt(pos_, out));
    pos_ += n;
    return n;
  }

  Status Skip() override {
    file_.reset();
    return OkStatus();
  }

  RandomAccessSource* InPlace() override { return file_.get(); }
  uint64_t position() const override { return 0; }
  std::optional<uint64_t> bound() const override { return std::nullopt; }

 private:
  // Opens `name` (a validated relative name) as the current member. Returns
  // false when it does not exist and `optional` is set.
  Result<bool> OpenMember(const std::string& name, bool optional) {
    const std::string path = dir_ + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT && optional) return false;
      return ErrnoError(path, errno);
    }
    // A fifo would block us, a device is not a package file.
    if (!S_ISREG(st.st_mode)) {
      return CorruptError("file " + Quote(name) + ": not a regular file");
    }
    // A symbolic link may point anywhere; inside the package it is fine.
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
      return ErrnoError(path, errno);
    }
    const std::string inside = real_dir_ == "/" ? "/" : real_dir_ + "/";
    if (std::string_view(resolved).substr(0, inside.size()) != inside) {
      return CorruptError("file " + Quote(name) +
                          ": symbolic link leaves the package directory");
    }
    ASSIGN_OR_RETURN(file_, FileRandomAccess::Open(path));
    return true;
  }

  std::string dir_;
  std::string real_dir_;
  std::string descriptor_;
  InputKind kind_;
  int phase_ = 0;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  std::set<std::string> yielded_;
  std::unique_ptr<FileRandomAccess> file_;
  uint64_t pos_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Result<std::unique_ptr<PackageSource>> OpenFilesOnDisk(
    const std::string& dir, const std::string& descriptor, InputKind kind) {
  auto s = std::make_unique<FilesSource>(dir, descriptor, kind);
  RETURN_IF_ERROR(s->Start());
  return std::unique_ptr<PackageSource>(std::move(s));
}

}  // namespace ova2virt
