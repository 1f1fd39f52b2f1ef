// The batch runner over several hosts (issue 15), with fake executors: the
// per-host limits, no host idle while another's items queue, and a host
// that does not answer failing its items at once.
#include <set>
#include <string>

#include "batch/batch.h"
#include "batch/batch_test_fakes.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using batch_testing::FakeExecutor;
using batch_testing::Item;
using batch_testing::RecordingObserver;

// `per_host` items on each of `hosts` hosts, grouped by host as a plan
// written host by host would be (h0's items first, then h1's...).
BatchPlan Grouped(int hosts, int per_host) {
  BatchPlan plan;
  plan.path = "plan.json";
  for (int h = 0; h < hosts; ++h) {
    for (int i = 0; i < per_host; ++i) {
      BatchItem item =
          Item("h" + std::to_string(h) + "-vm" + std::to_string(i));
      item.connect = "qemu+tls://h" + std::to_string(h) + "/system";
      plan.items.push_back(std::move(item));
    }
  }
  return plan;
}

std::string HostUri(int h) {
  return "qemu+tls://h" + std::to_string(h) + "/system";
}

TEST_CASE("batch hosts: the per-host limit is honoured and reached") {
  BatchPlan plan = Grouped(3, 6);
  FakeExecutor exec;
  exec.wait_for_company = true;  // stays until --jobs items run at once
  exec.total = 18;
  BatchState state;
  BatchOptions options;
  options.jobs = 4;
  options.jobs_per_host = 2;
  // h2 may take one item at a time only (the plan's max_jobs).
  plan.max_jobs[HostUri(2)] = 1;
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  CHECK(r.summary.done == 18);
  CHECK(exec.peak == 4);
  // The first four items start together (each waits for company): h0, h1,
  // h2, then h0 again (the tie goes to plan order), so h0 reaches its limit
  // whatever the timing. Whether h1 later runs two at once depends on which
  // items finish first, so for h1 only the bound is checked (it was flaky
  // on a loaded machine as an equality).
  CHECK(exec.host_peak[HostUri(0)] == 2);
  CHECK(exec.host_peak[HostUri(1)] >= 1);
  CHECK(exec.host_peak[HostUri(1)] <= 2);
  CHECK(exec.host_peak[HostUri(2)] == 1);
  REQUIRE(r.hosts.size() == 3);
  CHECK(r.hosts[0].connect == HostUri(0));
  CHECK(r.hosts[0].items == 6);
  CHECK(r.hosts[0].done == 6);
  CHECK(r.hosts[0].peak == 2);
  CHECK(r.hosts[2].peak == 1);
}

TEST_CASE("batch hosts: no host idles while another's items queue") {
  // A plan grouped by host, at --jobs 3 over 3 hosts: taken in plan
  // order, all three would go to h0 and h1, h2 idle till the end.
  BatchPlan plan = Grouped(3, 4);
  FakeExecutor exec;
  exec.wait_for_hosts = 3;  // each item waits until every host is busy
  exec.total = 12;
  BatchState state;
  BatchOptions options;
  options.jobs = 3;
  RecordingObserver obs;
  BatchReport r = RunBatch(plan, state, exec, options, &obs);
  CHECK(r.summary.done == 12);
  CHECK(exec.hosts_peak == 3);
  // Within a host, plan order. Taken from the runner's start events, which
  // it reports under its lock in the order it takes items: two of a host's
  // items started together may reach the executor in either order (that
  // made this check fail once under ASan when it read exec.executed).
  std::vector<std::string> h1;
  for (const std::string& e : obs.events) {
    if (e.rfind("start ", 0) == 0 && e.find(" h1-") != std::string::npos) {
      h1.push_back(e.substr(e.find(" h1-") + 1));
    }
  }
  CHECK(h1 == std::vector<std::string>{"h1-vm0", "h1-vm1", "h1-vm2", "h1-vm3"});
}

TEST_CASE("batch hosts: with one job, plan order whatever the hosts") {
  BatchPlan plan = Grouped(2, 3);
  FakeExecutor exec;
  BatchState state;
  BatchOptions options;
  RunBatch(plan, state, exec, options, nullptr);
  CHECK(exec.executed == std::vector<std::string>{"h0-vm0", "h0-vm1", "h0-vm2",
                                                  "h1-vm0", "h1-vm1",
                                                  "h1-vm2"});
}

