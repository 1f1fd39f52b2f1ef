// The batch command's files: the plan (JSON, written by the user) read
// into a BatchPlan, and the state file (JSON, written by ova2virt) both
// ways. docs/batch.md documents both formats field by field.
//
// The plan is strict: an unknown key, a value of the wrong type or out of
// range, a missing input or two items with one key is an error naming the
// item and the key, so a typo never passes silently.
#ifndef OVA2VIRT_CLI_BATCH_PLAN_H_
#define OVA2VIRT_CLI_BATCH_PLAN_H_

#include <string>
#include <string_view>

#include "core/status.h"
#include "pipeline/batch.h"

namespace ova2virt::cli {

// The largest plan and state file read (a plan of 100000 items is far
// below this).
inline constexpr size_t kMaxPlanBytes = 16u << 20;
inline constexpr size_t kMaxStateBytes = 64u << 20;

// Parses plan text. `plan_path` is where it came from: relative paths in
// the plan (input, storage_dir, ca) are relative to its folder. Items
// without a connection get `default_connect` (-c, else
// $LIBVIRT_DEFAULT_URI; empty: libvirt's default). kUsage naming the item
// and key for everything malformed ("item 3 ('web'): unknown key 'nmae'
// (did you mean 'name'?)"), with line and column for text that is not
// JSON; kUnsupported for export items (not in this build yet).
Result<BatchPlan> ParseBatchPlan(std::string_view text,
                                 const std::string& plan_path,
                                 const std::string& default_connect);

// Reads and parses the plan file; errors start with its path.
Result<BatchPlan> LoadBatchPlan(const std::string& plan_path,
                                const std::string& default_connect);

// Where the state lives unless --state says: beside the plan, "NAME.json"
// -> "NAME.state.json" (any other name gets ".state.json" appended).
std::string DefaultStatePath(const std::string& plan_path);

// The state file's text, and back. ParseBatchState: kCorrupt for a file
// that is not a state file ova2virt wrote (the message says so and that
// removing it starts over).
std::string FormatBatchState(const BatchState& state);
Result<BatchState> ParseBatchState(std::string_view text);

// A missing state file is an empty state. Errors start with the path.
Result<BatchState> LoadBatchState(const std::string& path);
// Replaces the state file atomically (a crash leaves the old or the new).
Status SaveBatchState(const std::string& path, const BatchState& state);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_BATCH_PLAN_H_
