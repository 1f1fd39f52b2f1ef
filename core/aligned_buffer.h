// A heap buffer aligned for direct I/O: what a reader fills and a writer
// hands to FileBlockSink unchanged, so that the sink can bypass the page
// cache (O_DIRECT needs the memory, the offset and the length aligned).
#ifndef OVA2VIRT_CORE_ALIGNED_BUFFER_H_
#define OVA2VIRT_CORE_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>

namespace ova2virt {

class AlignedBuffer {
 public:
  // Enough for O_DIRECT on every Linux file system and device (logical
  // blocks of 512 or 4096 bytes).
  static constexpr size_t kAlignment = 4096;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size) { Resize(size); }

  // Makes the buffer `size` bytes long. The contents are not kept, nor
  // initialised. Aborts (as operator new would throw) if memory runs out.
  void Resize(size_t size) {
    if (size == size_) return;
    data_.reset();
    size_ = 0;
    if (size == 0) return;
    size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<uint8_t*>(p));
    size_ = size;
  }

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_ALIGNED_BUFFER_H_
