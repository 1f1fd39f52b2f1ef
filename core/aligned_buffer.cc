#include "core/aligned_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace ova2virt {

void AlignedBuffer::Resize(size_t size) {
  if (size == size_) return;
  data_.reset();
  size_ = 0;
  if (size == 0) return;
  size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded >= kMapThreshold) {
    // Page-aligned, and never touched here: the kernel provides the pages
    // as they are first written.
    void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ =
        std::unique_ptr<uint8_t, Free>(static_cast<uint8_t*>(p), Free{rounded});
  } else {
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
    data_ = std::unique_ptr<uint8_t, Free>(static_cast<uint8_t*>(p), Free{0});
  }
  size_ = size;
}

void AlignedBuffer::Free::operator()(uint8_t* p) const {
  if (mapped != 0) {
    munmap(p, mapped);
  } else {
    std::free(p);
  }
}

}  // namespace ova2virt
