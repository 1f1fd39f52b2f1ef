#include "virtdriver/libvirt_faults.h"

#include <atomic>
#include <charconv>
#include <iterator>
#include <string>

namespace ova2virt {
namespace {

constexpr std::string_view kStepNames[] = {"create",   "upload",  "refresh",
                                           "define",   "start",   "delete",
                                           "undefine", "download"};

std::atomic<bool> g_armed{false};
std::atomic<uint64_t> g_counts[std::size(kStepNames)];
LibvirtFaultPlan g_plan;

}  // namespace

void ArmLibvirtFault(const LibvirtFaultPlan& plan) {
  g_armed.store(false);
  for (auto& c : g_counts) c.store(0);
  g_plan = plan;
  g_armed.store(plan.nth != 0);
}

void DisarmLibvirtFaults() { g_armed.store(false); }

Result<LibvirtFaultPlan> ParseLibvirtFaultSpec(std::string_view spec) {
  auto bad = [&] {
    return UsageError("libvirt fault spec " + Quote(spec) +
                      ": want STEP[:N][:after], STEP one of create, upload, "
                      "refresh, define, start, delete, undefine, download");
  };
  LibvirtFaultPlan plan;
  size_t c1 = spec.find(':');
  std::string_view step = spec.substr(0, c1);
  size_t i = 0;
  while (i < std::size(kStepNames) && kStepNames[i] != step) ++i;
  if (i == std::size(kStepNames)) return bad();
  plan.step = static_cast<LibvirtStep>(i);
  std::string_view rest =
      c1 == std::string_view::npos ? "" : spec.substr(c1 + 1);
  while (!rest.empty()) {
    size_t c = rest.find(':');
    std::string_view part = rest.substr(0, c);
    rest = c == std::string_view::npos ? "" : rest.substr(c + 1);
    if (part == "after") {
      plan.after = true;
      continue;
    }
    auto r = std::from_chars(part.data(), part.data() + part.size(), plan.nth);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size() ||
        plan.nth == 0) {
      return bad();
    }
  }
  return plan;
}

Status InjectedLibvirtFault(LibvirtStep step, bool after,
                            std::string_view what) {
  if (!g_armed.load(std::memory_order_relaxed)) return OkStatus();
  if (step != g_plan.step || after != g_plan.after) return OkStatus();
  uint64_t n = g_counts[static_cast<size_t>(step)].fetch_add(1) + 1;
  if (n != g_plan.nth) return OkStatus();
  return FailedError(std::string(what) + ": libvirt: injected failure (" +
                     std::string(kStepNames[static_cast<size_t>(step)]) + " " +
                     std::to_string(n) + (after ? ", after the call" : "") +
                     ")");
}

}  // namespace ova2virt
