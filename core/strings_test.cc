#include "core/strings.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("strings: Lower folds A-Z only") {
  CHECK(Lower("") == "");
  CHECK(Lower("VirtIO-SCSI 2.0") == "virtio-scsi 2.0");
  CHECK(Lower("az@[`{") == "az@[`{");  // the bytes next to the two ranges
  // UTF-8 and high bytes stay as they are, whatever the locale says.
  CHECK(Lower("CAF\xC3\x89") == "caf\xC3\x89");
  CHECK(Lower(std::string_view("A\0B", 3)) == std::string("a\0b", 3));
}

TEST_CASE("strings: EqualsIgnoreCase") {
  CHECK(EqualsIgnoreCase("", ""));
  CHECK(EqualsIgnoreCase("createType", "CREATETYPE"));
  CHECK(EqualsIgnoreCase("ffffffff", "FfFfFfFf"));
  CHECK_FALSE(EqualsIgnoreCase("cid", "cids"));
  CHECK_FALSE(EqualsIgnoreCase("cids", "cid"));
  CHECK_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ by 0x20
  CHECK_FALSE(EqualsIgnoreCase("\xC3\xA9", "\xC3\x89"));  // é and É: not ASCII
}

TEST_CASE("strings: Trim takes the ASCII blanks off both ends") {
  CHECK(Trim("") == "");
  CHECK(Trim(" \t\r\n\v\f") == "");
  CHECK(Trim("  a b \r\n") == "a b");
  CHECK(Trim("x") == "x");
  CHECK(Trim("\xC2\xA0x") == "\xC2\xA0x");  // U+00A0 is not ASCII space
  // A view into the argument, not a copy.
  std::string_view s = " key ";
  CHECK(Trim(s).data() == s.data() + 1);
}

TEST_CASE("strings: Trim with a chosen set of blanks") {
  CHECK(Trim(" \tvalue\t ", " \t") == "value");
  CHECK(Trim("\nvalue\n", " \t") == "\nvalue\n");
  constexpr std::string_view kWithNul(" \0", 2);
  CHECK(Trim(std::string_view("\0\0 v \0", 6), kWithNul) == "v");
  CHECK(Trim("abc", "") == "abc");
}

}  // namespace
}  // namespace ova2virt
