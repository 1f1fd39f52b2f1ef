#include "core/byte_stream.h"

#include <cerrno>

#include "core/digest.h"
#include "core/file.h"
#include "core/io_faults.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("byte streams: limited, counting, read exactly") {
  std::string data = "0123456789";
  MemorySource src(data);
  LimitedSource lim(src, 4);
  CountingSource counted(lim);
  auto all = ReadAllCapped(counted, 100);
  REQUIRE_OK(all);
  CHECK(*all == "0123");
  CHECK(counted.count() == 4);
  uint8_t buf[10];
  CHECK(ReadExactly(src, {buf, 6}).ok());
  CHECK(ReadExactly(src, {buf, 1}).code() == ErrorCode::kCorrupt);
}

// Records the calls a BorrowedSource passes on.
class SharingSource : public ByteSource {
 public:
  Result<size_t> Read(std::span<uint8_t> out) override {
    ++reads;
    return inner.Read(out);
  }
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override {
    *ticket = ++shared;
    return inner.Read(out);
  }
  void Reclaim(uint64_t ticket) override { reclaimed = ticket; }

  MemorySource inner{std::string_view("abcdef")};
  int reads = 0;
  uint64_t shared = 0, reclaimed = 0;
};

TEST_CASE("byte streams: a borrowed source passes every call through") {
  SharingSource owner;
  uint8_t buf[4];
  {
    auto borrowed = std::make_unique<BorrowedSource>(owner);
    REQUIRE_OK(borrowed->Read(std::span<uint8_t>(buf, 2)));
    CHECK(owner.reads == 1);
    uint64_t ticket = 0;
    auto n = borrowed->ReadShared(std::span<uint8_t>(buf, 4), &ticket);
    REQUIRE_OK(n);
    CHECK(*n == 4);
    CHECK(std::string(reinterpret_cast<char*>(buf), 4) == "cdef");
    CHECK(ticket == 1);  // the inner stream's ticket, not a default 0
    borrowed->Reclaim(ticket);
    CHECK(owner.reclaimed == 1);
  }
  // Gone, and the stream it borrowed is still there, where it was.
  auto rest = owner.Read(std::span<uint8_t>(buf, 4));
  REQUIRE_OK(rest);
  CHECK(*rest == 0);
  CHECK(owner.reads == 2);
}

