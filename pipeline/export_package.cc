#include "pipeline/export_package.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/file.h"
#include "ova/member_name.h"
#include "ova/ova_writer.h"

namespace ova2virt {
namespace {

std::string RoleOf(const std::string& name) {
  if (HasExtension(name, ".ovf")) return "descriptor";
  if (HasExtension(name, ".mf")) return "manifest";
  if (HasExtension(name, ".cert")) return "certificate";
  if (HasExtension(name, ".vmdk")) return "disk";
  return "image";
}

// --- OVA ------------------------------------------------------------------

class OvaPackage : public ExportPackage {
 public:
  static Result<std::unique_ptr<ExportPackage>> Create(
      const std::string& path, const PackageLayout& layout) {
    std::unique_ptr<OvaPackage> p(new OvaPackage(layout));
    ASSIGN_OR_RETURN(p->out_, TempOutputFile::Create(path));
    p->sink_ = std::make_unique<FileBlockSink>(p->out_->file());
    OvaWriter::Options options;
    options.digest = layout.digest;
    p->ova_ = std::make_unique<OvaWriter>(*p->sink_, options);
    ASSIGN_OR_RETURN(
        p->descriptor_,
        p->ova_->ReserveFile(layout.descriptor, layout.descriptor_size));
    ASSIGN_OR_RETURN(p->manifest_, p->ova_->ReserveFile(layout.manifest,
                                                        layout.manifest_size));
    if (!layout.certificate.empty()) {
      ASSIGN_OR_RETURN(
          p->certificate_,
          p->ova_->ReserveFile(layout.certificate, layout.certificate_size));
    }
    return std::unique_ptr<ExportPackage>(std::move(p));
  }

  Result<ByteSink*> BeginFile(const std::string& name,
                              uint64_t size_limit) override {
    return ova_->BeginStream(name, size_limit);
  }

  Result<ExportedFile> EndFile() override {
    RETURN_IF_ERROR(ova_->EndStream());
    return FileAt(ova_->members().size() - 1);
  }

  Result<ExportedFile> PutDescriptor(std::string_view text) override {
    RETURN_IF_ERROR(Fill(descriptor_, text, /*pad=*/true));
    return FileAt(descriptor_);
  }
  Status PutManifest(std::string_view text) override {
    return Fill(manifest_, text, /*pad=*/false);
  }
  Status PutCertificate(std::string_view text) override {
    if (!certificate_) return FailedError("no certificate was reserved");
    return Fill(*certificate_, text, /*pad=*/true);
  }

  Status Commit() override {
    RETURN_IF_ERROR(ova_->Finish());
    return out_->Commit();
  }

  std::vector<ExportedFile> Files() const override {
    std::vector<ExportedFile> out;
    for (size_t i = 0; i < ova_->members().size(); ++i) {
      out.push_back(FileAt(i));
    }
    return out;
  }
  uint64_t Bytes() const override { return ova_->size(); }

 private:
  explicit OvaPackage(const PackageLayout& layout) : layout_(layout) {}

  ExportedFile FileAt(size_t i) const {
    const WrittenMember& m = ova_->members()[i];
    return {m.info.name, RoleOf(m.info.name), m.info.offset, m.info.size,
            m.digest};
  }

  Status Fill(size_t index, std::string_view text, bool pad) {
    const MemberInfo& m = ova_->members()[index].info;
    std::optional<std::string> bytes =
        pad ? PadWithBlanks(text, m.size)
            : (text.size() == m.size ? std::optional<std::string>(text)
                                     : std::nullopt);
    if (!bytes) {
      return FailedError("member " + Quote(m.name) + ": " +
                         std::to_string(text.size()) +
                         " bytes do not fit the " + std::to_string(m.size) +
                         " reserved for them");
    }
    return ova_->FillReserved(index, AsBytes(*bytes));
  }

  PackageLayout layout_;
  std::unique_ptr<TempOutputFile> out_;
  std::unique_ptr<FileBlockSink> sink_;
  std::unique_ptr<OvaWriter> ova_;
  size_t descriptor_ = 0, manifest_ = 0;
  std::optional<size_t> certificate_;
};

// --- directory --------------------------------------------------------------

// A new file in the directory, hashed and counted as it is written.
class HashingFileSink : public ByteSink {
 public:
  HashingFileSink(File file, DigestAlgorithm algorithm)
      : file_(std::move(file)), sink_(file_), hasher_(algorithm) {}
  Status Write(std::span<const uint8_t> data) override {
    RETURN_IF_ERROR(sink_.Write(data));
    hasher_.Update(data);
    size_ += data.size();
    return OkStatus();
  }
  // Flushes, syncs and closes; returns the digest.
  Result<std::string> Finish() {
    RETURN_IF_ERROR(sink_.Close());
    RETURN_IF_ERROR(file_.Sync());
    RETURN_IF_ERROR(file_.Close());
    return hasher_.FinishHex();
  }
  uint64_t size() const { return size_; }

