// The batch runner with fake executors: scheduling (bounded parallelism
// really bounded), skip/retry rules, state updates, dry runs, interrupts.
// Export items: batch_items_test.cc.
#include "batch/batch.h"

#include <functional>
#include <set>

#include "batch/batch_test_fakes.h"
#include "core/cancel.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using batch_testing::CheckFingerprintEdits;
using batch_testing::DoneRecord;
using batch_testing::FakeClock;
using batch_testing::FakeExecutor;
using batch_testing::Item;
using batch_testing::ItemEdits;
using batch_testing::Plan;
using batch_testing::RecordingObserver;
using batch_testing::Source;

TEST_CASE("batch: every item runs, failures do not stop the others") {
  BatchPlan plan = Plan(4);
  FakeExecutor exec;
  exec.failing = {"vm1"};
  FakeClock clock;
  exec.during = [&](const BatchItem&) { clock.Advance(2.5); };
  RecordingObserver obs;
  BatchState state;
  BatchOptions options;
  options.clock = &clock;
  BatchReport r = RunBatch(plan, state, exec, options, &obs);

  REQUIRE(r.items.size() == 4);
  CHECK(r.items[0].status == ItemStatus::kDone);
  CHECK(r.items[1].status == ItemStatus::kFailed);
  CHECK(r.items[1].error.code() == ErrorCode::kCorrupt);
  // Named by its host (test:///default), like every failure.
  CHECK(r.items[1].error.message() ==
        "test:///default: /srv/vm1.ova: member 'disk1.vmdk': digest mismatch");
  CHECK(r.items[2].status == ItemStatus::kDone);
  CHECK(r.items[3].status == ItemStatus::kDone);
  for (const ItemResult& item : r.items) {
    CHECK(item.reason == "new");
    CHECK(item.seconds == doctest::Approx(2.5));
  }
  CHECK(r.items[0].domains == std::vector<std::string>{"vm0"});
  CHECK(r.items[0].warnings.size() == 1);
  CHECK(r.summary.total == 4);
  CHECK(r.summary.done == 3);
  CHECK(r.summary.failed == 1);
  CHECK(r.summary.seconds == doctest::Approx(10));
  CHECK_FALSE(r.summary.ok);
  CHECK_FALSE(r.summary.interrupted);

  // One at a time, in plan order, each announced and reported.
  CHECK(exec.executed == std::vector<std::string>{"vm0", "vm1", "vm2", "vm3"});
  CHECK(exec.peak == 1);
  CHECK(obs.events ==
        std::vector<std::string>{"start 0 vm0", "finish 0 vm0 done",
                                 "start 1 vm1", "finish 1 vm1 failed",
                                 "start 2 vm2", "finish 2 vm2 done",
                                 "start 3 vm3", "finish 3 vm3 done"});
  // The state was saved after every item, and says what happened.
  CHECK(obs.saves == 4);
  REQUIRE(state.items.size() == 4);
  const StateRecord& failed = state.items.at("vm1");
  CHECK(failed.status == StateRecord::kFailed);
  CHECK(failed.error ==
        "test:///default: /srv/vm1.ova: member 'disk1.vmdk': digest mismatch");
  const StateRecord& done = state.items.at("vm2");
  CHECK(done.status == StateRecord::kDone);
  CHECK(done.source.digest == "digest-vm2");
  CHECK(done.settings == SettingsFingerprint(plan.items[2]));
  CHECK(done.domains == std::vector<std::string>{"vm2"});
  REQUIRE(done.volumes.size() == 1);
  CHECK(done.volumes[0].name == "vm2-disk1.qcow2");
  CHECK(done.finished == 1700000000);
  CHECK(done.seconds == doctest::Approx(2.5));
  CHECK(done.input == "/srv/vm2.ova");
  CHECK(done.connect == "test:///default");
  CHECK(obs.saved.items.size() == 4);
}

