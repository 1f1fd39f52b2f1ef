#include "ovf/units.h"

#include <array>
#include <cctype>
#include <utility>

#include "core/checked_math.h"

namespace ova2virt {
namespace {

// Informal spellings seen in real descriptors (VirtualBox writes
// "MegaBytes"; others "MB", "KB"...). Like every producer that writes them,
// we read the decimal-looking names as powers of two.
constexpr std::array<std::pair<std::string_view, uint64_t>, 20> kNamedUnits = {{
    {"b", 1},
    {"byte", 1},
    {"bytes", 1},
    {"kb", 1ull << 10},
    {"kib", 1ull << 10},
    {"kilobyte", 1ull << 10},
    {"kilobytes", 1ull << 10},
    {"mb", 1ull << 20},
    {"mib", 1ull << 20},
    {"megabyte", 1ull << 20},
    {"megabytes", 1ull << 20},
    {"gb", 1ull << 30},
    {"gib", 1ull << 30},
    {"gigabyte", 1ull << 30},
    {"gigabytes", 1ull << 30},
    {"tb", 1ull << 40},
    {"tib", 1ull << 40},
    {"terabyte", 1ull << 40},
    {"terabytes", 1ull << 40},
    {"pb", 1ull << 50},
}};

std::optional<uint64_t> Power(uint64_t base, uint64_t exponent) {
  uint64_t r = 1;
  for (uint64_t i = 0; i < exponent; ++i) {
    auto next = CheckedMul<uint64_t>(r, base);
    if (!next) return std::nullopt;
    r = *next;
  }
  return r;
}

// Parses the factors after the base unit: ("*" (N "^" E | N))*.
std::optional<uint64_t> ParseFactors(std::string_view s) {
  uint64_t multiplier = 1;
  while (!s.empty()) {
    if (s[0] != '*') return std::nullopt;
    s.remove_prefix(1);
    size_t n = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
    auto base = ParseDecimal(s.substr(0, n));
    if (!base) return std::nullopt;
    s.remove_prefix(n);
    uint64_t factor = *base;
    if (!s.empty() && s[0] == '^') {
      s.remove_prefix(1);
      size_t e = 0;
      while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e])))
        ++e;
      auto exponent = ParseDecimal(s.substr(0, e));
      // 2^64 already overflows; a larger exponent is never meaningful and
      // must not drive a long loop.
      if (!exponent || *exponent > 64) return std::nullopt;
      s.remove_prefix(e);
      auto p = Power(factor, *exponent);
      if (!p) return std::nullopt;
      factor = *p;
    }
    auto product = CheckedMul<uint64_t>(multiplier, factor);
    if (!product || *product == 0) return std::nullopt;
    multiplier = *product;
  }
  return multiplier;
}

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  if (b == e) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = b; i < e; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    auto m = CheckedMul<uint64_t>(v, 10);
    if (!m) return std::nullopt;
    auto a = CheckedAdd<uint64_t>(*m, static_cast<uint64_t>(c - '0'));
    if (!a) return std::nullopt;
    v = *a;
  }
  return v;
}

Result<uint64_t> ParseByteUnits(std::string_view units) {
  std::string s;
  for (char c : units) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& [name, multiplier] : kNamedUnits) {
    if (s == name) return multiplier;
  }
  std::string_view rest = s;
  if (rest.substr(0, 5) == "bytes") {
    rest.remove_prefix(5);
  } else if (rest.substr(0, 4) == "byte") {
    rest.remove_prefix(4);
  } else {
    return CorruptError("allocation units " + Quote(units) +
                        " are not a multiple of bytes");
  }
  auto multiplier = ParseFactors(rest);
  if (!multiplier) {
    return CorruptError("allocation units " + Quote(units) +
                        " are malformed or too large");
  }
  return *multiplier;
}

Result<uint64_t> ScaleToBytes(std::string_view quantity, std::string_view units,
                              std::string_view what) {
  auto q = ParseDecimal(quantity);
  if (!q) {
    return CorruptError(std::string(what) + ": " + Quote(quantity) +
                        " is not a non-negative integer");
  }
  auto multiplier = ParseByteUnits(units);
  if (!multiplier.ok()) return multiplier.status().WithContext(what);
  auto bytes = CheckedMul<uint64_t>(*q, *multiplier);
  if (!bytes) {
    return CorruptError(std::string(what) + ": " + Quote(quantity) + " x " +
                        Quote(units) + " overflows 64 bits");
  }
  return *bytes;
}

std::string ChooseByteUnits(uint64_t bytes, uint64_t* quantity) {
  static constexpr std::array<std::pair<int, const char*>, 3> kUnits = {{
      {30, "byte * 2^30"},
      {20, "byte * 2^20"},
      {10, "byte * 2^10"},
  }};
  for (const auto& [shift, name] : kUnits) {
    uint64_t unit = 1ull << shift;
    if (bytes != 0 && bytes % unit == 0) {
      *quantity = bytes / unit;
      return name;
    }
  }
  *quantity = bytes;
  return "byte";
}

}  // namespace ova2virt
