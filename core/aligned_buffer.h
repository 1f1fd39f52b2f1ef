// A heap buffer aligned for direct I/O: what a reader fills and a writer
// hands to FileBlockSink unchanged, so that the sink can bypass the page
// cache (O_DIRECT needs the memory, the offset and the length aligned).
#ifndef OVA2VIRT_CORE_ALIGNED_BUFFER_H_
#define OVA2VIRT_CORE_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ova2virt {

class AlignedBuffer {
 public:
  // Enough for O_DIRECT on every Linux file system and device (logical
  // blocks of 512 or 4096 bytes).
  static constexpr size_t kAlignment = 4096;
  // Buffers this large or larger are mapped from the kernel and unmapped
  // when freed, rather than taken from malloc. glibc raises its mmap
  // threshold once a mapped block is freed, after which blocks of 1 MiB
  // come from the heap and stay resident when freed: an import of three
  // disks, each allocating its buffers anew, grew from 50 to 66 MiB by
  // the third disk. Mapped, each disk's buffers go back to the kernel.
  static constexpr size_t kMapThreshold = 256 << 10;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size) { Resize(size); }

  // Makes the buffer `size` bytes long. The contents are not kept, nor
  // initialised. Aborts (as operator new would throw) if memory runs out.
  void Resize(size_t size);

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }

 private:
  struct Free {
    size_t mapped;  // bytes mapped, or 0: from aligned_alloc()
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_ALIGNED_BUFFER_H_
