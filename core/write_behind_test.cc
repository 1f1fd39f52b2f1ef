#include "core/write_behind.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/leased_buffers.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// Records the calls that reach it, from whichever thread; can hold every
// write at a gate and fail the nth.
class GatedLog : public MemoryBlockSink {
 public:
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    std::span<const uint8_t> one[] = {data};
    return Record(offset, one, false);
  }
  Status WriteVectorAt(
      uint64_t offset,
      std::span<const std::span<const uint8_t>> pieces) override {
    return Record(offset, pieces, true);
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
  size_t calls() {
    std::lock_guard<std::mutex> lock(mu);
    return writes.size();
  }

  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  size_t fail_at = 0;
  std::vector<std::pair<uint64_t, size_t>> writes;  // offset, pieces
  std::vector<bool> vectored;
  std::vector<std::thread::id> threads;

 private:
  Status Record(uint64_t offset,
                std::span<const std::span<const uint8_t>> pieces, bool vec) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
    writes.push_back({offset, pieces.size()});
    vectored.push_back(vec);
    threads.push_back(std::this_thread::get_id());
    if (fail_at != 0 && writes.size() == fail_at) {
      return FailedError("write " + std::to_string(fail_at) + " failed");
    }
    for (std::span<const uint8_t> p : pieces) {
      RETURN_IF_ERROR(MemoryBlockSink::WriteAt(offset, p));
      offset += p.size();
    }
    return OkStatus();
  }
};

TEST_CASE(
    "write-behind sink: the inner sink gets the same bytes, in order, "
    "on another thread") {
  GatedLog inner;
  MemoryBlockSink expected;
  {
    WriteBehindSink sink(inner, 1 << 20);
    auto put = [&](uint64_t offset, std::string bytes) {
      REQUIRE_OK(sink.WriteAt(offset, AsBytes(bytes)));
      REQUIRE_OK(expected.WriteAt(offset, AsBytes(bytes)));
      // The caller may reuse its bytes at once: they were copied.
      bytes.assign(bytes.size(), '?');
    };
    put(0, std::string(70000, 'a'));
    put(100, "over what came before");
    put(1 << 20, std::string(5000, 'b'));
    put(2 << 20, std::string(3 << 20, 'c'));  // larger than the budget
    put(10, "again");
    REQUIRE_OK(sink.SetSize(6 << 20));
    REQUIRE_OK(expected.SetSize(6 << 20));
    REQUIRE_OK(sink.Close());
  }
  CHECK(inner.str() == expected.str());
  for (std::thread::id t : inner.threads)
    CHECK(t != std::this_thread::get_id());
}

TEST_CASE(
    "write-behind sink: leased writes are kept, not copied, and "
    "consecutive ones go out as one vectored write") {
  GatedLog inner;
  inner.open = false;
  LeasedBuffers buffers(4096, 8);
  WriteBehindSink sink(inner, 1 << 20);
  std::vector<std::weak_ptr<AlignedBuffer>> held;
  for (int i = 0; i < 4; ++i) {
    std::shared_ptr<AlignedBuffer> b = buffers.Take();
    std::memset(b->data(), 'k' + i, b->size());
    held.push_back(b);
    // Four consecutive blocks, queued while the gate is shut: the writer
    // thread holds the first one or more at the gate, the rest queue
    // behind them (how many it took first depends on when it woke).
    REQUIRE_OK(sink.WriteLeased(uint64_t(i) * 4096, b->span(), b));
  }
  // The caller let go of its leases; the sink still holds them.
  for (auto& w : held) CHECK(!w.expired());
  inner.Open();
  REQUIRE_OK(sink.Flush());
  for (auto& w : held) CHECK(w.expired());
  std::string want;
  for (int i = 0; i < 4; ++i) want += std::string(4096, char('k' + i));
  CHECK(inner.str() == want);
  // Gathered: fewer calls than writes, and one of them vectored, however
  // the writer split them (1 + 3, 2 + 2, 3 + 1 or all 4 at once).
  CHECK(inner.writes.size() < 4);
  CHECK(std::find(inner.vectored.begin(), inner.vectored.end(), true) !=
        inner.vectored.end());
}

