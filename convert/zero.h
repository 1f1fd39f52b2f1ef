// Zero detection: the test that decides which clusters and grains are
// written at all.
#ifndef OVA2VIRT_CONVERT_ZERO_H_
#define OVA2VIRT_CONVERT_ZERO_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ova2virt {

// True if all `size` bytes at `p` are zero. Data that is not zero usually
// differs in its first bytes, so the check costs almost nothing for it; for
// zeros it runs at memcmp speed.
inline bool IsAllZero(const uint8_t* p, size_t size) {
  if (size == 0) return true;
  size_t head = size < 16 ? size : 16;
  for (size_t i = 0; i < head; ++i) {
    if (p[i] != 0) return false;
  }
  // Every byte equals its successor and the first is zero.
  return size <= 16 || std::memcmp(p, p + 1, size - 1) == 0;
}

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_ZERO_H_