TEST_CASE("batch hosts: an unreachable host fails its items fast") {
  BatchPlan plan = Grouped(3, 4);
  FakeExecutor exec;
  exec.down_hosts = {HostUri(1)};
  BatchState state;
  BatchOptions options;
  options.jobs = 2;
  options.jobs_per_host = 1;
  RecordingObserver obs;
  BatchReport r = RunBatch(plan, state, exec, options, &obs);
  CHECK(r.summary.done == 8);
  CHECK(r.summary.failed == 4);
  CHECK(!r.summary.ok);
  for (size_t i = 4; i < 8; ++i) {
    CAPTURE(i);
    const ItemResult& item = r.items[i];
    CHECK(item.status == ItemStatus::kFailed);
    // A new item too (issue 15, bug 5: it said "new").
    CHECK(item.reason == "target unreachable");
    CHECK(item.error.message().find(Quote(HostUri(1))) != std::string::npos);
  }
  // Asked once, never tried again; none of its items ran or was recorded.
  CHECK(exec.connects[HostUri(1)] == 1);
  for (const std::string& key : exec.executed) CHECK(key.rfind("h1-", 0) != 0);
  for (int i = 0; i < 4; ++i) {
    CHECK(state.items.count("h1-vm" + std::to_string(i)) == 0);
  }
  // One line each (finished, never started).
  size_t lines = 0;
  for (const std::string& e : obs.events) {
    if (e.find(" h1-") != std::string::npos) {
      ++lines;
      CHECK(e.rfind("finish ", 0) == 0);
    }
  }
  CHECK(lines == 4);
  REQUIRE(r.hosts.size() == 3);
  CHECK(!r.hosts[1].unreachable.empty());
  CHECK(r.hosts[1].failed == 4);
  CHECK(r.hosts[0].unreachable.empty());
}

TEST_CASE("batch hosts: a slow host's connect holds up only its items") {
  // h0 answers slowly; h1's items run meanwhile.
  BatchPlan plan = Grouped(2, 3);
  FakeExecutor exec;
  exec.down_hosts = {HostUri(0)};
  exec.connect_delay = std::chrono::milliseconds(300);
  BatchState state;
  BatchOptions options;
  options.jobs = 2;
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  CHECK(r.summary.failed == 3);
  CHECK(r.summary.done == 3);
  CHECK(exec.connects[HostUri(0)] == 1);
}

TEST_CASE("batch hosts: a host dying mid-run is named in each failure") {
  // libvirt's errors from a connection that died say nothing of the host:
  // every failed item's error gets its URI, once, on one line.
  BatchPlan plan = Grouped(2, 4);
  FakeExecutor exec;
  exec.fail_with["h1-vm0"] = FailedError("cannot write data: Broken pipe");
  exec.fail_with["h1-vm1"] = FailedError("pool 'default': end of file");
  // Already named: not said twice.
  exec.fail_with["h1-vm2"] =
      FailedError("libvirt: cannot connect to " + Quote(HostUri(1)) +
                  ": no answer within 20 s");
  exec.unreadable = {"h1-vm3"};
  exec.failing = {"h0-vm3"};
  BatchState state;
  BatchOptions options;
  options.jobs = 2;
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  CHECK(r.summary.done == 3);
  CHECK(r.summary.failed == 5);
  const std::string h1 = HostUri(1);
  CHECK(r.items[4].error.message() == h1 + ": cannot write data: Broken pipe");
  CHECK(r.items[4].error.code() == ErrorCode::kFailed);
  CHECK(r.items[5].error.message() == h1 + ": pool 'default': end of file");
  CHECK(r.items[6].error.message() ==
        "libvirt: cannot connect to '" + h1 + "': no answer within 20 s");
  // A local failure too: the line says which host the item was for.
  CHECK(r.items[7].error.message() == h1 + ": /srv/h1-vm3.ova: no such file");
  CHECK(r.items[7].error.code() == ErrorCode::kNotFound);
  CHECK(r.items[3].error.message() ==
        HostUri(0) + ": /srv/h0-vm3.ova: member 'disk1.vmdk': digest mismatch");
  CHECK(r.items[3].error.code() == ErrorCode::kCorrupt);
  for (const ItemResult& item : r.items) {
    CHECK(item.error.message().find('\n') == std::string::npos);
    if (item.status != ItemStatus::kFailed) CHECK(item.error.ok());
  }
  // The state file says the same (the unreadable source left no record).
  CHECK(state.items.at("h1-vm0").error ==
        h1 + ": cannot write data: Broken pipe");
  CHECK(state.items.at("h0-vm3").error == r.items[3].error.message());
  CHECK(state.items.at("h0-vm0").error.empty());
  CHECK(state.items.count("h1-vm3") == 0);
}

TEST_CASE("batch hosts: an item on libvirt's default connection") {
  // No URI to name: the error is left as it was.
  BatchPlan plan = Grouped(1, 1);
  plan.items[0].connect = "";
  FakeExecutor exec;
  exec.fail_with["h0-vm0"] = FailedError("cannot write data: Broken pipe");
  BatchState state;
  BatchOptions options;
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  CHECK(r.items[0].error.message() == "cannot write data: Broken pipe");
}

}  // namespace
}  // namespace ova2virt
