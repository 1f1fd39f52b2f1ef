// Compression: whole-buffer inflate and deflate for disk grains and
// clusters (libdeflate), and a streaming gzip decoder for gzip-compressed
// package members (zlib). The only place these libraries are used.
//
// Whole-buffer inflation is always bounded by the caller's output buffer: a
// VMDK grain or a qcow2 cluster can never inflate beyond its own size, so a
// "zip bomb" grain is an error, not an allocation.
#ifndef OVA2VIRT_CORE_COMPRESS_H_
#define OVA2VIRT_CORE_COMPRESS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

// Inflates whole buffers. Not thread-safe: use one per thread.
class Inflater {
 public:
  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates a zlib stream (RFC 1950, as VMDK grains hold) from `in` into
  // `out`; returns the bytes produced. Bytes after the end of the stream are
  // ignored. kCorrupt "inflates beyond N bytes" if the stream would produce
  // more than out.size() bytes, kCorrupt "invalid compressed data" if it is
  // malformed or truncated.
  Result<size_t> Zlib(std::span<const uint8_t> in, std::span<uint8_t> out);
  // The same for a raw deflate stream (RFC 1951, as qcow2 compressed
  // clusters hold).
  Result<size_t> RawDeflate(std::span<const uint8_t> in,
                            std::span<uint8_t> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Deflates whole buffers. Not thread-safe: use one per thread.
class Deflater {
 public:
  // `level` 1 (fastest) to 12 (smallest); 6 is zlib's default ratio.
  explicit Deflater(int level);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // The most bytes Zlib()/RawDeflate() can produce for `size` input bytes.
  size_t Bound(size_t size) const;
  // Compresses `in` as a zlib stream into `out`, which must hold at least
  // Bound(in.size()) bytes; returns the compressed size. kFailed if `out` is
  // too small.
  Result<size_t> Zlib(std::span<const uint8_t> in, std::span<uint8_t> out);
  // The same as a raw deflate stream.
  Result<size_t> RawDeflate(std::span<const uint8_t> in,
                            std::span<uint8_t> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The gzip stream (RFC 1952) in another ByteSource, decompressed as it is
// read. Several concatenated gzip members read as one stream (as `gzip -d`
// does); zero bytes after the last member are ignored, anything else there is
// kCorrupt. Every member's CRC-32 and length are checked: a mismatch is
// kCorrupt. Errors name the compressed byte offset.
class GzipSource : public ByteSource {
 public:
  explicit GzipSource(ByteSource& inner);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<size_t> Read(std::span<uint8_t> out) override;
  // Compressed bytes consumed from the inner stream so far.
  uint64_t compressed_bytes() const;
  // Gzip members started so far.
  uint64_t members() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True if `head` starts with the gzip magic bytes (1f 8b).
bool LooksLikeGzip(std::span<const uint8_t> head);

// Compresses `data` as one gzip member (tests, small documents).
Result<std::string> GzipCompress(std::span<const uint8_t> data, int level = 6);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_COMPRESS_H_
