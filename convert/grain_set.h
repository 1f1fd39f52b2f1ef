// The set of grains (or clusters) a stream has delivered, as sorted
// intervals: a stream in order costs one interval per stretch of data, and a
// hostile stream that sends the same grain twice is caught.
#ifndef OVA2VIRT_CONVERT_GRAIN_SET_H_
#define OVA2VIRT_CONVERT_GRAIN_SET_H_

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace ova2virt {

class GrainSet {
 public:
  enum class InsertResult { kInserted, kDuplicate, kTooFragmented };

  // At most `max_intervals` disjoint stretches are remembered (16 bytes
  // each), which bounds the memory a hostile stream can make us use.
  explicit GrainSet(size_t max_intervals) : max_intervals_(max_intervals) {}

  InsertResult Insert(uint64_t index) {
    // The common case: streams deliver grains in increasing order.
    if (intervals_.empty() || index >= intervals_.back().second) {
      if (!intervals_.empty() && index == intervals_.back().second) {
        ++intervals_.back().second;
        return InsertResult::kInserted;
      }
      return Add(intervals_.end(), index);
    }
    // First interval that ends after `index`.
    auto it = std::upper_bound(
        intervals_.begin(), intervals_.end(), index,
        [](uint64_t v, const std::pair<uint64_t, uint64_t>& iv) {
          return v < iv.second;
        });
    if (it->first <= index) return InsertResult::kDuplicate;
    bool joins_prev =
        it != intervals_.begin() && std::prev(it)->second == index;
    bool joins_next = it->first == index + 1;
    if (joins_prev && joins_next) {
      std::prev(it)->second = it->second;
      intervals_.erase(it);
    } else if (joins_prev) {
      std::prev(it)->second = index + 1;
    } else if (joins_next) {
      it->first = index;
    } else {
      return Add(it, index);
    }
    return InsertResult::kInserted;
  }

  size_t intervals() const { return intervals_.size(); }

 private:
  InsertResult Add(std::vector<std::pair<uint64_t, uint64_t>>::iterator at,
                   uint64_t index) {
    if (intervals_.size() >= max_intervals_) {
      return InsertResult::kTooFragmented;
    }
    intervals_.insert(at, {index, index + 1});
    return InsertResult::kInserted;
  }

  size_t max_intervals_;
  std::vector<std::pair<uint64_t, uint64_t>> intervals_;
};

// The byte ranges of an image file that its tables have claimed so far
// (grains, clusters, grain tables, L2 tables), merged where they touch. Two
// table entries that claim overlapping bytes make a hostile image: one
// stored grain read as many (an amplifier), or metadata read as data.
class ByteRangeSet {
 public:
  enum class InsertResult { kInserted, kOverlap, kTooFragmented };

  // At most `max_ranges` disjoint ranges are remembered.
  explicit ByteRangeSet(size_t max_ranges) : max_ranges_(max_ranges) {}

  // Claims [start, start + length). kOverlap (nothing changes) when any of
  // it was claimed before; `*with` then holds the start of the range it
  // overlaps. Empty ranges are always inserted.
  InsertResult Insert(uint64_t start, uint64_t length,
                      uint64_t* with = nullptr) {
    if (length == 0) return InsertResult::kInserted;
    uint64_t end = start + length < start ? ~uint64_t{0} : start + length;
    // The range at or before `start` may reach into it; the one after may
    // begin before `end`.
    auto next = ranges_.upper_bound(start);
    if (next != ranges_.begin()) {
      auto prev = std::prev(next);
      if (prev->second > start) {
        if (with) *with = prev->first;
        return InsertResult::kOverlap;
      }
    }
    if (next != ranges_.end() && next->first < end) {
      if (with) *with = next->first;
      return InsertResult::kOverlap;
    }
    // Merge with the neighbours it touches.
    bool joins_prev =
        next != ranges_.begin() && std::prev(next)->second == start;
    bool joins_next = next != ranges_.end() && next->first == end;
    if (joins_prev && joins_next) {
      std::prev(next)->second = next->second;
      ranges_.erase(next);
    } else if (joins_prev) {
      std::prev(next)->second = end;
    } else if (joins_next) {
      uint64_t next_end = next->second;
      ranges_.erase(next);
      ranges_.emplace(start, next_end);
    } else {
      if (ranges_.size() >= max_ranges_) return InsertResult::kTooFragmented;
      ranges_.emplace(start, end);
    }
    return InsertResult::kInserted;
  }

  size_t ranges() const { return ranges_.size(); }

 private:
  size_t max_ranges_;
  std::map<uint64_t, uint64_t> ranges_;  // start -> end (exclusive)
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_GRAIN_SET_H_
