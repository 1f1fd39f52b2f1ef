#include "core/cancel.h"

#include <atomic>

namespace ova2virt {
namespace {
std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void RequestCancel() { g_cancel.store(true, std::memory_order_relaxed); }
bool CancelRequested() { return g_cancel.load(std::memory_order_relaxed); }
void ResetCancel() { g_cancel.store(false); }
Status CheckCancelled() {
  if (CancelRequested()) return CancelledError("interrupted");
  return OkStatus();
}

}  // namespace ova2virt
