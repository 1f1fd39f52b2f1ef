// Package members from a tar: a seekable file (skips and read-ahead by
// seeking; members readable in place) or a pipe (strictly forward).
#include <algorithm>

#include "ova/member_name.h"
#include "ova/package_source.h"

namespace ova2virt {
namespace {

// How far past the end-of-archive blocks we look for stray data. Tar
// writers pad to a record (10 KiB by default); more than this is not
// padding.
constexpr uint64_t kTrailingScan = 1 << 20;
// Reads of a member's rest that nobody consumes (hashing only).
constexpr size_t kBlockSize = 1 << 20;

class TarSource : public PackageSource {
 public:
  TarSource(std::unique_ptr<FileRandomAccess> file,
            std::unique_ptr<ByteSource> pipe, bool gzip)
      : file_(std::move(file)), pipe_(std::move(pipe)), gzip_(gzip) {}

  Status Start() {
    if (file_) {
      ASSIGN_OR_RETURN(tar_, TarStream::Open(*file_));
    } else {
      ASSIGN_OR_RETURN(tar_, TarStream::Open(*pipe_));
    }
    return OkStatus();
  }

  InputKind kind() const override {
    return gzip_ ? InputKind::kOvaGzip : InputKind::kOva;
  }
  bool streamed() const override { return pipe_ != nullptr; }
  std::string_view noun() const override { return "member"; }

  Result<std::optional<SourceEntry>> Next(const WantedFiles&) override {
    in_place_.reset();
    member_pos_ = 0;
    ASSIGN_OR_RETURN(std::optional<TarEntry> e, tar_->Next());
    if (!e) return std::optional<SourceEntry>();
    SourceEntry out;
    out.name = std::move(e->name);
    out.type = e->type;
    out.link_target = std::move(e->link_target);
    out.size = e->size;
    out.header_offset = e->header_offset;
    out.data_offset = e->data_offset;
    out.sparse = e->sparse;
    if (in_place_ok() && out.size >= 0 &&
        RangeFits(out.data_offset, static_cast<uint64_t>(out.size))) {
      in_place_ = std::make_unique<SliceRandomAccess>(
          *file_, out.data_offset, static_cast<uint64_t>(out.size));
    }
    return std::optional<SourceEntry>(std::move(out));
  }

  // A member of a seekable, uncompressed tar is read in place with pread,
  // straight into the caller's buffer: libarchive would read it into its
  // own buffer first and Read() would copy it out (a second copy of every
  // byte). libarchive only skips the member afterwards, by seeking.
  Result<std::span<const uint8_t>> ReadBlock() override {
    if (!in_place_) return tar_->ReadBlock();
    block_.resize(kBlockSize);
    ASSIGN_OR_RETURN(size_t n, Read(block_));
    return std::span<const uint8_t>(block_.data(), n);
  }
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (!in_place_) return tar_->Read(out);
    ASSIGN_OR_RETURN(size_t n, in_place_->ReadAt(member_pos_, out));
    member_pos_ += n;
    return n;
  }
  Status Skip() override { return tar_->Skip(); }
  RandomAccessSource* InPlace() override { return in_place_.get(); }
  uint64_t position() const override { return tar_->position(); }

  std::optional<uint64_t> bound() const override {
    if (!in_place_ok()) return std::nullopt;
    return file_->size();
  }

  ManifestAhead ReadManifestAhead(size_t cap) override {
    using Outcome = ManifestAhead::Outcome;
    if (!in_place_ok()) return {};
    // A second, independent pass over the same file: headers only. Any
    // trouble here is left for the main pass to report.
    auto scan = TarStream::Open(*file_);
    if (!scan.ok()) return {};
    for (;;) {
      auto e = (*scan)->Next();
      if (!e.ok()) return {};
      if (!e->has_value()) return {Outcome::kNone, "", ""};
      const TarEntry& entry = **e;
      if (entry.type != TarEntryType::kFile ||
          !HasExtension(entry.name, ".mf") || IsAppleDouble(entry.name)) {
        continue;
      }
      if (entry.size < 0 || static_cast<uint64_t>(entry.size) > cap) {
        return {};
      }
      auto name = ValidateMemberName(entry.name);
      if (!name.ok()) return {};
      std::string text(static_cast<size_t>(entry.size), '\0');
      Status read =
          ReadExactlyAt(*file_, entry.data_offset,
                        {reinterpret_cast<uint8_t*>(text.data()), text.size()});
      if (!read.ok()) return {};
      return {Outcome::kFound, std::move(*name), std::move(text)};
    }
  }

  void CheckEnd(Diagnostics& warnings) override {
    const std::string where = "byte " + std::to_string(tar_->end_of_entries());
    if (tar_->end_blocks() == 0) {
      warnings.Warn("ova.tar-end", where,
                    "the archive has no end-of-archive blocks: it may be "
                    "truncated");
    } else if (tar_->end_blocks() == 1) {
      warnings.Warn("ova.tar-end", where,
                    "the archive ends with one zero block instead of two");
    }
    if (!in_place_ok()) return;
    // Data after the end is invisible to tar readers but may be seen by
    // other tools: say so.
    uint64_t end = tar_->position();
    uint64_t size = file_->size();
    if (end >= size) return;
    std::vector<uint8_t> buf(
        static_cast<size_t>(std::min<uint64_t>(size - end, kTrailingScan)));
    if (Status s = ReadExactlyAt(*file_, end, buf); !s.ok()) {
      warnings.Warn(
          "ova.trailing-data", "byte " + std::to_string(end),
          "cannot check what follows the end of the archive: " + s.message());
      return;
    }
    bool nonzero =
        std::any_of(buf.begin(), buf.end(), [](uint8_t b) { return b != 0; });
    if (nonzero || size - end > kTrailingScan) {
      warnings.Warn("ova.trailing-data", "byte " + std::to_string(end),
                    std::to_string(size - end) +
                        " bytes follow the end of the archive and are "
                        "ignored");
    }
  }

  std::vector<std::string> TakeWarnings() override {
    return tar_->TakeWarnings();
  }

 private:
  bool in_place_ok() const { return file_ != nullptr && !gzip_; }
  bool RangeFits(uint64_t offset, uint64_t size) const {
    return offset <= file_->size() && size <= file_->size() - offset;
  }

  std::unique_ptr<FileRandomAccess> file_;
  std::unique_ptr<ByteSource> pipe_;
  bool gzip_;
  std::unique_ptr<TarStream> tar_;
  std::unique_ptr<SliceRandomAccess> in_place_;
  uint64_t member_pos_ = 0;  // bytes of the member read in place
  std::vector<uint8_t> block_;
};

}  // namespace

Result<std::unique_ptr<PackageSource>> OpenTarFile(
    std::unique_ptr<FileRandomAccess> file, bool gzip) {
  auto s = std::make_unique<TarSource>(std::move(file), nullptr, gzip);
  RETURN_IF_ERROR(s->Start());
  return std::unique_ptr<PackageSource>(std::move(s));
}

Result<std::unique_ptr<PackageSource>> OpenTarPipe(
    std::unique_ptr<ByteSource> stream, bool gzip) {
  auto s = std::make_unique<TarSource>(nullptr, std::move(stream), gzip);
  RETURN_IF_ERROR(s->Start());
  return std::unique_ptr<PackageSource>(std::move(s));
}

}  // namespace ova2virt
