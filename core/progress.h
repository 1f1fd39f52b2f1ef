// Progress reporting from long operations. The library calls a Progress it
// was given; cli/ draws bars on a terminal and ignores it otherwise.
#ifndef OVA2VIRT_CORE_PROGRESS_H_
#define OVA2VIRT_CORE_PROGRESS_H_

#include <cstdint>
#include <string_view>

namespace ova2virt {

class Progress {
 public:
  virtual ~Progress() = default;
  // A task begins: `label` names it ("disk1.vmdk"); `total` bytes expected,
  // 0 when unknown.
  virtual void Begin(std::string_view label, uint64_t total) = 0;
  // `done` bytes of the current task are complete (monotonic).
  virtual void Update(uint64_t done) = 0;
  // The current task ended (successfully or not).
  virtual void End() = 0;
};

// Reports nothing.
class NoProgress : public Progress {
 public:
  void Begin(std::string_view, uint64_t) override {}
  void Update(uint64_t) override {}
  void End() override {}
};

// The shared do-nothing instance, for callers that pass no Progress.
Progress& SilentProgress();

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_PROGRESS_H_
