#include "core/io_faults.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <string>

namespace ova2virt {
namespace {

std::atomic<bool> g_armed{false};
std::atomic<uint64_t> g_counts[4];
IoFaultPlan g_plan;

}  // namespace

void ArmIoFault(const IoFaultPlan& plan) {
  g_armed.store(false);
  for (auto& c : g_counts) c.store(0);
  g_plan = plan;
  g_armed.store(true);
}

void DisarmIoFaults() { g_armed.store(false); }

Result<IoFaultPlan> ParseIoFaultSpec(std::string_view spec) {
  IoFaultPlan plan;
  if (spec == "count") return plan;
  auto bad = [&] {
    return UsageError("fault spec " + Quote(spec) +
                      ": want OP:N[:ERRNO], OP one of read, write, sync, open");
  };
  size_t c1 = spec.find(':');
  if (c1 == std::string_view::npos) return bad();
  std::string_view op = spec.substr(0, c1);
  if (op == "read")
    plan.op = IoOp::kRead;
  else if (op == "write")
    plan.op = IoOp::kWrite;
  else if (op == "sync")
    plan.op = IoOp::kSync;
  else if (op == "open")
    plan.op = IoOp::kOpen;
  else
    return bad();
  std::string_view rest = spec.substr(c1 + 1);
  size_t c2 = rest.find(':');
  std::string_view n = rest.substr(0, c2);
  auto r = std::from_chars(n.data(), n.data() + n.size(), plan.nth);
  if (r.ec != std::errc() || r.ptr != n.data() + n.size() || plan.nth == 0) {
    return bad();
  }
  if (c2 != std::string_view::npos) {
    std::string_view e = rest.substr(c2 + 1);
    if (e == "EIO")
      plan.error = EIO;
    else if (e == "ENOSPC")
      plan.error = ENOSPC;
    else {
      auto r2 = std::from_chars(e.data(), e.data() + e.size(), plan.error);
      if (r2.ec != std::errc() || r2.ptr != e.data() + e.size()) return bad();
    }
  }
  return plan;
}

int InjectedIoFault(IoOp op) {
  if (!g_armed.load(std::memory_order_relaxed)) return 0;
  uint64_t n = g_counts[static_cast<int>(op)].fetch_add(1) + 1;
  if (op == g_plan.op && n == g_plan.nth) return g_plan.error;
  return 0;
}

IoFaultCounts CurrentIoFaultCounts() {
  IoFaultCounts c;
  c.read = g_counts[static_cast<int>(IoOp::kRead)].load();
  c.write = g_counts[static_cast<int>(IoOp::kWrite)].load();
  c.sync = g_counts[static_cast<int>(IoOp::kSync)].load();
  c.open = g_counts[static_cast<int>(IoOp::kOpen)].load();
  return c;
}

}  // namespace ova2virt