TEST_CASE("write-behind sink: a write waits while the budget is queued") {
  GatedLog inner;
  inner.open = false;
  WriteBehindSink sink(inner, 64 << 10);
  std::string block(32 << 10, 'x');
  REQUIRE_OK(sink.WriteAt(0, AsBytes(block)));        // at the gate
  REQUIRE_OK(sink.WriteAt(1 << 20, AsBytes(block)));  // queued: 64 KiB
  std::atomic<bool> third_done{false};
  std::thread t([&] {
    CHECK_OK(sink.WriteAt(2 << 20, AsBytes(block)));
    third_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(!third_done);  // over the budget: waiting for the writer
  inner.Open();
  t.join();
  CHECK(third_done);
  REQUIRE_OK(sink.Flush());
  CHECK(inner.calls() == 3);
}

TEST_CASE(
    "write-behind sink: the first failed write is returned later, and "
    "nothing is written after it") {
  GatedLog inner;
  inner.fail_at = 2;
  WriteBehindSink sink(inner, 1 << 20);
  std::string block(4096, 'x');
  CHECK_OK(sink.WriteAt(0, AsBytes(block)));
  CHECK_OK(sink.Flush());
  CHECK_OK(sink.WriteAt(1 << 20, AsBytes(block)));  // fails behind
  Status s = sink.Flush();
  CHECK(s.message() == "write 2 failed");
  CHECK(sink.WriteAt(2 << 20, AsBytes(block)).message() == "write 2 failed");
  CHECK(sink.Close().message() == "write 2 failed");
  CHECK(inner.calls() == 2);
}

TEST_CASE(
    "write-behind sink: destroyed unflushed, it drops the queue and "
    "returns the leases") {
  GatedLog inner;
  inner.open = false;
  LeasedBuffers buffers(4096, 4);
  std::weak_ptr<AlignedBuffer> queued;
  std::thread opener;
  {
    WriteBehindSink sink(inner, 1 << 20);
    std::shared_ptr<AlignedBuffer> a = buffers.Take();
    std::shared_ptr<AlignedBuffer> b = buffers.Take();
    REQUIRE_OK(sink.WriteLeased(0, a->span(), a));        // at the gate
    REQUIRE_OK(sink.WriteLeased(1 << 20, b->span(), b));  // queued
    queued = b;
    // The writer thread must get past the gate for the sink to be
    // destroyed; open it from elsewhere a little later.
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      inner.Open();
    });
  }
  opener.join();
  CHECK(queued.expired());
  CHECK(inner.calls() <= 1);  // the write at the gate, if it got there
}

TEST_CASE(
    "leased buffers: at most `limit` out; a returned one is reused; "
    "leases outlive the set") {
  std::shared_ptr<AlignedBuffer> kept;
  {
    LeasedBuffers buffers(8192, 2);
    std::shared_ptr<AlignedBuffer> a = buffers.Take();
    std::shared_ptr<AlignedBuffer> b = buffers.Take();
    CHECK(a->size() == 8192);
    CHECK(reinterpret_cast<uintptr_t>(a->data()) % AlignedBuffer::kAlignment ==
          0);
    const uint8_t* a_memory = a->data();
    std::atomic<bool> got{false};
    std::thread t([&] {
      std::shared_ptr<AlignedBuffer> c = buffers.Take();
      got = true;
      CHECK(c->data() == a_memory);  // the one given back
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(!got);  // two out: the third waits
    a.reset();
    t.join();
    CHECK(got);
    kept = b;
  }
  // The set is gone; the lease still holds its memory, and lets it go.
  std::memset(kept->data(), 1, kept->size());
  kept.reset();
}

}  // namespace
}  // namespace ova2virt
