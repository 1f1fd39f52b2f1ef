// A forward reader with a buffer and a position, for parsing formats that
// arrive as a stream (a pipe, a tar member flowing past): few large reads
// underneath, exact byte offsets for error messages on top.
#ifndef OVA2VIRT_CONVERT_STREAM_CURSOR_H_
#define OVA2VIRT_CONVERT_STREAM_CURSOR_H_

#include <cstdint>
#include <span>
#include <vector>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

class StreamCursor {
 public:
  // `capacity` bounds the largest Take(); reads underneath are up to that
  // size too.
  StreamCursor(ByteSource& source, size_t capacity);

  // The stream offset of the next byte.
  uint64_t position() const { return pos_; }
  // Bytes consumed from the source so far (position plus read-ahead).
  uint64_t bytes_read() const { return pos_ + (end_ - begin_); }

  // Exactly `n` bytes (n <= capacity), valid until the next call; kCorrupt
  // "unexpected end of data at byte X" if the stream ends first.
  Result<std::span<const uint8_t>> Take(size_t n);
  // Up to `n` bytes: fewer only at the end of the stream, none after it.
  Result<std::span<const uint8_t>> TakeUpTo(size_t n);
  // Skips `n` bytes; kCorrupt if the stream ends first.
  Status Skip(uint64_t n);
  // The bytes read from the source and not taken yet, valid until the next
  // call: for a caller that goes on reading the stream by other means.
  std::span<const uint8_t> Buffered() const {
    return {buffer_.data() + begin_, end_ - begin_};
  }

 private:
  // Makes at least `n` bytes available unless the stream ends.
  Status Fill(size_t n);

  ByteSource& source_;
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_STREAM_CURSOR_H_
