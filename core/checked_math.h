// Checked arithmetic for numbers that come from files. Every offset, size or
// count read from an untrusted header goes through these before it sizes an
// allocation, a loop or a seek.
#ifndef OVA2VIRT_CORE_CHECKED_MATH_H_
#define OVA2VIRT_CORE_CHECKED_MATH_H_

#include <cstdint>
#include <optional>
#include <type_traits>

namespace ova2virt {

template <typename T>
[[nodiscard]] constexpr std::optional<T> CheckedAdd(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
[[nodiscard]] constexpr std::optional<T> CheckedMul(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
[[nodiscard]] constexpr std::optional<T> CheckedSub(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Rounds `v` up to a multiple of `align` (a power of two); nullopt on overflow.
[[nodiscard]] constexpr std::optional<uint64_t> CheckedAlignUp(uint64_t v,
                                                               uint64_t align) {
  auto sum = CheckedAdd<uint64_t>(v, align - 1);
  if (!sum) return std::nullopt;
  return *sum & ~(align - 1);
}

// ceil(a / b) for b > 0, without overflow.
[[nodiscard]] constexpr uint64_t DivRoundUp(uint64_t a, uint64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// True when [offset, offset + length) lies within [0, limit).
[[nodiscard]] constexpr bool RangeWithin(uint64_t offset, uint64_t length,
                                         uint64_t limit) {
  return offset <= limit && length <= limit - offset;
}

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_CHECKED_MATH_H_
