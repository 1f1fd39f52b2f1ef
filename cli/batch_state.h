// The batch command's state file (JSON, written by ova2virt) both ways:
// what each item's last run did, so that a re-run can skip what is done.
// docs/batch.md documents it field by field.
#ifndef OVA2VIRT_CLI_BATCH_STATE_H_
#define OVA2VIRT_CLI_BATCH_STATE_H_

#include <string>
#include <string_view>

#include "batch/batch.h"
#include "core/status.h"

namespace ova2virt::cli {

// The largest state file read.
inline constexpr size_t kMaxStateBytes = 64u << 20;

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

#endif  // OVA2VIRT_CLI_BATCH_STATE_H_
