// Byte streams: the one shape every reader and writer in ova2virt speaks.
//
// ByteSource is a forward-only stream (a pipe, a tar member as it flows by);
// RandomAccessSource is a seekable byte range (a file, a member read in place
// at its tar offset); ByteSink takes bytes in order; BlockSink takes bytes at
// offsets (an output image file, a volume upload).
#ifndef OVA2VIRT_CORE_BYTE_STREAM_H_
#define OVA2VIRT_CORE_BYTE_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace ova2virt {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes into `out` and returns how many. Returns 0
  // only at the end of the stream (or when `out` is empty).
  virtual Result<size_t> Read(std::span<uint8_t> out) = 0;

  // Read() for a caller that keeps the bytes where they landed, unchanged,
  // until it calls Reclaim(): a tee (a package member's hash) may then go on
  // reading them on another thread after this returns, instead of making
  // the caller wait. Sets `*ticket` for these bytes (0: nothing to wait
  // for). The caller must not write to, nor free, those bytes before
  // Reclaim(ticket) returned. Streams without such a tee read as Read().
  virtual Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) {
    *ticket = 0;
    return Read(out);
  }
  // Returns once nothing reads the bytes of the ReadShared() call that gave
  // `ticket` any more, nor those of any earlier call (tickets grow). A plain
  // Read() or Reclaim() of a later ticket settles earlier ones too.
  virtual void Reclaim(uint64_t ticket) { (void)ticket; }
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Appends all of `data` or fails.
  virtual Status Write(std::span<const uint8_t> data) = 0;
  // Flushes what is buffered; the sink takes no more writes afterwards.
  virtual Status Close() { return OkStatus(); }
};

class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;
  virtual uint64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; short only at the end.
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) = 0;
};

// Keeps bytes alive: while a copy of a lease is held, the bytes handed out
// with it stay valid and unchanged (see core/leased_buffers.h).
using BufferLease = std::shared_ptr<const void>;

class BlockSink {
 public:
  virtual ~BlockSink() = default;
  // Writes all of `data` at `offset`. Sequential writes are the fast path;
  // implementations accept any offset.
  virtual Status WriteAt(uint64_t offset, std::span<const uint8_t> data) = 0;
  // WriteAt() for bytes that stay valid for as long as `lease` is held: a
  // sink that writes later may keep the lease instead of copying the bytes.
  // An empty lease means WriteAt().
  virtual Status WriteLeased(uint64_t offset, std::span<const uint8_t> data,
                             const BufferLease& lease) {
    (void)lease;
    return WriteAt(offset, data);
  }
  // Writes `pieces` one after the other from `offset`, as one write where
  // the sink can (pwritev): a few large writes cost the device much less
  // than many small ones.
  virtual Status WriteVectorAt(
      uint64_t offset, std::span<const std::span<const uint8_t>> pieces);
  // Makes the output exactly `size` bytes long (extending leaves a hole).
  virtual Status SetSize(uint64_t size) = 0;
  // Makes everything written durable; no writes follow.
  virtual Status Close() { return OkStatus(); }
};

// Reads until `out` is full or the stream ends; returns the count read.
Result<size_t> ReadUpTo(ByteSource& source, std::span<uint8_t> out);
// Fills `out` completely, or fails with kCorrupt "unexpected end of data".
Status ReadExactly(ByteSource& source, std::span<uint8_t> out);
// Reads and discards `count` bytes; kCorrupt if the stream ends first.
Status SkipBytes(ByteSource& source, uint64_t count);
// Reads the rest of the stream, discarding it; returns the count.
Result<uint64_t> Drain(ByteSource& source);
// Reads the rest of the stream into a string; kCorrupt if it exceeds `cap`.
Result<std::string> ReadAllCapped(ByteSource& source, size_t cap);
// Copies the rest of `source` into `sink`; returns the count copied.
Result<uint64_t> CopyStream(ByteSource& source, ByteSink& sink);
// Fills `out` from `offset` completely, or kCorrupt naming the offset.
Status ReadExactlyAt(RandomAccessSource& source, uint64_t offset,
                     std::span<uint8_t> out);

// A ByteSource over a string or buffer the caller keeps alive.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> data) : data_(data) {}
  explicit MemorySource(std::string_view data)
      : data_(reinterpret_cast<const uint8_t*>(data.data()), data.size()) {}
  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// A RandomAccessSource over memory the caller keeps alive.
class MemoryRandomAccess : public RandomAccessSource {
 public:
  explicit MemoryRandomAccess(std::span<const uint8_t> data) : data_(data) {}
  explicit MemoryRandomAccess(std::string_view data)
      : data_(reinterpret_cast<const uint8_t*>(data.data()), data.size()) {}
  uint64_t size() const override { return data_.size(); }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override;