TEST_CASE("byte streams: read all respects its cap") {
  std::string data(1000, 'x');
  MemorySource src(data);
  CHECK(ReadAllCapped(src, 999).status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("byte streams: slices read within their window") {
  std::string data = "abcdefghij";
  MemoryRandomAccess ra(data);
  SliceRandomAccess slice(ra, 3, 4);
  CHECK(slice.size() == 4);
  SequentialReader reader(slice);
  auto all = ReadAllCapped(reader, 100);
  REQUIRE_OK(all);
  CHECK(*all == "defg");
  uint8_t b[2];
  CHECK(ReadExactlyAt(slice, 3, {b, 2}).code() == ErrorCode::kCorrupt);
}

TEST_CASE("digests: known vectors and the hashing tee") {
  CHECK(DigestHex(DigestAlgorithm::kSha256, AsBytes("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(DigestHex(DigestAlgorithm::kSha1, AsBytes("abc")) ==
        "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(ParseDigestName("sha512") == DigestAlgorithm::kSha512);
  CHECK(ParseDigestName("SHA-256") == DigestAlgorithm::kSha256);
  CHECK(!ParseDigestName("MD5"));
  std::string data = "abc";
  MemorySource src(data);
  MultiHasher mh(kAllDigests);
  HashingSource tee(src, mh);
  REQUIRE_OK(Drain(tee));
  auto d = mh.FinishHex();
  CHECK(d[1].second == DigestHex(DigestAlgorithm::kSha256, AsBytes("abc")));
  CHECK(FromHex("0aff").value() == std::vector<uint8_t>{0x0a, 0xff});
  CHECK(!FromHex("0g"));
  CHECK(!FromHex("abc"));
}

TEST_CASE("files: temp output appears only on commit") {
  testing::TempDir dir;
  std::string target = dir.Join("out.img");
  {
    auto t = TempOutputFile::Create(target);
    REQUIRE_OK(t);
    CHECK_OK((*t)->file().WriteAll(AsBytes("hello")));
    CHECK(dir.List().size() == 1);  // only the temporary
  }
  CHECK(dir.List().empty());  // abandoned: removed
  {
    auto t = TempOutputFile::Create(target);
    REQUIRE_OK(t);
    CHECK_OK((*t)->file().WriteAll(AsBytes("hello")));
    CHECK_OK((*t)->Commit());
  }
  CHECK(dir.List() == std::vector<std::string>{"out.img"});
  CHECK(TempOutputFile::Create(target).status().code() == ErrorCode::kExists);
  auto back = ReadSmallFile(target, 100);
  REQUIRE_OK(back);
  CHECK(*back == "hello");
}

TEST_CASE("files: injected faults fail the nth operation") {
  testing::TempDir dir;
  auto plan = ParseIoFaultSpec("write:2:ENOSPC");
  REQUIRE_OK(plan);
  auto f = File::CreateExclusive(dir.Join("f"));
  REQUIRE_OK(f);
  ArmIoFault(*plan);
  CHECK_OK(f->WriteAll(AsBytes("a")));
  Status s = f->WriteAll(AsBytes("b"));
  CHECK(s.code() == ErrorCode::kNoSpace);
  CHECK_OK(f->WriteAll(AsBytes("c")));
  CHECK(CurrentIoFaultCounts().write == 3);
  // "count" counts and fails nothing.
  auto count = ParseIoFaultSpec("count");
  REQUIRE_OK(count);
  ArmIoFault(*count);
  CHECK_OK(f->WriteAll(AsBytes("d")));
  CHECK_OK(f->Sync());
  CHECK(CurrentIoFaultCounts().write == 1);
  CHECK(CurrentIoFaultCounts().sync == 1);
  CHECK(CurrentIoFaultCounts().read == 0);
  DisarmIoFaults();
  CHECK(!ParseIoFaultSpec("write").ok());
  CHECK(!ParseIoFaultSpec("chmod:1").ok());
}

// Records what reaches the inner sink.
class WriteLog : public MemoryBlockSink {
 public:
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    writes.push_back({offset, data.size()});
    aligned.push_back(reinterpret_cast<uintptr_t>(data.data()) % 4096 == 0);
    if (fail_at != 0 && writes.size() == fail_at) {
      return FailedError("write " + std::to_string(fail_at) + " failed");
    }
    return MemoryBlockSink::WriteAt(offset, data);
  }
  std::vector<std::pair<uint64_t, size_t>> writes;
  std::vector<bool> aligned;
  size_t fail_at = 0;
};

TEST_CASE("gathering sink: appends become large writes, in order") {
  WriteLog inner;
  GatheringBlockSink sink(inner, 1 << 20, 256 << 10);
  MemoryBlockSink expected;
  auto put = [&](uint64_t offset, size_t n, char c) {
    std::string bytes(n, c);
    REQUIRE_OK(sink.WriteAt(offset, AsBytes(bytes)));
    REQUIRE_OK(expected.WriteAt(offset, AsBytes(bytes)));
  };
  // 40 clusters of 64 KiB, one after another: 1 MiB writes.
  for (int i = 0; i < 40; ++i)
    put(uint64_t(i) << 16, 65536, char('a' + i % 26));
  CHECK(inner.writes.size() == 2);  // two full buffers; 512 KiB gathered
  // A large piece passes through, after what is gathered.
  put(40 << 16, 512 << 10, 'L');
  REQUIRE(inner.writes.size() == 4);
  CHECK(inner.writes[2] ==
        std::make_pair(uint64_t{2} << 20, size_t{512} << 10));
  CHECK(inner.writes[3] ==
        std::make_pair(uint64_t{40} << 16, size_t{512} << 10));
  // Elsewhere: a jump, a rewrite of earlier bytes, a small tail.
  put(100 << 20, 4096, 'j');
  put(100, 5000, 'r');  // over bytes written long ago: flushes the jump first
  put((100 << 20) + 4096, 10, 't');
  REQUIRE_OK(sink.SetSize(101 << 20));
  REQUIRE_OK(expected.SetSize(101 << 20));
  CHECK(inner.str() == expected.str());
  CHECK(sink.inner_writes() == inner.writes.size());
  // Gathered buffers are aligned for direct I/O.
  CHECK(inner.aligned[0]);
  CHECK(inner.aligned[1]);
}

TEST_CASE("gathering sink: a failed gathered write is returned by flush") {
  WriteLog inner;
  inner.fail_at = 1;
  GatheringBlockSink sink(inner, 1 << 20, 256 << 10);
  std::string bytes(4096, 'x');
  CHECK_OK(sink.WriteAt(0, AsBytes(bytes)));  // gathered: no error yet
  Status s = sink.Flush();
  CHECK(s.message() == "write 1 failed");
}

}  // namespace
}  // namespace ova2virt
