// One name table per enum, as libvirt's VIR_ENUM_DECL/VIR_ENUM_IMPL: a
// constexpr array of (value, name) pairs is the only place an enum's
// spelling lives; ToString, Parse and the list of names a usage message or
// a CLI check shows are all read from it.
//
//   constexpr EnumNames<Color, 2> kColorNames = {{
//       {Color::kRed, "red"},
//       {Color::kBlue, "blue"},
//   }};
//   std::string_view ToString(Color c) { return NameOf(kColorNames, c); }
#ifndef OVA2VIRT_CORE_ENUM_NAMES_H_
#define OVA2VIRT_CORE_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ova2virt {

template <typename E, size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

// The name of `v`; `missing` for a value the table does not list.
template <typename E, size_t N>
constexpr std::string_view NameOf(const EnumNames<E, N>& table, E v,
                                  std::string_view missing = "other") {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return missing;
}

// The value named exactly `s` (case matters); nullopt for any other text.
template <typename E, size_t N>
constexpr std::optional<E> ValueOf(const EnumNames<E, N>& table,
                                   std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

// Every name, in table order (the order usage messages list them in).
template <typename E, size_t N>
std::vector<std::string> NamesOf(const EnumNames<E, N>& table) {
  std::vector<std::string> out;
  out.reserve(N);
  for (const auto& entry : table) out.emplace_back(entry.second);
  return out;
}

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_ENUM_NAMES_H_
