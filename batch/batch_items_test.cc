// The batch runner with export items beside imports (fake executor):
// plan order, what the state records of an export, and what makes a done
// export run again; the settings that shape an export's package.
#include <functional>

#include "batch/batch.h"
#include "batch/batch_test_fakes.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using batch_testing::CheckFingerprintEdits;
using batch_testing::ExportItem;
using batch_testing::FakeExecutor;
using batch_testing::Item;
using batch_testing::ItemEdits;
using batch_testing::RecordingObserver;
using batch_testing::Source;

TEST_CASE("batch: exports and imports in one plan, in plan order") {
  BatchPlan plan;
  plan.items = {Item("web"), ExportItem("web"), ExportItem("db"), Item("app")};
  FakeExecutor exec;
  exec.failing = {"db.ova"};
  RecordingObserver obs;
  BatchState state;
  BatchReport r = RunBatch(plan, state, exec, {}, &obs);
  // With one job, items run in plan order: an export of what an earlier
  // import defines sees it defined.
  CHECK(exec.executed ==
        std::vector<std::string>{"web", "web.ova", "db.ova", "app"});
  CHECK(r.items[1].status == ItemStatus::kDone);
  CHECK(r.items[1].reason == "new");
  CHECK(r.items[1].domains.empty());
  CHECK(r.items[2].status == ItemStatus::kFailed);
  CHECK(r.summary.done == 3);
  CHECK(r.summary.failed == 1);

  const StateRecord& web = state.items.at("web.ova");
  CHECK(web.status == StateRecord::kDone);
  CHECK(web.kind == BatchItemKind::kExport);
  CHECK(web.input == "web");  // an export's input is its domain
  CHECK(web.source.digest == "digest-web.ova");
  CHECK(web.settings == SettingsFingerprint(plan.items[1]));
  CHECK(web.domains.empty());
  CHECK(web.volumes.empty());
  REQUIRE(web.output.has_value());
  CHECK(web.output->path == "/exports/web.ova");
  CHECK(web.output->manifest_sha256 == "manifest-of-digest-web.ova");
  CHECK(web.output->files.size() == 2);
  // A failed export records no output, whatever its work said.
  const StateRecord& db = state.items.at("db.ova");
  CHECK(db.status == StateRecord::kFailed);
  CHECK(db.kind == BatchItemKind::kExport);
  CHECK_FALSE(db.output.has_value());
  CHECK(db.error.find("digest mismatch") != std::string::npos);
  CHECK_FALSE(state.items.at("web").output.has_value());

  // Re-run: the done export is skipped (its output intact), the failed
  // one retried.
  FakeExecutor again;
  BatchReport r2 = RunBatch(plan, state, again, {}, nullptr);
  CHECK(r2.items[1].status == ItemStatus::kSkipped);
  CHECK(r2.items[1].reason == "done before");
  CHECK(r2.items[2].status == ItemStatus::kDone);
  CHECK(r2.items[2].reason == "failed before");
  CHECK(again.executed == std::vector<std::string>{"db.ova"});
  CHECK(again.probed == std::vector<std::string>{"web", "web.ova", "app"});
  CHECK(r2.summary.ok);
  REQUIRE(state.items.at("db.ova").output.has_value());
}