TEST_CASE("batch: parallelism reaches --jobs and never exceeds it") {
  for (int jobs : {1, 2, 3, 5}) {
    CAPTURE(jobs);
    BatchPlan plan = Plan(11);
    FakeExecutor exec;
    exec.wait_for_company = true;
    exec.total = 11;
    exec.failing = {"vm4"};
    BatchState state;
    BatchOptions options;
    options.jobs = jobs;
    RecordingObserver obs;
    BatchReport r = RunBatch(plan, state, exec, options, &obs);
    CHECK(exec.peak == jobs);
    CHECK(exec.last_options.jobs == jobs);
    CHECK(exec.executed.size() == 11);
    std::set<std::string> unique(exec.executed.begin(), exec.executed.end());
    CHECK(unique.size() == 11);  // each item exactly once
    CHECK(r.summary.done == 10);
    CHECK(r.summary.failed == 1);
    CHECK(r.items[4].status == ItemStatus::kFailed);
    CHECK(state.items.size() == 11);
    CHECK(obs.saves == 11);
    CHECK(obs.events.size() == 22);
  }
}

TEST_CASE("batch: more jobs than items, and an empty plan") {
  BatchPlan plan = Plan(2);
  FakeExecutor exec;
  exec.wait_for_company = true;
  exec.total = 2;
  BatchState state;
  BatchOptions options;
  options.jobs = 8;
  BatchReport r = RunBatch(plan, state, exec, options, nullptr);
  CHECK(exec.peak == 2);
  CHECK(r.summary.done == 2);
  CHECK(r.summary.ok);

  BatchPlan empty;
  BatchReport e = RunBatch(empty, state, exec, options, nullptr);
  CHECK(e.items.empty());
  CHECK(e.summary.total == 0);
  CHECK(e.summary.ok);
}

TEST_CASE("batch: a re-run skips what is done and retries what failed") {
  BatchPlan plan = Plan(3);
  FakeExecutor exec;
  exec.failing = {"vm1"};
  BatchState state;
  RecordingObserver obs;
  RunBatch(plan, state, exec, {}, &obs);
  REQUIRE(state.items.at("vm1").status == StateRecord::kFailed);

  // Second run: vm1 is fixed.
  FakeExecutor again;
  RecordingObserver obs2;
  BatchReport r = RunBatch(plan, state, again, {}, &obs2);
  CHECK(r.items[0].status == ItemStatus::kSkipped);
  CHECK(r.items[0].reason == "done before");
  CHECK(r.items[0].domains == std::vector<std::string>{"vm0"});
  CHECK(r.items[1].status == ItemStatus::kDone);
  CHECK(r.items[1].reason == "failed before");
  CHECK(r.items[2].status == ItemStatus::kSkipped);
  CHECK(again.executed == std::vector<std::string>{"vm1"});
  CHECK(again.probed == std::vector<std::string>{"vm0", "vm2"});
  CHECK(r.summary.skipped == 2);
  CHECK(r.summary.done == 1);
  CHECK(r.summary.ok);
  CHECK(state.items.at("vm1").status == StateRecord::kDone);
  CHECK(obs2.saves == 1);  // skipped items change nothing

  // Third run: nothing to do.
  FakeExecutor third;
  BatchReport r3 = RunBatch(plan, state, third, {}, nullptr);
  CHECK(third.executed.empty());
  CHECK(r3.summary.skipped == 3);
  CHECK(r3.summary.ok);
}

TEST_CASE("batch: what makes a done item run again") {
  BatchItem item = Item("web");
  auto run_with = [&](const BatchItem& it, FakeExecutor& exec) {
    BatchPlan plan;
    plan.items = {it};
    BatchState state;
    state.items["web"] = DoneRecord(item, "digest-web");
    BatchReport r = RunBatch(plan, state, exec, {}, nullptr);
    return std::make_pair(r.items[0], state.items.at("web"));
  };
  SUBCASE("unchanged: skipped, the record untouched") {
    FakeExecutor exec;
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kSkipped);
    CHECK(exec.executed.empty());
    CHECK(rec.finished == 1600000000);
  }
  SUBCASE("the source changed") {
    FakeExecutor exec;
    exec.digests["web"] = "another-digest";
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "source changed");
    CHECK(exec.probed.empty());
    CHECK(rec.source.digest == "another-digest");
    CHECK(rec.finished > 1600000000);
  }
  SUBCASE("the settings changed") {
    FakeExecutor exec;
    BatchItem changed = item;
    changed.import.format = VolumeFormat::kRaw;
    auto [r, rec] = run_with(changed, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "settings changed");
    CHECK(rec.settings == SettingsFingerprint(changed));
  }
  SUBCASE("the domain or a volume is gone from the target") {
    FakeExecutor exec;
    exec.gone = {"web"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "target changed");
    CHECK(exec.probed == std::vector<std::string>{"web"});
    CHECK(exec.executed == std::vector<std::string>{"web"});
  }
  SUBCASE("an unreadable source fails and leaves the record as it was") {
    FakeExecutor exec;
    exec.unreadable = {"web"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kFailed);
    CHECK(r.reason == "source unreadable");
    CHECK(r.error.code() == ErrorCode::kNotFound);
    CHECK(exec.executed.empty());
    CHECK(rec.status == StateRecord::kDone);
    CHECK(rec.finished == 1600000000);
  }
  SUBCASE("an unreachable host fails and leaves the record as it was") {
    FakeExecutor exec;
    exec.unreachable = {"web"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kFailed);
    CHECK(r.reason == "target unreachable");
    CHECK(r.error.message() == "libvirt: cannot connect to 'test:///default'");
    CHECK(exec.executed.empty());
    CHECK(rec.status == StateRecord::kDone);
  }
  SUBCASE("a re-run that fails turns the record to failed") {
    FakeExecutor exec;
    exec.digests["web"] = "another-digest";
    exec.failing = {"web"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kFailed);
    CHECK(rec.status == StateRecord::kFailed);
    CHECK(rec.error.find("digest mismatch") != std::string::npos);
  }
}

