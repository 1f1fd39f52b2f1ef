#include "convert/stream_cursor.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace ova2virt {

StreamCursor::StreamCursor(ByteSource& source, size_t capacity)
    : source_(source), buffer_(capacity) {}

Status StreamCursor::Fill(size_t n) {
  if (end_ - begin_ >= n || eof_) return OkStatus();
  if (begin_ > 0) {
    // Move the unread tail to the front so the read below can be large.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < n && !eof_) {
    ASSIGN_OR_RETURN(size_t got, source_.Read({buffer_.data() + end_,
                                               buffer_.size() - end_}));
    if (got == 0) eof_ = true;
    end_ += got;
  }
  return OkStatus();
}

Result<std::span<const uint8_t>> StreamCursor::Take(size_t n) {
  if (n > buffer_.size()) {
    return FailedError("stream cursor: request of " + std::to_string(n) +
                       " bytes exceeds its buffer");
  }
  RETURN_IF_ERROR(Fill(n));
  if (end_ - begin_ < n) {
    return CorruptError("unexpected end of data at byte " +
                        std::to_string(pos_ + (end_ - begin_)));
  }
  std::span<const uint8_t> out(buffer_.data() + begin_, n);
  begin_ += n;
  pos_ += n;
  return out;
}

Result<std::span<const uint8_t>> StreamCursor::TakeUpTo(size_t n) {
  n = std::min(n, buffer_.size());
  RETURN_IF_ERROR(Fill(n));
  n = std::min(n, end_ - begin_);
  std::span<const uint8_t> out(buffer_.data() + begin_, n);
  begin_ += n;
  pos_ += n;
  return out;
}

Status StreamCursor::Skip(uint64_t n) {
  while (n > 0) {
    size_t step = static_cast<size_t>(std::min<uint64_t>(n, buffer_.size()));
    ASSIGN_OR_RETURN(auto got, TakeUpTo(step));
    if (got.empty()) {
      return CorruptError("unexpected end of data at byte " +
                          std::to_string(pos_));
    }
    n -= got.size();
  }
  return OkStatus();
}

}  // namespace ova2virt
