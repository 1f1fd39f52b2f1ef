// A progress bar on a terminal: bytes done, rate and time left, redrawn at
// most ten times a second on one line of stderr.
#ifndef OVA2VIRT_CLI_PROGRESS_BAR_H_
#define OVA2VIRT_CLI_PROGRESS_BAR_H_

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/progress.h"

namespace ova2virt::cli {

class TerminalProgressBar : public Progress {
 public:
  explicit TerminalProgressBar(FILE* out) : out_(out) {}
  void Begin(std::string_view label, uint64_t total) override;
  void Update(uint64_t done) override;
  void End() override;

  // The text of one bar, for tests: "label [####----] 50% 1.0/2.0 GiB ...".
  static std::string Render(std::string_view label, uint64_t done,
                            uint64_t total, double seconds, int width);

 private:
  void Draw(bool final);
  FILE* out_;
  std::mutex mu_;
  std::string label_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  bool active_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.5 GiB", "512 B".
std::string HumanBytes(uint64_t bytes);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_PROGRESS_BAR_H_