TEST_CASE("batch: ReasonToRun") {
  BatchItem item = Item("web");
  std::string settings = SettingsFingerprint(item);
  StateRecord rec = DoneRecord(item, "d1");
  CHECK(ReasonToRun(nullptr, Source("d1"), settings) == "new");
  CHECK_FALSE(ReasonToRun(&rec, Source("d1"), settings).has_value());
  CHECK(ReasonToRun(&rec, Source("d2"), settings) == "source changed");
  CHECK(ReasonToRun(&rec, Source("d1"), "other") == "settings changed");
  rec.status = StateRecord::kFailed;
  CHECK(ReasonToRun(&rec, Source("d1"), settings) == "failed before");
}

TEST_CASE("batch: settings that shape the result, and those that do not") {
  BatchItem base = Item("web");
  base.import.policy.networks = {{"VM Network", NicBinding::kNetwork, "lan"},
                                 {"*", NicBinding::kUser, ""}};
  base.import.properties = {{"a", "1"}, {"b", "2"}};
  const std::string fp = SettingsFingerprint(base);
  CHECK(fp.size() == 64);

  ItemEdits changes = {
      {"connect", [](BatchItem& i) { i.connect = "qemu:///system"; }},
      {"name", [](BatchItem& i) { i.import.name = "web2"; }},
      {"pool", [](BatchItem& i) { i.import.pool = "fast"; }},
      {"storage_dir", [](BatchItem& i) { i.import.storage_dir = "/d"; }},
      {"format", [](BatchItem& i) { i.import.format = VolumeFormat::kRaw; }},
      {"disk_bus",
       [](BatchItem& i) { i.import.policy.disk_bus = DiskBusChoice::kSata; }},
      {"nic_model",
       [](BatchItem& i) {
         i.import.policy.nic_model = NicModelChoice::kVirtio;
       }},
      {"virt_type",
       [](BatchItem& i) { i.import.policy.virt_type = VirtType::kQemu; }},
      {"network target",
       [](BatchItem& i) { i.import.policy.networks[0].target = "wan"; }},
      {"network kind",
       [](BatchItem& i) {
         i.import.policy.networks[1].kind = NicBinding::kNone;
       }},
      {"vsys", [](BatchItem& i) { i.import.vsys = "1"; }},
      {"deployment", [](BatchItem& i) { i.import.deployment = "big"; }},
      {"prop value", [](BatchItem& i) { i.import.properties[0].second = "9"; }},
      {"verify", [](BatchItem& i) { i.import.verify = false; }},
      {"kind", [](BatchItem& i) { i.kind = BatchItemKind::kExport; }},
  };
  CheckFingerprintEdits(base, changes, true);
  ItemEdits same = {
      {"start", [](BatchItem& i) { i.import.start = true; }},
      {"force", [](BatchItem& i) { i.import.force = true; }},
      {"threads", [](BatchItem& i) { i.import.threads = 3; }},
      {"upload", [](BatchItem& i) { i.import.upload = true; }},
      {"ca", [](BatchItem& i) { i.import.ca_file = "/ca.pem"; }},
      {"input path", [](BatchItem& i) { i.import.input = "/moved/web.ova"; }},
      {"network order",
       [](BatchItem& i) {
         std::swap(i.import.policy.networks[0], i.import.policy.networks[1]);
       }},
      {"prop order",
       [](BatchItem& i) {
         std::swap(i.import.properties[0], i.import.properties[1]);
       }},
  };
  CheckFingerprintEdits(base, same, false);
  // With storage_dir the pool plays no part.
  BatchItem files = base;
  files.import.storage_dir = "/d";
  BatchItem other_pool = files;
  other_pool.import.pool = "ignored";
  CHECK(SettingsFingerprint(files) == SettingsFingerprint(other_pool));
  // A value cannot pass for two: "ab" + "c" differs from "a" + "bc".
  BatchItem x = base, y = base;
  x.import.name = "ab";
  x.import.pool = "c";
  y.import.name = "a";
  y.import.pool = "bc";
  CHECK(SettingsFingerprint(x) != SettingsFingerprint(y));
}