 private:
  std::span<const uint8_t> data_;
};

// A ByteSink collecting into a string (tests, small documents).
class StringSink : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override;
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

// A BlockSink into memory (tests): a sparse image as a byte string.
class MemoryBlockSink : public BlockSink {
 public:
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override;
  Status SetSize(uint64_t size) override;
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

// Gathers small writes that continue one another into large ones: a qcow2
// writer appends cluster after cluster, often 64 KiB at a time where the
// disk's data is scattered. Few system calls, and writes large enough for
// direct I/O to pay (a FileBlockSink below writes gathered buffers with
// O_DIRECT: the buffer is aligned). Writes of `pass_through` bytes or more
// go to the inner sink unchanged (no copy), after what is gathered; a write
// that does not continue the gathered bytes flushes them first. So the
// inner sink sees the same bytes land in the same order, in fewer writes.
// An error of a gathered write is returned by a later call: Flush() (or
// SetSize(), Close()) before trusting the output.
class GatheringBlockSink : public BlockSink {
 public:
  explicit GatheringBlockSink(BlockSink& inner, size_t buffer_size = 4 << 20,
                              size_t pass_through = 256 << 10);
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override;
  // A write large enough to pass through keeps its lease.
  Status WriteLeased(uint64_t offset, std::span<const uint8_t> data,
                     const BufferLease& lease) override;
  Status SetSize(uint64_t size) override;
  // Flushes, then closes the inner sink.
  Status Close() override;
  // Writes what is gathered.
  Status Flush();
  // Writes the inner sink received so far (for tests and reports).
  uint64_t inner_writes() const { return inner_writes_; }

 private:
  BlockSink& inner_;
  size_t pass_through_;
  std::vector<uint8_t> storage_;  // over-allocated for alignment
  std::span<uint8_t> buffer_;     // 4 KiB-aligned within storage_
  uint64_t start_ = 0;            // file offset of buffer_[0]
  size_t used_ = 0;
  uint64_t inner_writes_ = 0;
};

// Bytes [offset, offset + length) of another RandomAccessSource, e.g. a tar
// member read in place. The parent must outlive the slice.
class SliceRandomAccess : public RandomAccessSource {
 public:
  SliceRandomAccess(RandomAccessSource& parent, uint64_t offset,
                    uint64_t length);
  uint64_t size() const override { return length_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override;

 private:
  RandomAccessSource& parent_;
  uint64_t offset_;
  uint64_t length_;
};

// Reads a RandomAccessSource front to back as a ByteSource.
class SequentialReader : public ByteSource {
 public:
  explicit SequentialReader(RandomAccessSource& source,
                            uint64_t start_offset = 0)
      : source_(source), pos_(start_offset) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  uint64_t position() const { return pos_; }

 private:
  RandomAccessSource& source_;
  uint64_t pos_;
};

// Another ByteSource, read through without owning it: hands a stream the
// caller keeps (a package member's data) to code that takes ownership of
// its source (a ChainSource piece). Every call, ReadShared() and Reclaim()
// included, goes to the inner stream, which must outlive this.
class BorrowedSource : public ByteSource {
 public:
  explicit BorrowedSource(ByteSource& inner) : inner_(inner) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    return inner_.Read(out);
  }
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override {
    return inner_.ReadShared(out, ticket);
  }
  void Reclaim(uint64_t ticket) override { inner_.Reclaim(ticket); }

 private:
  ByteSource& inner_;
};

// The first `limit` bytes of another stream, then end of stream. Reading
// stops at the limit, so the rest stays in the inner stream.
class LimitedSource : public ByteSource {
 public:
  LimitedSource(ByteSource& inner, uint64_t limit)
      : inner_(inner), remaining_(limit) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override;
  void Reclaim(uint64_t ticket) override { inner_.Reclaim(ticket); }
  uint64_t remaining() const { return remaining_; }

 private:
  ByteSource& inner_;
  uint64_t remaining_;
};

// Counts the bytes that pass through.
class CountingSource : public ByteSource {
 public:
  explicit CountingSource(ByteSource& inner) : inner_(inner) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override;
  void Reclaim(uint64_t ticket) override { inner_.Reclaim(ticket); }
  uint64_t count() const { return count_; }

 private:
  ByteSource& inner_;
  uint64_t count_ = 0;
};

// A sink that counts and discards.
class NullSink : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    count_ += data.size();
    return OkStatus();
  }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

// Views a string as bytes.
inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsStringView(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_BYTE_STREAM_H_
