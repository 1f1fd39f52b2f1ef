// Volume uploads and downloads through libvirt streams: the path that
// works for a remote host as well as a local one.
#include <algorithm>
#include <vector>

#include "core/cancel.h"
#include "core/checked_math.h"
#include "virtdriver/connection_impl.h"
#include "virtdriver/libvirt_faults.h"

namespace ova2virt {
namespace {

// Ends a stream that will not be finished (a failure, an interrupt): the
// daemon drops what was sent; libvirt's error about it is not news.
void AbortStream(virt::StreamHandle& stream) {
  if (!stream) return;
  virStreamAbort(stream.get());
  virResetLastError();
  stream.reset();
}

using virt::LastError;

// One virStreamSend, one RPC message: a bit below libvirt's legacy 256 KiB
// payload, as virsh sends. libvirt 9 takes messages up to 32 MiB, but
// measured into a dir pool (docs/performance.md, "Upload stream") 4 and
// 16 MiB messages cost the daemon more CPU (a fresh buffer per message,
// copies that leave the cache) and 64 KiB the client more system calls;
// 128 KiB to 1 MiB are alike within the noise.
constexpr size_t kChunk = 256 * 1024 - 1024;

class UploadSink : public BlockSink {
 public:
  UploadSink(virConnectPtr conn, virt::VolHandle vol, std::string where,
             bool sparse)
      : conn_(conn),
        vol_(std::move(vol)),
        where_(std::move(where)),
        sparse_(sparse) {}
  ~UploadSink() override { Abort(); }

  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    if (closed_) return FailedError(where_ + ": upload already closed");
    if (data.empty()) return OkStatus();
    RETURN_IF_ERROR(CheckCancelled());
    if (!stream_ || offset < pos_) {
      // A write behind the stream position (a header rewritten at the end)
      // cannot go back in a stream: finish this upload, start one there.
      RETURN_IF_ERROR(Finish());
      RETURN_IF_ERROR(Begin(offset));
    } else if (offset > pos_) {
      RETURN_IF_ERROR(SendGap(offset - pos_));
    }
    RETURN_IF_ERROR(SendData(data));
    auto end = CheckedAdd<uint64_t>(offset, data.size());
    if (!end) return UsageError(where_ + ": write past 2^64");
    high_ = std::max(high_, *end);
    return OkStatus();
  }

  Status SetSize(uint64_t size) override {
    size_ = size;
    return OkStatus();
  }

  Status Close() override {
    if (closed_) return OkStatus();
    // Extend to the size asked for: stream a hole (or zeros) to one byte
    // short of it, then that byte. A stream cannot shrink a volume.
    if (size_ && *size_ > high_) {
      if (!stream_ || pos_ != high_) {
        RETURN_IF_ERROR(Finish());
        RETURN_IF_ERROR(Begin(high_));
      }
      RETURN_IF_ERROR(SendGap(*size_ - high_ - 1));
      const uint8_t zero = 0;
      RETURN_IF_ERROR(SendData({&zero, 1}));
      high_ = *size_;
    } else if (size_ && *size_ < high_) {
      return UnsupportedError(where_ + ": cannot shrink a volume to " +
                              std::to_string(*size_) +
                              " bytes through an upload stream");
    }
    RETURN_IF_ERROR(Finish());
    closed_ = true;
    return OkStatus();
  }

 private:
  Status Begin(uint64_t offset) {
    stream_.reset(virStreamNew(conn_, 0));
    if (!stream_) return LastError(where_);
    if (sparse_) {
      if (virStorageVolUpload(vol_.get(), stream_.get(), offset, 0,
                              VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) == 0) {
        pos_ = offset;
        return OkStatus();
      }
      // An older daemon: plain streams, holes as zeros.
      virResetLastError();
      sparse_ = false;
      stream_.reset(virStreamNew(conn_, 0));
      if (!stream_) return LastError(where_);
    }
    if (virStorageVolUpload(vol_.get(), stream_.get(), offset, 0, 0) < 0) {
      stream_.reset();
      return LastError(where_ + ": cannot upload");
    }
    pos_ = offset;
    return OkStatus();
  }

  Status SendData(std::span<const uint8_t> data) {
    while (!data.empty()) {
      size_t n = std::min(data.size(), kChunk);
      RETURN_IF_ERROR(Injected(false));
      int sent = virStreamSend(stream_.get(),
                               reinterpret_cast<const char*>(data.data()), n);
      if (sent < 0) {
        Status s = LastError(where_ + " at byte " + std::to_string(pos_));
        Abort();
        return s;
      }
      data = data.subspan(static_cast<size_t>(sent));
      pos_ += static_cast<uint64_t>(sent);
      RETURN_IF_ERROR(Injected(true));
    }
    return OkStatus();
  }