TEST_CASE("batch: what makes a done export run again") {
  BatchItem item = ExportItem("web");
  auto run_with = [&](const BatchItem& it, FakeExecutor& exec) {
    BatchPlan plan;
    plan.items = {it};
    BatchState state;
    StateRecord done;
    done.status = StateRecord::kDone;
    done.kind = BatchItemKind::kExport;
    done.input = "web";
    done.source = Source("digest-web.ova");
    done.settings = SettingsFingerprint(item);
    done.output = RecordedOutput{};
    done.output->path = "/exports/web.ova";
    done.finished = 1600000000;
    state.items[it.key] = done;
    BatchReport r = RunBatch(plan, state, exec, {}, nullptr);
    return std::make_pair(r.items[0], state.items.at(it.key));
  };
  SUBCASE("unchanged, the output intact: skipped, the record untouched") {
    FakeExecutor exec;
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kSkipped);
    CHECK(exec.executed.empty());
    CHECK(exec.probed == std::vector<std::string>{"web.ova"});
    CHECK(rec.finished == 1600000000);
  }
  SUBCASE("the output is gone or changed") {
    FakeExecutor exec;
    exec.gone = {"web.ova"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "target changed");
    CHECK(exec.executed == std::vector<std::string>{"web.ova"});
    REQUIRE(rec.output.has_value());
    CHECK(rec.output->manifest_sha256 == "manifest-of-digest-web.ova");
  }
  SUBCASE("the domain or its disks changed") {
    FakeExecutor exec;
    exec.digests["web.ova"] = "edited";
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "source changed");
    CHECK(exec.probed.empty());
    CHECK(rec.source.digest == "edited");
  }
  SUBCASE("the package asked for changed") {
    FakeExecutor exec;
    BatchItem v2 = item;
    v2.export_request.ovf_version = 2;
    auto [r, rec] = run_with(v2, exec);
    CHECK(r.status == ItemStatus::kDone);
    CHECK(r.reason == "settings changed");
  }
  SUBCASE("the domain is gone: fails, the record stays done") {
    FakeExecutor exec;
    exec.unreadable = {"web.ova"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kFailed);
    CHECK(r.reason == "source unreadable");
    CHECK(exec.executed.empty());
    CHECK(rec.status == StateRecord::kDone);
    CHECK(rec.output.has_value());
  }
  SUBCASE("a re-run that fails turns the record to failed, output and all") {
    FakeExecutor exec;
    exec.gone = {"web.ova"};
    exec.failing = {"web.ova"};
    auto [r, rec] = run_with(item, exec);
    CHECK(r.status == ItemStatus::kFailed);
    CHECK(rec.status == StateRecord::kFailed);
    CHECK_FALSE(rec.output.has_value());
  }
}

TEST_CASE(
    "batch: export settings that shape the package, and those that do not") {
  BatchItem base = ExportItem("web");
  const std::string fp = SettingsFingerprint(base);
  CHECK(fp.size() == 64);
  CHECK(fp != SettingsFingerprint(Item("web")));

  ItemEdits changes = {
      {"connect", [](BatchItem& i) { i.connect = "qemu:///system"; }},
      {"domain", [](BatchItem& i) { i.export_request.domain = "db"; }},
      {"layout",
       [](BatchItem& i) {
         i.export_request.output.clear();
         i.export_request.ovf_dir = "/exports/web";
       }},
      {"ovf_version", [](BatchItem& i) { i.export_request.ovf_version = 2; }},
      {"digest",
       [](BatchItem& i) { i.export_request.digest = DigestAlgorithm::kSha1; }},
      {"signed",
       [](BatchItem& i) {
         i.export_request.sign_key = "/k.pem";
         i.export_request.sign_cert = "/c.pem";
       }},
      {"no_media",
       [](BatchItem& i) { i.export_request.policy.include_media = false; }},
      {"kind", [](BatchItem& i) { i.kind = BatchItemKind::kImport; }},
  };
  CheckFingerprintEdits(base, changes, true);
  ItemEdits same = {
      // Where the output goes is checked by StillThere, not fingerprinted:
      // a plan moved with its outputs stays done.
      {"output path",
       [](BatchItem& i) { i.export_request.output = "/moved/web.ova"; }},
      {"live", [](BatchItem& i) { i.export_request.live = true; }},
      {"download", [](BatchItem& i) { i.export_request.download = true; }},
      {"threads", [](BatchItem& i) { i.export_request.threads = 2; }},
      {"key", [](BatchItem& i) { i.key = "other-id"; }},
      {"import settings", [](BatchItem& i) { i.import.pool = "fast"; }},
  };
  CheckFingerprintEdits(base, same, false);
  // Which key signs is the certificate's business (part of the source's
  // identity): another path to a certificate is no other setting.
  BatchItem a = base, b = base;
  a.export_request.sign_key = b.export_request.sign_key = "/k.pem";
  a.export_request.sign_cert = "/c.pem";
  b.export_request.sign_cert = "/elsewhere/c.pem";
  CHECK(SettingsFingerprint(a) == SettingsFingerprint(b));
  // The directory's path, like the .ova's, is not a setting.
  BatchItem d1 = base, d2 = base;
  d1.export_request.output.clear();
  d2.export_request.output.clear();
  d1.export_request.ovf_dir = "/a";
  d2.export_request.ovf_dir = "/b";
  CHECK(SettingsFingerprint(d1) == SettingsFingerprint(d2));
  CHECK(ExportOutputPath(d1.export_request) == "/a");
  CHECK(ExportOutputPath(base.export_request) == "/exports/web.ova");
}

}  // namespace
}  // namespace ova2virt
