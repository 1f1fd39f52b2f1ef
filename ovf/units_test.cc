#include "ovf/units.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("units: every spelling producers write") {
  struct Case {
    const char* units;
    uint64_t bytes;
  };
  const Case kCases[] = {
      {"byte", 1},
      {"bytes", 1},
      {"byte * 2^10", 1024},
      {"KB", 1024},
      {"KiloBytes", 1024},
      {"byte * 2^20", 1 << 20},
      {"byte*2^20", 1 << 20},
      {"byte * 2 ^ 20", 1 << 20},
      {"MegaBytes", 1 << 20},
      {"MB", 1 << 20},
      {"byte * 2^30", 1 << 30},
      {"byte*2^30", 1 << 30},
      {"GigaBytes", 1 << 30},
      {"GB", 1 << 30},
      {"byte * 10^3", 1000},
      {"byte * 1024", 1024},
      {"Byte * 2^20 * 4", 4 << 20},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.units);
    auto r = ParseByteUnits(c.units);
    REQUIRE_OK(r);
    CHECK(*r == c.bytes);
  }
}

TEST_CASE("units: what is not a byte multiple, or overflows, is corrupt") {
  for (const char* bad :
       {"hertz * 10^6", "", "byte * 2^", "byte ^ 2", "byte * 2^64",
        "byte * 2^1000000000000", "byte * 0", "byte * 2^40 * 2^40", "bits"}) {
    CAPTURE(bad);
    auto r = ParseByteUnits(bad);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("units: scaling is checked") {
  CHECK(*ScaleToBytes("2048", "byte * 2^20", "m") == 2048ull << 20);
  CHECK(ScaleToBytes("17179869184", "byte * 2^30", "m").status().code() ==
        ErrorCode::kCorrupt);
  CHECK(ScaleToBytes("-1", "byte", "m").status().code() == ErrorCode::kCorrupt);
  CHECK(ScaleToBytes("1.5", "byte", "m").status().code() ==
        ErrorCode::kCorrupt);
  CHECK(!ParseDecimal("18446744073709551616").has_value());  // 2^64
  CHECK(ParseDecimal(" 18446744073709551615 ") == UINT64_MAX);
}

TEST_CASE("units: the writer picks the largest exact unit") {
  uint64_t q = 0;
  CHECK(ChooseByteUnits(32ull << 30, &q) == "byte * 2^30");
  CHECK(q == 32);
  CHECK(ChooseByteUnits(1536ull << 20, &q) == "byte * 2^20");
  CHECK(q == 1536);
  CHECK(ChooseByteUnits(1000, &q) == "byte");
  CHECK(q == 1000);
  CHECK(ChooseByteUnits(0, &q) == "byte");
}

}  // namespace
}  // namespace ova2virt
