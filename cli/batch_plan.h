// The batch plan (JSON, written by the user) read into a BatchPlan;
// docs/batch.md documents it field by field (the state file is
// cli/batch_state.h).
//
// The plan is strict: an unknown key, a value of the wrong type or out of
// range, a missing input or two items with one key is an error naming the
// item and the key, so a typo never passes silently.
#ifndef OVA2VIRT_CLI_BATCH_PLAN_H_
#define OVA2VIRT_CLI_BATCH_PLAN_H_

#include <string>
#include <string_view>

#include "batch/batch.h"
#include "core/status.h"

namespace ova2virt::cli {

// The largest plan read (a plan of 100000 items is far below this).
inline constexpr size_t kMaxPlanBytes = 16u << 20;

// Parses plan text. `plan_path` is where it came from: relative paths in
// the plan (input, storage_dir, ca; output, ovf_dir, sign, cert) are
// relative to its folder, and an export item without an output writes
// DOMAIN.ova there. Items without a connection get `default_connect` (-c,
// else $LIBVIRT_DEFAULT_URI; empty: libvirt's default). kUsage naming the
// item and key for everything malformed ("item 3 ('web'): unknown key
// 'nmae' (did you mean 'name'?)", "item 2 ('db'): key 'pool' belongs to
// import items"), with line and column for text that is not JSON;
// kUnsupported for a plan version this build does not read.
Result<BatchPlan> ParseBatchPlan(std::string_view text,
                                 const std::string& plan_path,
                                 const std::string& default_connect);

// Reads and parses the plan file; errors start with its path.
Result<BatchPlan> LoadBatchPlan(const std::string& plan_path,
                                const std::string& default_connect);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_BATCH_PLAN_H_
