// Internal to ova/: hashing one stream with several algorithms at once, one
// thread per extra algorithm. Used when a member must be hashed before the
// manifest says how (a pipe whose manifest comes last): SHA1, SHA256 and
// SHA512 one after the other cost as much as the three added up; side by
// side, about as much as the slowest.
#ifndef OVA2VIRT_OVA_PARALLEL_HASHER_H_
#define OVA2VIRT_OVA_PARALLEL_HASHER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/digest.h"

namespace ova2virt {

class ParallelHasher {
 public:
  explicit ParallelHasher(std::span<const DigestAlgorithm> algorithms);
  ~ParallelHasher();
  ParallelHasher(const ParallelHasher&) = delete;
  ParallelHasher& operator=(const ParallelHasher&) = delete;

  // Hashes `data` with every algorithm; returns when all are done, so the
  // caller may reuse the buffer.
  void Update(std::span<const uint8_t> data);
  // Finishes every algorithm; results in the order given.
  std::vector<std::pair<DigestAlgorithm, std::string>> FinishHex();

 private:
  void Work(size_t index);

  std::vector<Hasher> hashers_;
  std::vector<std::thread> workers_;  // for hashers_[1..]
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::span<const uint8_t> block_;
  uint64_t generation_ = 0;
  size_t pending_ = 0;
  bool stop_ = false;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_PARALLEL_HASHER_H_
