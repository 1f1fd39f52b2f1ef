// The `run` use case: try an appliance with no host set up. Import it into
// a throwaway embedded QEMU driver (qemu:///embed?root=TMP: no daemon, no
// pools, no networks), with user-mode networking and the serial console in
// a file, start it, stream the console, and remove everything when the guest
// powers off, on the timeout, or on an interrupt.
#ifndef OVA2VIRT_PIPELINE_RUN_H_
#define OVA2VIRT_PIPELINE_RUN_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/byte_stream.h"
#include "core/status.h"
#include "pipeline/import.h"

namespace ova2virt {

struct RunRequest {
  // What to import; run fills in storage, networks, console and start.
  ImportRequest import;
  // --keep DIR: the embedded driver's root, images and console logs go in
  // DIR, which is kept afterwards. Empty: a fresh temporary directory,
  // removed at the end.
  std::string keep_dir;
  std::chrono::seconds timeout{0};  // 0: wait as long as the guests run
  // Where the guests' serial output goes as it arrives (stdout).
  ByteSink* console = nullptr;
  // --console: the first guest's serial console both ways. Its output goes
  // to `console`, keystrokes come from `read_input`, which is called often
  // and returns what was typed without waiting (kCancelled: the user
  // detached, which stops the guests). The guests start paused and run once
  // the console is attached, so nothing they print is lost.
  bool interactive = false;
  std::function<Result<std::string>()> read_input;
  // Called with the import's warnings as soon as they are known: after the
  // import, before the guests start (so they come before the console), or
  // with what was gathered when the import fails.
  std::function<void(const Diagnostics&)> on_warnings;
};

// Boot figures of one guest, in seconds from its start (as hypervisor
// projects' integration tests report them); unset when it never happened.
struct GuestTimes {
  std::string name;
  std::optional<double> first_console_byte;
  std::optional<double> powered_off;
};

struct RunReport {
  ImportReport import;
  std::string root;                // the embedded driver's root
  double seconds = 0;              // from start to the last power-off
  std::vector<GuestTimes> guests;  // in domain order
};

// Imports, boots and waits. Ok when every guest powered off by itself;
// kFailed "timed out" after the timeout; kCancelled on an interrupt; the
// import's errors otherwise. The guests are destroyed and, without
// keep_dir, every file removed, whatever the outcome.
Result<RunReport> RunAppliance(const RunRequest& request);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_RUN_H_
