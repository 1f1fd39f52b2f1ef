#include "pipeline/phase_timer.h"

#include <thread>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("phase timer: phases are recorded in order") {
  PhaseTimer t;
  t.Start("plan");
  t.Start("copy");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  t.Stop();
  t.Stop();  // idempotent
  REQUIRE(t.phases().size() == 2);
  CHECK(t.phases()[0].first == "plan");
  CHECK(t.phases()[1].first == "copy");
  CHECK(t.phases()[1].second >= 0.019);
  CHECK(t.Total() >= t.phases()[1].second);
}

}  // namespace
}  // namespace ova2virt
