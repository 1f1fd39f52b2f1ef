#include "pipeline/disk_destination.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/file.h"

namespace ova2virt {
namespace {

// Disk images written to files: small appends gathered into large writes,
// and large aligned writes past the page cache (see GatheringBlockSink and
// FileBlockSink).
class FileDestination : public DiskDestination {
 public:
  FileDestination(std::unique_ptr<TempOutputFile> out, Transaction& txn)
      : out_(std::move(out)),
        file_sink_(out_->file(), FileBlockSink::Mode::kDirectWhenAligned),
        sink_(file_sink_),
        txn_(txn) {}
  BlockSink& sink() override { return sink_; }
  Status Commit() override {
    RETURN_IF_ERROR(sink_.Flush());
    RETURN_IF_ERROR(out_->Commit());
    // From now on the file has its final name: the transaction removes it
    // if a later step fails.
    txn_.AddFile(out_->final_path());
    return txn_.journal_status();
  }
  std::string path() const override { return out_->final_path(); }

 private:
  std::unique_ptr<TempOutputFile> out_;
  FileBlockSink file_sink_;
  GatheringBlockSink sink_;
  Transaction& txn_;
};

class InPlaceVolume : public DiskDestination {
 public:
  InPlaceVolume(File file, std::string path)
      : file_(std::move(file)),
        file_sink_(file_, FileBlockSink::Mode::kDirectWhenAligned),
        sink_(file_sink_),
        path_(std::move(path)) {}
  BlockSink& sink() override { return sink_; }
  Status Commit() override {
    RETURN_IF_ERROR(sink_.Flush());
    return file_.Sync();
  }
  std::string path() const override { return path_; }

 private:
  File file_;
  FileBlockSink file_sink_;
  GatheringBlockSink sink_;
  std::string path_;
};

// Hands writes to a thread of its own that passes them to `inner`, so that
// the converter goes on while an upload stream waits for the daemon. Up to
// `max_bytes` are queued (copies); an error of the inner sink is returned
// by the next call, Close() at the latest, and what is queued after it is
// dropped.
class SenderThreadSink : public BlockSink {
 public:
  SenderThreadSink(BlockSink& inner, size_t max_bytes)
      : inner_(inner), max_bytes_(max_bytes), thread_([this] { Run(); }) {}
  ~SenderThreadSink() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    if (data.empty()) return OkStatus();
    std::vector<uint8_t> buf;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return !status_.ok() || queued_bytes_ == 0 ||
               queued_bytes_ + data.size() <= max_bytes_;
      });
      if (!status_.ok()) return status_;
      if (!free_.empty()) {
        buf = std::move(free_.back());
        free_.pop_back();
      }
      queued_bytes_ += data.size();
    }
    buf.assign(data.begin(), data.end());
    Push({Op::kWrite, offset, std::move(buf)});
    return OkStatus();
  }

  Status SetSize(uint64_t size) override {
    Push({Op::kSetSize, size, {}});
    return CurrentStatus();
  }

  Status Close() override {
    Push({Op::kClose, 0, {}});
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_; });
    return status_;
  }

 private:
  struct Op {
    enum Kind { kWrite, kSetSize, kClose } kind;
    uint64_t offset;  // kSetSize: the size
    std::vector<uint8_t> data;
  };

  Status CurrentStatus() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  void Push(Op op) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(op));
    }
    cv_.notify_all();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopped
      Op op = std::move(queue_.front());
      queue_.pop_front();
      bool failed = !status_.ok() || stop_;
      lock.unlock();
      Status s;
      if (!failed) {
        switch (op.kind) {
          case Op::kWrite:
            s = inner_.WriteAt(op.offset, op.data);
            break;
          case Op::kSetSize:
            s = inner_.SetSize(op.offset);
            break;
          case Op::kClose:
            s = inner_.Close();
            break;
        }
      }
      lock.lock();
      if (status_.ok() && !s.ok()) status_ = s;
      if (op.kind == Op::kWrite) {
        queued_bytes_ -= op.data.size();
        if (free_.size() < 4) free_.push_back(std::move(op.data));
      }
      if (op.kind == Op::kClose) closed_ = true;
      cv_.notify_all();
    }
  }

  BlockSink& inner_;
  const size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> queue_;
  std::vector<std::vector<uint8_t>> free_;  // buffers to reuse
  size_t queued_bytes_ = 0;
  Status status_;
  bool closed_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is made
};

class UploadedVolume : public DiskDestination {
 public:
  UploadedVolume(std::unique_ptr<BlockSink> upload, std::string path)
      : upload_(std::move(upload)),
        sender_(*upload_, kUploadQueue),
        path_(std::move(path)) {}
  BlockSink& sink() override { return sender_; }
  Status Commit() override { return sender_.Close(); }
  std::string path() const override { return path_; }

 private:
  // Bytes a stream may have queued in the client: a few of libvirt's
  // messages.
  static constexpr size_t kUploadQueue = 8 << 20;
  std::unique_ptr<BlockSink> upload_;
  SenderThreadSink sender_;  // after upload_: stopped before it goes
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