 private:
  File file_;
  FileSink sink_;
  Hasher hasher_;
  uint64_t size_ = 0;
};

class DirectoryPackage : public ExportPackage {
 public:
  static Result<std::unique_ptr<ExportPackage>> Create(
      const std::string& path, const PackageLayout& layout) {
    std::filesystem::path final_path(path);
    while (final_path.has_parent_path() && !final_path.has_filename()) {
      final_path = final_path.parent_path();  // "out/" -> "out"
    }
    std::string base = final_path.filename().string();
    if (base.empty() || base == "." || base == "..") {
      return UsageError(Quote(path) + ": not a directory name");
    }
    std::error_code ec;
    if (std::filesystem::symlink_status(final_path, ec).type() !=
        std::filesystem::file_type::not_found) {
      return ExistsError(path + ": already exists");
    }
    std::string parent = final_path.parent_path().string();
    if (parent.empty()) parent = ".";
    std::string tmpl =
        parent + "/." + base + std::string(kTempMarker) + "XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoError(parent, errno);
    std::unique_ptr<DirectoryPackage> p(new DirectoryPackage(layout));
    p->final_ = final_path.string();
    p->temp_ = tmpl;
    // The descriptor, manifest and certificate come first, as in an OVA.
    p->files_.push_back({layout.descriptor, "descriptor", 0, 0, ""});
    p->files_.push_back({layout.manifest, "manifest", 0, 0, ""});
    if (!layout.certificate.empty()) {
      p->files_.push_back({layout.certificate, "certificate", 0, 0, ""});
    }
    return std::unique_ptr<ExportPackage>(std::move(p));
  }

  ~DirectoryPackage() override {
    open_.reset();
    if (!committed_ && !temp_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(temp_, ec);
    }
  }

  Result<ByteSink*> BeginFile(const std::string& name, uint64_t) override {
    if (open_) return FailedError("file " + Quote(name) + ": one is open");
    ASSIGN_OR_RETURN(std::string safe, ValidateMemberName(name));
    ASSIGN_OR_RETURN(File f, File::CreateExclusive(temp_ + "/" + safe));
    open_ = std::make_unique<HashingFileSink>(std::move(f), layout_.digest);
    open_name_ = safe;
    return static_cast<ByteSink*>(open_.get());
  }

  Result<ExportedFile> EndFile() override {
    if (!open_) return FailedError("no file is open");
    ASSIGN_OR_RETURN(std::string digest, open_->Finish());
    ExportedFile f{open_name_, RoleOf(open_name_), 0, open_->size(), digest};
    open_.reset();
    files_.push_back(f);
    bytes_ += f.size;
    return f;
  }

  Result<ExportedFile> PutDescriptor(std::string_view text) override {
    RETURN_IF_ERROR(Put(0, text));
    return files_[0];
  }
  Status PutManifest(std::string_view text) override { return Put(1, text); }
  Status PutCertificate(std::string_view text) override {
    if (layout_.certificate.empty()) {
      return FailedError("no certificate was planned");
    }
    return Put(2, text);
  }

  Status Commit() override {
    // The files are synced; the directory's entries must be too before
    // the rename makes them visible under the final name.
    int fd = ::open(temp_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(temp_, errno);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError(temp_, e);
    if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, final_.c_str(),
                    RENAME_NOREPLACE) != 0) {
      e = errno;
      if (e == EEXIST) return ExistsError(final_ + ": already exists");
      return ErrnoError(final_, e);
    }
    committed_ = true;
    return OkStatus();
  }

  std::vector<ExportedFile> Files() const override { return files_; }
  uint64_t Bytes() const override { return bytes_; }

 private:
  explicit DirectoryPackage(const PackageLayout& layout) : layout_(layout) {}

  Status Put(size_t index, std::string_view text) {
    ExportedFile& f = files_[index];
    ASSIGN_OR_RETURN(File file, File::CreateExclusive(temp_ + "/" + f.name));
    HashingFileSink sink(std::move(file), layout_.digest);
    RETURN_IF_ERROR(sink.Write(AsBytes(text)));
    ASSIGN_OR_RETURN(f.digest, sink.Finish());
    f.size = text.size();
    bytes_ += f.size;
    return OkStatus();
  }

  PackageLayout layout_;
  std::string final_, temp_;
  bool committed_ = false;
  std::vector<ExportedFile> files_;
  uint64_t bytes_ = 0;
  std::unique_ptr<HashingFileSink> open_;
  std::string open_name_;
};

}  // namespace

std::optional<std::string> PadWithBlanks(std::string_view text, uint64_t size) {
  if (text.size() > size) return std::nullopt;
  std::string out(text);
  if (out.size() < size) {
    out.append(size - out.size() - 1, ' ');
    out += '\n';
  }
  return out;
}

Result<std::unique_ptr<ExportPackage>> ExportPackage::CreateOva(
    const std::string& path, const PackageLayout& layout) {
  return OvaPackage::Create(path, layout);
}

Result<std::unique_ptr<ExportPackage>> ExportPackage::CreateDirectory(
    const std::string& path, const PackageLayout& layout) {
  return DirectoryPackage::Create(path, layout);
}

}  // namespace ova2virt