  // The fault seam (libvirt_faults.h): a failed send aborts the stream,
  // as a real one does.
  Status Injected(bool after) {
    Status s =
        InjectedLibvirtFault(LibvirtStep::kUpload, after,
                             where_ + " at byte " + std::to_string(pos_));
    if (!s.ok()) Abort();
    return s;
  }

  Status SendGap(uint64_t length) {
    if (length == 0) return OkStatus();
    if (sparse_) {
      if (virStreamSendHole(stream_.get(), static_cast<long long>(length), 0) <
          0) {
        Status s = LastError(where_ + " at byte " + std::to_string(pos_));
        Abort();
        return s;
      }
      pos_ += length;
      return OkStatus();
    }
    static const std::vector<uint8_t> kZeros(kChunk, 0);
    while (length > 0) {
      RETURN_IF_ERROR(CheckCancelled());
      size_t n = static_cast<size_t>(std::min<uint64_t>(length, kChunk));
      RETURN_IF_ERROR(SendData({kZeros.data(), n}));
      length -= n;
    }
    return OkStatus();
  }

  Status Finish() {
    if (!stream_) return OkStatus();
    RETURN_IF_ERROR(Injected(false));
    int rc = virStreamFinish(stream_.get());
    Status s = rc < 0 ? LastError(where_ + ": upload failed") : OkStatus();
    stream_.reset();
    return s;
  }

  void Abort() { AbortStream(stream_); }

  virConnectPtr conn_;
  virt::VolHandle vol_;
  std::string where_;
  virt::StreamHandle stream_;
  bool sparse_;
  bool closed_ = false;
  uint64_t pos_ = 0;   // where the open stream writes next
  uint64_t high_ = 0;  // end of the furthest write
  std::optional<uint64_t> size_;
};

class DownloadSource : public RandomAccessSource {
 public:
  DownloadSource(virConnectPtr conn, virt::VolHandle vol, std::string where,
                 uint64_t size)
      : conn_(conn),
        vol_(std::move(vol)),
        where_(std::move(where)),
        size_(size) {}
  ~DownloadSource() override { Abort(); }

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    if (offset >= size_ || out.empty()) return size_t{0};
    RETURN_IF_ERROR(CheckCancelled());
    RETURN_IF_ERROR(
        InjectedLibvirtFault(LibvirtStep::kDownload, false,
                             where_ + " at byte " + std::to_string(offset)));
    if (!stream_ || offset != pos_) {
      Abort();
      stream_.reset(virStreamNew(conn_, 0));
      if (!stream_) return LastError(where_);
      if (virStorageVolDownload(vol_.get(), stream_.get(), offset, 0, 0) < 0) {
        stream_.reset();
        return LastError(where_ + ": cannot download");
      }
      pos_ = offset;
    }
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
    size_t got = 0;
    while (got < want) {
      int n = virStreamRecv(stream_.get(),
                            reinterpret_cast<char*>(out.data() + got),
                            std::min(want - got, kChunk));
      if (n < 0) {
        Status s = LastError(where_ + " at byte " + std::to_string(pos_));
        Abort();
        return s;
      }
      if (n == 0) break;  // the volume ended early
      got += static_cast<size_t>(n);
      pos_ += static_cast<uint64_t>(n);
    }
    if (got < want) {
      Abort();
      return CorruptError(where_ + ": ended at byte " + std::to_string(pos_) +
                          ", expected " + std::to_string(size_));
    }
    return got;
  }

 private:
  void Abort() { AbortStream(stream_); }

  virConnectPtr conn_;
  virt::VolHandle vol_;
  std::string where_;
  uint64_t size_;
  virt::StreamHandle stream_;
  uint64_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<BlockSink>> MakeUploadSink(virConnectPtr conn,
                                                  virt::VolHandle vol,
                                                  std::string where,
                                                  bool sparse) {
  return std::unique_ptr<BlockSink>(
      new UploadSink(conn, std::move(vol), std::move(where), sparse));
}

Result<std::unique_ptr<RandomAccessSource>> MakeDownloadSource(
    virConnectPtr conn, virt::VolHandle vol, std::string where) {
  // The file's own size (a qcow2's, not its virtual capacity).
  virStorageVolInfo info;
  if (virStorageVolGetInfoFlags(vol.get(), &info,
                                VIR_STORAGE_VOL_GET_PHYSICAL) < 0) {
    return LastError(where);
  }
  return std::unique_ptr<RandomAccessSource>(new DownloadSource(
      conn, std::move(vol), std::move(where), info.allocation));
}

}  // namespace ova2virt
