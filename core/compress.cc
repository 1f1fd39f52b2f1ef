#include "core/compress.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace ova2virt {
namespace {

Status InflateResult(libdeflate_result r, size_t limit) {
  switch (r) {
    case LIBDEFLATE_SUCCESS:
      return OkStatus();
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      return CorruptError("compressed data inflates beyond " +
                          std::to_string(limit) + " bytes");
    default:
      return CorruptError("invalid compressed data");
  }
}

}  // namespace

struct Inflater::Impl {
  libdeflate_decompressor* d = nullptr;
};

Inflater::Inflater() : impl_(std::make_unique<Impl>()) {
  impl_->d = libdeflate_alloc_decompressor();
}

Inflater::~Inflater() {
  if (impl_->d != nullptr) libdeflate_free_decompressor(impl_->d);
}

Result<size_t> Inflater::Zlib(std::span<const uint8_t> in,
                              std::span<uint8_t> out) {
  if (impl_->d == nullptr) return FailedError("out of memory (inflater)");
  size_t in_used = 0;
  size_t produced = 0;
  libdeflate_result r =
      libdeflate_zlib_decompress_ex(impl_->d, in.data(), in.size(), out.data(),
                                    out.size(), &in_used, &produced);
  RETURN_IF_ERROR(InflateResult(r, out.size()));
  return produced;
}

Result<size_t> Inflater::RawDeflate(std::span<const uint8_t> in,
                                    std::span<uint8_t> out) {
  if (impl_->d == nullptr) return FailedError("out of memory (inflater)");
  size_t in_used = 0;
  size_t produced = 0;
  libdeflate_result r = libdeflate_deflate_decompress_ex(
      impl_->d, in.data(), in.size(), out.data(), out.size(), &in_used,
      &produced);
  RETURN_IF_ERROR(InflateResult(r, out.size()));
  return produced;
}

struct Deflater::Impl {
  libdeflate_compressor* c = nullptr;
};

Deflater::Deflater(int level) : impl_(std::make_unique<Impl>()) {
  impl_->c = libdeflate_alloc_compressor(std::clamp(level, 1, 12));
}

Deflater::~Deflater() {
  if (impl_->c != nullptr) libdeflate_free_compressor(impl_->c);
}

size_t Deflater::Bound(size_t size) const {
  // The zlib bound is the larger of the two (2-byte header, 4-byte trailer).
  return libdeflate_zlib_compress_bound(impl_->c, size);
}

Result<size_t> Deflater::Zlib(std::span<const uint8_t> in,
                              std::span<uint8_t> out) {
  if (impl_->c == nullptr) return FailedError("out of memory (deflater)");
  size_t n = libdeflate_zlib_compress(impl_->c, in.data(), in.size(),
                                      out.data(), out.size());
  if (n == 0) return FailedError("deflate: output buffer too small");
  return n;
}

Result<size_t> Deflater::RawDeflate(std::span<const uint8_t> in,
                                    std::span<uint8_t> out) {
  if (impl_->c == nullptr) return FailedError("out of memory (deflater)");
  size_t n = libdeflate_deflate_compress(impl_->c, in.data(), in.size(),
                                         out.data(), out.size());
  if (n == 0) return FailedError("deflate: output buffer too small");
  return n;
}

// Streaming gzip on zlib: libdeflate only does whole buffers, and a gzip
// member is a whole disk.
struct GzipSource::Impl {
  explicit Impl(ByteSource& source) : inner(source), in(256 * 1024) {}
  ~Impl() {
    if (initialised) inflateEnd(&z);
  }

  // The compressed offset of the next byte zlib will look at.
  uint64_t Position() const { return read_total - z.avail_in; }

  Status Corrupt(const std::string& what) const {
    return CorruptError("gzip data at compressed byte " +
                        std::to_string(Position()) + ": " + what);
  }

  // Refills the input buffer when zlib has used it all; false at the end.
  Result<bool> Fill() {
    if (z.avail_in > 0) return true;
    ASSIGN_OR_RETURN(size_t n, inner.Read(in));
    read_total += n;
    z.next_in = in.data();
    z.avail_in = static_cast<uInt>(n);
    return n > 0;
  }

  // Between members: only zero padding may follow the last one.
  Result<bool> AtMemberBoundary() {
    ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return false;
    if (z.next_in[0] != 0) return true;
    for (;;) {
      while (z.avail_in > 0) {
        if (*z.next_in != 0) {
          return Corrupt("trailing garbage after the last gzip member");
        }
        ++z.next_in;
        --z.avail_in;
      }
      ASSIGN_OR_RETURN(bool again, Fill());
      if (!again) return false;
    }
  }

  ByteSource& inner;
  std::vector<uint8_t> in;
  z_stream z = {};
  bool initialised = false;
  bool in_member = false;
  bool finished = false;
  uint64_t read_total = 0;
  uint64_t members = 0;
};

GzipSource::GzipSource(ByteSource& inner)
    : impl_(std::make_unique<Impl>(inner)) {}

GzipSource::~GzipSource() = default;

uint64_t GzipSource::compressed_bytes() const { return impl_->Position(); }
uint64_t GzipSource::members() const { return impl_->members; }

Result<size_t> GzipSource::Read(std::span<uint8_t> out) {
  Impl& s = *impl_;
  if (s.finished || out.empty()) return size_t{0};
  if (!s.initialised) {
    // 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw stream is refused.
    if (inflateInit2(&s.z, 16 + MAX_WBITS) != Z_OK) {
      return FailedError("gzip: cannot initialise zlib");
    }
    s.initialised = true;
  }
  s.z.next_out = out.data();
  s.z.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), 1u << 30));
  const uInt want = s.z.avail_out;
  while (s.z.avail_out == want) {
    if (!s.in_member) {
      ASSIGN_OR_RETURN(bool more, s.AtMemberBoundary());
      if (!more) {
        if (s.members == 0) return s.Corrupt("empty gzip stream");
        s.finished = true;
        return size_t{0};
      }
      if (s.members > 0 && inflateReset(&s.z) != Z_OK) {
        return FailedError("gzip: cannot reset zlib");
      }
      s.in_member = true;
      ++s.members;
    }
    ASSIGN_OR_RETURN(bool more, s.Fill());
    if (!more) return s.Corrupt("truncated gzip member");
    int ret = inflate(&s.z, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      s.in_member = false;
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return s.Corrupt(s.z.msg != nullptr ? std::string(s.z.msg)
                                          : "invalid gzip data");
    }
  }
  return static_cast<size_t>(want - s.z.avail_out);
}

bool LooksLikeGzip(std::span<const uint8_t> head) {
  return head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}

Result<std::string> GzipCompress(std::span<const uint8_t> data, int level) {
  libdeflate_compressor* c =
      libdeflate_alloc_compressor(std::clamp(level, 1, 12));
  if (c == nullptr) return FailedError("out of memory (deflater)");
  std::string out(libdeflate_gzip_compress_bound(c, data.size()), '\0');
  size_t n = libdeflate_gzip_compress(c, data.data(), data.size(), out.data(),
                                      out.size());
  libdeflate_free_compressor(c);
  if (n == 0) return FailedError("gzip: output buffer too small");
  out.resize(n);
  return out;
}

}  // namespace ova2virt
