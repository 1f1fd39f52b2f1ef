// The set of grains (or clusters) a stream has delivered, as sorted
// intervals: a stream in order costs one interval per stretch of data, and a
// hostile stream that sends the same grain twice is caught.
#ifndef OVA2VIRT_CONVERT_GRAIN_SET_H_
#define OVA2VIRT_CONVERT_GRAIN_SET_H_

#include <algorithm>
#include <cstdint>
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

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_GRAIN_SET_H_
