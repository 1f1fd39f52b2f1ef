// A seam for fault injection: file operations ask here whether to fail.
//
// Tests (and the CLI, from $OVA2VIRT_FAULT, for end-to-end rollback tests)
// arm a plan such as "fail the 5th write with ENOSPC"; every File operation
// counts itself and fails when its turn comes. Disarmed, the check is one
// relaxed atomic load.
#ifndef OVA2VIRT_CORE_IO_FAULTS_H_
#define OVA2VIRT_CORE_IO_FAULTS_H_

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace ova2virt {

enum class IoOp { kRead, kWrite, kSync, kOpen };

struct IoFaultPlan {
  IoOp op = IoOp::kWrite;
  uint64_t nth = 0;  // 1-based; 0 counts operations but fails none
  int error = 5;     // errno to report (EIO)
};

// Arms the plan process-wide and resets the counters.
void ArmIoFault(const IoFaultPlan& plan);
void DisarmIoFaults();

// Parses "OP:N[:ERRNO]" with OP one of read, write, sync, open and ERRNO a
// number or one of EIO, ENOSPC; e.g. "write:3:ENOSPC". "count" arms the
// counters alone (a test learns how many operations a run makes, then
// fails each in turn).
Result<IoFaultPlan> ParseIoFaultSpec(std::string_view spec);

// The operations counted since the plan was armed.
struct IoFaultCounts {
  uint64_t read = 0, write = 0, sync = 0, open = 0;
};
IoFaultCounts CurrentIoFaultCounts();

// Counts one `op`; returns the errno to fail it with, or 0.
int InjectedIoFault(IoOp op);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_IO_FAULTS_H_
