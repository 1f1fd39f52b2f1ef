#include "pipeline/phase_timer.h"

namespace ova2virt {

void PhaseTimer::Start(std::string name) {
  Stop();
  current_ = std::move(name);
  started_ = std::chrono::steady_clock::now();
}

void PhaseTimer::Stop() {
  if (current_.empty()) return;
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
          .count();
  phases_.emplace_back(std::move(current_), s);
  current_.clear();
}

double PhaseTimer::Total() const {
  double t = 0;
  for (const auto& p : phases_) t += p.second;
  return t;
}

}  // namespace ova2virt
