// A seam for fault injection in libvirt calls, like core/io_faults.h for
// file I/O: tests (and the CLI, from $OVA2VIRT_LIBVIRT_FAULT, for end-to-end
// rollback tests) arm a plan such as "fail the 2nd volume create"; the
// Connection asks here before (or, to stand for a reply lost after the
// daemon acted, after) each step. Disarmed, the check is one relaxed
// atomic load.
#ifndef OVA2VIRT_VIRTDRIVER_LIBVIRT_FAULTS_H_
#define OVA2VIRT_VIRTDRIVER_LIBVIRT_FAULTS_H_

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace ova2virt {

// The steps an import or export takes through libvirt.
enum class LibvirtStep {
  kCreate,    // virStorageVolCreateXML
  kUpload,    // each virStreamSend/SendHole of a volume upload, and Finish
  kRefresh,   // virStoragePoolRefresh
  kDefine,    // virDomainDefineXML
  kStart,     // virDomainCreate
  kDelete,    // virStorageVolDelete (rollback, cleanup)
  kUndefine,  // virDomainUndefine (rollback, cleanup)
  kDownload,  // each read of a volume download (export)
};

struct LibvirtFaultPlan {
  LibvirtStep step = LibvirtStep::kDefine;
  uint64_t nth = 1;    // 1-based; 0 disarms
  bool after = false;  // the call is made, then reported as failed
};

// Arms the plan process-wide and resets the counters.
void ArmLibvirtFault(const LibvirtFaultPlan& plan);
void DisarmLibvirtFaults();

// Parses "STEP[:N][:after]", STEP one of create, upload, refresh, define,
// start, delete, undefine, download; e.g. "define", "create:2:after".
// kUsage for anything else.
Result<LibvirtFaultPlan> ParseLibvirtFaultSpec(std::string_view spec);

// Counts one `step` about to be made (after == false) or just made (after
// == true); returns kFailed "WHAT: libvirt: injected failure (STEP N)"
// when the plan says this one fails, else ok. Each step is counted once:
// call it with after == false before the call and with after == true
// after it succeeded.
Status InjectedLibvirtFault(LibvirtStep step, bool after,
                            std::string_view what);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_LIBVIRT_FAULTS_H_
