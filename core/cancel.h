// Process-wide cancellation. The CLI's signal handler calls RequestCancel()
// (async-signal-safe); long loops call CheckCancelled() and unwind with
// kCancelled, so every destructor on the way out removes what was half made.
#ifndef OVA2VIRT_CORE_CANCEL_H_
#define OVA2VIRT_CORE_CANCEL_H_

#include "core/status.h"

namespace ova2virt {

void RequestCancel();
bool CancelRequested();
void ResetCancel();  // for tests
// kCancelled "interrupted" once cancellation was requested, else ok.
Status CheckCancelled();

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_CANCEL_H_
