#include "ova/parallel_hasher.h"

namespace ova2virt {

ParallelHasher::ParallelHasher(std::span<const DigestAlgorithm> algorithms) {
  for (DigestAlgorithm a : algorithms) hashers_.emplace_back(a);
  for (size_t i = 1; i < hashers_.size(); ++i) {
    workers_.emplace_back([this, i] { Work(i); });
  }
}

ParallelHasher::~ParallelHasher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ParallelHasher::Work(size_t index) {
  uint64_t seen = 0;
  for (;;) {
    std::span<const uint8_t> block;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      block = block_;
    }
    hashers_[index].Update(block);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ParallelHasher::Update(std::span<const uint8_t> data) {
  if (data.empty() || hashers_.empty()) return;
  if (!workers_.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    block_ = data;
    pending_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  hashers_[0].Update(data);
  if (!workers_.empty()) {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_ == 0; });
  }
}

std::vector<std::pair<DigestAlgorithm, std::string>>
ParallelHasher::FinishHex() {
  std::vector<std::pair<DigestAlgorithm, std::string>> out;
  for (Hasher& h : hashers_) out.emplace_back(h.algorithm(), h.FinishHex());
  return out;
}

}  // namespace ova2virt
