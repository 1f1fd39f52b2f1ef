// The state file: round trip, and what a damaged one does.
#include "cli/batch_state.h"

#include "tests/support/test_util.h"

namespace ova2virt::cli {
namespace {

using testing::TempDir;

TEST_CASE("batch state: where it lives") {
  CHECK(DefaultStatePath("/p/migrate.json") == "/p/migrate.state.json");
  CHECK(DefaultStatePath("plan") == "plan.state.json");
  CHECK(DefaultStatePath(".json") == ".json.state.json");
}

BatchState SampleState() {
  BatchState state;
  StateRecord done;
  done.status = StateRecord::kDone;
  done.input = "/srv/web.ova";
  done.connect = "qemu:///system";
  done.source.digest = std::string(64, 'a');
  done.source.descriptor_sha256 = std::string(64, 'b');
  done.source.manifest_sha256 = std::string(64, 'c');
  done.source.pinned_by_manifest = true;
  done.source.size = uint64_t{1} << 40;
  done.source.mtime_ns = 1700000000123456789;
  done.settings = std::string(64, 'd');
  done.domains = {"web", "web-db"};
  done.volumes = {{"default", "web-disk1.qcow2", "/var/lib/x/web-disk1.qcow2"},
                  {"", "web-db-disk1.raw", "/d/web-db-disk1.raw"}};
  done.finished = 1700000001;
  done.seconds = 12.25;
  state.items["web"] = done;
  StateRecord failed;
  failed.input = "/srv/\"odd\"\nname.ova";
  failed.error = "/srv/db.ova: member 'db.vmdk': SHA256 digest mismatch";
  state.items["db \u00e9"] = failed;
  return state;
}

void CheckSame(const StateRecord& a, const StateRecord& b) {
  CHECK(a.status == b.status);
  CHECK(a.kind == b.kind);
  CHECK(a.input == b.input);
  CHECK(a.connect == b.connect);
  CHECK(a.source.digest == b.source.digest);
  CHECK(a.source.descriptor_sha256 == b.source.descriptor_sha256);
  CHECK(a.source.manifest_sha256 == b.source.manifest_sha256);
  CHECK(a.source.pinned_by_manifest == b.source.pinned_by_manifest);
  CHECK(a.source.size == b.source.size);
  CHECK(a.source.mtime_ns == b.source.mtime_ns);
  CHECK(a.settings == b.settings);
  CHECK(a.domains == b.domains);
  REQUIRE(a.volumes.size() == b.volumes.size());
  for (size_t i = 0; i < a.volumes.size(); ++i) {
    CHECK(a.volumes[i].pool == b.volumes[i].pool);
    CHECK(a.volumes[i].name == b.volumes[i].name);
    CHECK(a.volumes[i].path == b.volumes[i].path);
  }
  CHECK(a.finished == b.finished);
  CHECK(a.seconds == b.seconds);
  CHECK(a.error == b.error);
}

TEST_CASE("batch state: written and read back") {
  BatchState state = SampleState();
  std::string text = FormatBatchState(state);
  auto back = ParseBatchState(text);
  REQUIRE_OK(back);
  REQUIRE(back->items.size() == 2);
  for (const auto& [key, rec] : state.items) {
    CAPTURE(key);
    CheckSame(back->items.at(key), rec);
  }
  CHECK(FormatBatchState(*back) == text);  // deterministic

  TempDir dir;
  std::string path = dir.Join("s.state.json");
  auto none = LoadBatchState(path);
  REQUIRE_OK(none);
  CHECK(none->items.empty());
  REQUIRE_OK(SaveBatchState(path, state));
  REQUIRE_OK(SaveBatchState(path, state));  // replaces
  auto loaded = LoadBatchState(path);
  REQUIRE_OK(loaded);
  CHECK(loaded->items.size() == 2);
  CHECK(dir.List() == std::vector<std::string>{"s.state.json"});
}

TEST_CASE("batch state: a damaged state file is refused, not guessed at") {
  const std::string advice =
      " (remove it to start over: every item then runs again)";
  CHECK(ParseBatchState("").status().message() ==
        "not a state file ova2virt wrote" + advice);
  CHECK(ParseBatchState("{\"items\": {}}").status().code() ==
        ErrorCode::kCorrupt);
  CHECK(ParseBatchState("{\"ova2virt_batch_state\": 2, \"items\": {}}")
            .status()
            .code() == ErrorCode::kUnsupported);
  std::string good = FormatBatchState(SampleState());
  // Each field broken in turn.
  for (const char* field :
       {"\"status\"", "\"kind\"", "\"digest\"", "\"settings\"", "\"domains\"",
        "\"volumes\"", "\"finished\"", "\"seconds\"", "\"size\""}) {
    CAPTURE(field);
    std::string broken = good;
    size_t at = broken.find(field);
    REQUIRE(at != std::string::npos);
    broken.replace(at, std::string(field).size(), "\"renamed\"");
    auto r = ParseBatchState(broken);
    CHECK(r.status().code() == ErrorCode::kCorrupt);
    CHECK(r.status().message().find(advice) != std::string::npos);
  }
  std::string bad_status = good;
  bad_status.replace(bad_status.find("\"done\""), 6, "\"maybe\"");
  CHECK(ParseBatchState(bad_status).status().message() ==
        "item 'web': not as ova2virt wrote it" + advice);

  TempDir dir;
  testing::WriteFileOrDie(dir.Join("s.json"), "garbage");
  auto loaded = LoadBatchState(dir.Join("s.json"));
  CHECK(loaded.status().message() ==
        dir.Join("s.json") + ": not a state file ova2virt wrote" + advice);
}

}  // namespace
}  // namespace ova2virt::cli
