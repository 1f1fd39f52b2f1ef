// Seconds spent in each phase of a use case ("plan", "copy", "verify",
// "define"), for the --json reports.
#ifndef OVA2VIRT_PIPELINE_PHASE_TIMER_H_
#define OVA2VIRT_PIPELINE_PHASE_TIMER_H_

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace ova2virt {

class PhaseTimer {
 public:
  // Ends the running phase (if any) and starts `name`.
  void Start(std::string name);
  // Ends the running phase.
  void Stop();
  // Completed phases with their durations in seconds, in order.
  const std::vector<std::pair<std::string, double>>& phases() const {
    return phases_;
  }
  double Total() const;

 private:
  std::string current_;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_PHASE_TIMER_H_
