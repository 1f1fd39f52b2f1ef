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
  StateRecord exported;
  exported.status = StateRecord::kDone;
  exported.kind = BatchItemKind::kExport;
  exported.input = "web";
  exported.source.digest = std::string(64, 'e');
  exported.source.descriptor_sha256 = std::string(64, 'f');
  exported.source.size = 3u << 30;
  exported.source.mtime_ns = 1700000000987654321;
  exported.settings = std::string(64, '1');
  RecordedOutput out;
  out.path = "/exports/web.ova";
  out.size = 123456;
  out.manifest = "web.mf";
  out.manifest_sha256 = std::string(64, '2');
  out.files = {{"web.ovf", 512, 4096},
               {"web.mf", 5120, 137},
               {"web-disk1.vmdk", 6144, 117312}};
  exported.output = out;
  state.items["exports/web.ova"] = exported;
  StateRecord dir = exported;
  dir.output->directory = true;
  dir.output->path = "/exports/web-ovf";
  for (RecordedFile& f : dir.output->files) f.offset = 0;
  state.items["web-ovf"] = dir;
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
  REQUIRE(a.output.has_value() == b.output.has_value());
  if (a.output) {
    CHECK(a.output->path == b.output->path);
    CHECK(a.output->directory == b.output->directory);
    CHECK(a.output->size == b.output->size);
    CHECK(a.output->manifest == b.output->manifest);
    CHECK(a.output->manifest_sha256 == b.output->manifest_sha256);
    REQUIRE(a.output->files.size() == b.output->files.size());
    for (size_t i = 0; i < a.output->files.size(); ++i) {
      CHECK(a.output->files[i].name == b.output->files[i].name);
      CHECK(a.output->files[i].offset == b.output->files[i].offset);
      CHECK(a.output->files[i].size == b.output->files[i].size);
    }
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
  REQUIRE(back->items.size() == 4);
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
  CHECK(loaded->items.size() == 4);
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
        "\"volumes\"", "\"finished\"", "\"seconds\"", "\"size\"", "\"layout\"",
        "\"manifest_sha256\"", "\"files\"", "\"offset\""}) {
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
        "item 'exports/web.ova': not as ova2virt wrote it" + advice);
  std::string bad_layout = good;
  bad_layout.replace(bad_layout.find("\"ova\""), 5, "\"zip\"");
  CHECK(ParseBatchState(bad_layout).status().code() == ErrorCode::kCorrupt);

  TempDir dir;
  testing::WriteFileOrDie(dir.Join("s.json"), "garbage");
  auto loaded = LoadBatchState(dir.Join("s.json"));
  CHECK(loaded.status().message() ==
        dir.Join("s.json") + ": not a state file ova2virt wrote" + advice);
}

}  // namespace
}  // namespace ova2virt::cli