TEST_CASE("batch: a dry run decides, checks and changes nothing") {
  BatchPlan plan = Plan(3);
  BatchState state;
  state.items["vm0"] = DoneRecord(plan.items[0], "digest-vm0");
  FakeExecutor exec;
  exec.failing = {"vm2"};
  RecordingObserver obs;
  BatchOptions options;
  options.dry_run = true;
  options.jobs = 2;
  BatchReport r = RunBatch(plan, state, exec, options, &obs);
  CHECK(r.items[0].status == ItemStatus::kWouldSkip);
  CHECK(r.items[1].status == ItemStatus::kWouldRun);
  CHECK(r.items[1].plan_text == "plan of vm1");
  CHECK(r.items[2].status == ItemStatus::kFailed);
  CHECK(exec.last_options.dry_run);
  CHECK(r.summary.would_run == 1);
  CHECK(r.summary.would_skip == 1);
  CHECK(r.summary.failed == 1);
  CHECK_FALSE(r.summary.ok);
  CHECK(obs.saves == 0);
  CHECK(state.items.size() == 1);
}

TEST_CASE("batch: an interrupt starts nothing more; what finished is saved") {
  for (int jobs : {1, 2}) {
    CAPTURE(jobs);
    ResetCancel();
    BatchPlan plan = Plan(6);
    FakeExecutor exec;
    exec.during = [](const BatchItem& item) {
      if (item.key == "vm1") RequestCancel();
    };
    RecordingObserver obs;
    BatchState state;
    BatchOptions options;
    options.jobs = jobs;
    BatchReport r = RunBatch(plan, state, exec, options, &obs);
    ResetCancel();
    CHECK(r.summary.interrupted);
    CHECK_FALSE(r.summary.ok);
    // vm0 and vm1 ran (and with two jobs, at most one more had started).
    CHECK(exec.executed.size() <= static_cast<size_t>(1 + jobs));
    CHECK(r.items[5].status == ItemStatus::kNotStarted);
    CHECK(r.summary.not_started >= 6 - exec.executed.size());
    CHECK(state.items.size() == exec.executed.size());
    CHECK(obs.saves == static_cast<int>(exec.executed.size()));
    for (const std::string& key : exec.executed) {
      CHECK(state.items.count(key) == 1);
    }
  }
}

TEST_CASE("batch: a state that cannot be saved stops the batch") {
  BatchPlan plan = Plan(3);
  FakeExecutor exec;
  RecordingObserver obs;
  obs.fail_saves = true;
  BatchState state;
  BatchReport r = RunBatch(plan, state, exec, {}, &obs);
  CHECK(r.state_error.message() == "plan.json.state: No space left");
  CHECK(r.items[0].status == ItemStatus::kDone);
  CHECK(r.items[1].status == ItemStatus::kNotStarted);
  CHECK(r.items[2].status == ItemStatus::kNotStarted);
  CHECK(exec.executed.size() == 1);
  CHECK_FALSE(r.summary.ok);
}

TEST_CASE("batch: names") {
  CHECK(BatchItemKindName(BatchItemKind::kImport) == "import");
  CHECK(BatchItemKindName(BatchItemKind::kExport) == "export");
  CHECK(ItemStatusName(ItemStatus::kNotStarted) == "not-started");
  CHECK(ItemStatusName(ItemStatus::kWouldSkip) == "would-skip");
  CHECK(SystemClock().UnixTime() > 1600000000);
}

}  // namespace
}  // namespace ova2virt
