#include "core/status.h"

#include <cerrno>

#include "core/checked_math.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

Result<int> Half(int v) {
  if (v % 2) return CorruptError("odd value " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  ASSIGN_OR_RETURN(int h, Half(v));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST_CASE("status: context is prepended and ok stays ok") {
  Status s = CorruptError("grain size 70000 exceeds 65536");
  Status c = s.WithContext("member 'disk1.vmdk'");
  CHECK(c.code() == ErrorCode::kCorrupt);
  CHECK(c.message() == "member 'disk1.vmdk': grain size 70000 exceeds 65536");
  CHECK(OkStatus().WithContext("x").ok());
  // The same context twice is said once.
  CHECK(CorruptError("a.ova: bad").WithContext("a.ova").message() ==
        "a.ova: bad");
  CHECK(CorruptError("a.ovax: bad").WithContext("a.ova").message() ==
        "a.ova: a.ovax: bad");
}

TEST_CASE("status: an error at a byte carries its offset") {
  Status s = Status::AtByte(ErrorCode::kCorrupt, 1536, "bad header");
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message() == "at byte 1536: bad header");
  REQUIRE(s.byte_offset());
  CHECK(*s.byte_offset() == 1536);
  CHECK_FALSE(s.truncated());
  Status t = Status::AtByte(ErrorCode::kCorrupt, 0, "archive is truncated",
                            /*truncated=*/true);
  CHECK(t.message() == "at byte 0: archive is truncated");
  CHECK(t.byte_offset() == uint64_t{0});
  CHECK(t.truncated());
  // Through a Result unchanged.
  Result<int> r = t;
  CHECK(r.status().truncated());
  CHECK(r.status().byte_offset() == uint64_t{0});
  // Context: the message no longer begins with the offset.
  Status c = t.WithContext("a.ova");
  CHECK(c.message() == "a.ova: at byte 0: archive is truncated");
  CHECK_FALSE(c.byte_offset());
  CHECK_FALSE(c.truncated());
  // Text that looks like it is not the structured fact.
  Status plain = CorruptError("at byte 7: archive is truncated");
  CHECK_FALSE(plain.byte_offset());
  CHECK_FALSE(plain.truncated());
  CHECK_FALSE(CorruptError("x").byte_offset());
}

TEST_CASE("status: result propagates the first failure") {
  CHECK(*Quarter(8) == 2);
  auto r = Quarter(6);
  REQUIRE(!r.ok());
  CHECK(r.status().message() == "odd value 3");
}

TEST_CASE("status: errno maps to codes") {
  CHECK(ErrnoError("x", ENOSPC).code() == ErrorCode::kNoSpace);
  CHECK(ErrnoError("x", ENOENT).code() == ErrorCode::kNotFound);
  CHECK(ErrnoError("x", EIO).code() == ErrorCode::kFailed);
  CHECK(ErrnoError("f", EIO).message().find("f: ") == 0);
}

TEST_CASE("status: quote escapes control characters") {
  CHECK(Quote("a b") == "'a b'");
  CHECK(Quote("a\nb") == "'a\\x0ab'");
  CHECK(Quote("it's") == "'it\\'s'");
}

TEST_CASE("checked math catches overflow") {
  CHECK(!CheckedAdd<uint64_t>(UINT64_MAX, 1));
  CHECK(*CheckedAdd<uint64_t>(1, 2) == 3);
  CHECK(!CheckedMul<uint64_t>(uint64_t{1} << 40, uint64_t{1} << 30));
  CHECK(*CheckedAlignUp(513, 512) == 1024);
  CHECK(!CheckedAlignUp(UINT64_MAX - 3, 512));
  CHECK(RangeWithin(10, 5, 15));
  CHECK(!RangeWithin(10, 6, 15));
  CHECK(!RangeWithin(UINT64_MAX, 2, UINT64_MAX));
  CHECK(DivRoundUp(10, 4) == 3);
}

}  // namespace
}  // namespace ova2virt
