#include "pipeline/disk_destination.h"

#include "core/file.h"
#include "core/image_file_sink.h"
#include "core/write_behind.h"

namespace ova2virt {
namespace {

// Disk images written to files (see ImageFileSink).
class FileDestination : public DiskDestination {
 public:
  FileDestination(std::unique_ptr<TempOutputFile> out, Transaction& txn)
      : out_(std::move(out)), image_(out_->file()), txn_(txn) {}
  BlockSink& sink() override { return image_.sink(); }
  Status Commit() override {
    RETURN_IF_ERROR(image_.Flush());
    RETURN_IF_ERROR(out_->Commit());
    // From now on the file has its final name: the transaction removes it
    // if a later step fails.
    txn_.AddFile(out_->final_path());
    return txn_.journal_status();
  }
  std::string path() const override { return out_->final_path(); }

 private:
  std::unique_ptr<TempOutputFile> out_;
  ImageFileSink image_;
  Transaction& txn_;
};

class InPlaceVolume : public DiskDestination {
 public:
  InPlaceVolume(File file, std::string path)
      : file_(std::move(file)), image_(file_), path_(std::move(path)) {}
  BlockSink& sink() override { return image_.sink(); }
  Status Commit() override {
    RETURN_IF_ERROR(image_.Flush());
    return file_.Sync();
  }
  std::string path() const override { return path_; }

 private:
  File file_;
  ImageFileSink image_;
  std::string path_;
};

// A volume upload stream, fed from a thread of its own as a file is: the
// conversion goes on while the stream waits for the daemon.
class UploadedVolume : public DiskDestination {
 public:
  UploadedVolume(std::unique_ptr<BlockSink> upload, std::string path)
      : upload_(std::move(upload)), behind_(*upload_), path_(std::move(path)) {}
  BlockSink& sink() override { return behind_; }
  Status Commit() override { return behind_.Close(); }
  std::string path() const override { return path_; }

 private:
  std::unique_ptr<BlockSink> upload_;
  WriteBehindSink behind_;  // after upload_: destroyed (joined) first
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<DiskDestination>> OpenFileDestination(
    const std::string& path, bool replace, Transaction& txn) {
  ASSIGN_OR_RETURN(std::unique_ptr<TempOutputFile> out,
                   TempOutputFile::Create(path, replace));
  // Removed by `out` itself on any failure; journaled for a SIGKILL.
  txn.NoteTemporary(out->temp_path());
  RETURN_IF_ERROR(txn.journal_status());
  return std::unique_ptr<DiskDestination>(
      std::make_unique<FileDestination>(std::move(out), txn));
}

Result<std::unique_ptr<DiskDestination>> OpenVolumeDestination(
    Connection& conn, const std::string& pool, const std::string& name,
    uint64_t capacity, const std::string& format, bool in_place,
    Transaction& txn, Diagnostics* diags) {
  txn.JournalVolumeAhead(pool, name);
  RETURN_IF_ERROR(txn.journal_status());
  Result<Volume> created = conn.CreateVolume(pool, name, capacity, format);
  if (!created.ok()) {
    // A create whose reply was lost may have happened all the same. The
    // plan checked the name was free, and a namesake made since would
    // have failed this call with kExists: one there now is ours.
    if (created.status().code() != ErrorCode::kExists) {
      auto exists = conn.VolumeExists(pool, name);
      if (exists.ok() && *exists) txn.AddVolume(pool, name);
    }
    return created.status();
  }
  Volume volume = std::move(created).value();
  txn.AddVolume(pool, name);
  RETURN_IF_ERROR(txn.journal_status());
  if (in_place && !volume.path.empty()) {
    // libvirt made the file (mode 0600); writing it directly saves a copy
    // through the daemon. If we may not open it, the stream still works.
    Result<File> file = File::OpenWrite(volume.path);
    if (file.ok()) {
      return std::unique_ptr<DiskDestination>(std::make_unique<InPlaceVolume>(
          std::move(file).value(), volume.path));
    }
    if (diags) {
      diags->Warn("import.upload-fallback", pool + "/" + name,
                  "cannot write the volume's file in place (" +
                      file.status().message() +
                      "): sending it through libvirt instead");
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<BlockSink> upload,
                   conn.OpenUpload(pool, name));
  return std::unique_ptr<DiskDestination>(
      std::make_unique<UploadedVolume>(std::move(upload), volume.path));
}

}  // namespace ova2virt
