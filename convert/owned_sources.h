// Small adapters that own what they read from, so a reader can be handed
// one object and keep everything it needs alive.
#ifndef OVA2VIRT_CONVERT_OWNED_SOURCES_H_
#define OVA2VIRT_CONVERT_OWNED_SOURCES_H_

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/byte_stream.h"

namespace ova2virt {

// Replays bytes already read (a probe's look at the header), then continues
// with the rest of the stream.
class PrefixedSource : public ByteSource {
 public:
  PrefixedSource(std::vector<uint8_t> head, ByteSource& rest)
      : head_(std::move(head)), rest_(rest) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (pos_ < head_.size()) {
      size_t n = std::min(out.size(), head_.size() - pos_);
      std::memcpy(out.data(), head_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return rest_.Read(out);
  }
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override {
    if (pos_ < head_.size()) {
      *ticket = 0;
      return Read(out);
    }
    return rest_.ReadShared(out, ticket);
  }
  void Reclaim(uint64_t ticket) override { rest_.Reclaim(ticket); }

 private:
  std::vector<uint8_t> head_;
  size_t pos_ = 0;
  ByteSource& rest_;
};

// A RandomAccessSource read front to back, owning it.
class OwnedSequentialSource : public ByteSource {
 public:
  explicit OwnedSequentialSource(std::unique_ptr<RandomAccessSource> file)
      : file_(std::move(file)), reader_(*file_) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    return reader_.Read(out);
  }

 private:
  std::unique_ptr<RandomAccessSource> file_;
  SequentialReader reader_;
};

// A window of a RandomAccessSource, owning it.
class OwnedSlice : public RandomAccessSource {
 public:
  OwnedSlice(std::unique_ptr<RandomAccessSource> file, uint64_t offset,
             uint64_t length)
      : file_(std::move(file)), slice_(*file_, offset, length) {}
  uint64_t size() const override { return slice_.size(); }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    return slice_.ReadAt(offset, out);
  }

 private:
  std::unique_ptr<RandomAccessSource> file_;
  SliceRandomAccess slice_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_OWNED_SOURCES_H_
