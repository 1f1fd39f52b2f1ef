// Loads and stores of little- and big-endian integers at unaligned addresses.
// VMDK is little-endian, qcow2 big-endian.
#ifndef OVA2VIRT_CORE_ENDIAN_H_
#define OVA2VIRT_CORE_ENDIAN_H_

#include <cstdint>
#include <cstring>

namespace ova2virt {

inline uint16_t LoadLe16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t LoadLe32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadLe64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint16_t LoadBe16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t LoadBe32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t LoadBe64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void StoreLe16(void* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void StoreLe32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void StoreLe64(void* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void StoreBe16(void* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void StoreBe32(void* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void StoreBe64(void* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ova2virt assumes a little-endian host");

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_ENDIAN_H_
