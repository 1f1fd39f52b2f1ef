// The import use case through FakeConnection: no daemon. Every libvirt
// step fails in turn (before its effect, and after it as a lost reply) and
// the import must leave nothing behind; --force, a descriptor after the
// disks, a failed verification. The daemon tests (tests/integration/)
// check the same against a real libvirtd.
#include "pipeline/import.h"

#include <filesystem>
#include <set>

#include "core/file.h"
#include "core/io_faults.h"
#include "ova/test_fixtures.h"
#include "pipeline/fake_connection.h"
#include "pipeline/test_packages.h"

namespace ova2virt {
namespace {

using testing::FakeConnection;
using testing::TempDir;
using testing::TestPackage;

struct Fixture {
  TempDir dir;
  std::string ova = TestPackage{}.Write(dir, "fakevm.ova");
  FakeConnection conn;

  ImportRequest Request() const {
    ImportRequest r;
    r.input = ova;
    r.journal_dir = dir.Join("journal");
    r.threads = 1;
    return r;
  }
  Result<ImportReport> Import() { return ImportAppliance(conn, Request()); }
};

// The calls that change the host, in order.
std::vector<std::string> Changes(const FakeConnection& conn) {
  static const std::set<std::string> kinds = {
      "CreateVolume", "DeleteVolume",  "DefineDomain", "UndefineDomain",
      "StartDomain",  "DestroyDomain", "RefreshPool",  "OpenUpload",
      "UploadClose",  "CreateDirPool"};
  std::vector<std::string> out;
  for (const std::string& c : conn.Calls()) {
    if (kinds.count(c.substr(0, c.find(' ')))) out.push_back(c);
  }
  return out;
}

// No journal left in `dir` (none made, or removed).
bool NoJournal(const std::string& dir) {
  std::error_code ec;
  return !std::filesystem::exists(dir, ec) || std::filesystem::is_empty(dir);
}

bool Empty(const FakeConnection& conn) {
  return conn.volumes.empty() && conn.domains.empty();
}

TEST_CASE("import (fake host): two volumes streamed, then one domain") {
  Fixture f;
  auto r = f.Import();
  REQUIRE_OK(r);
  REQUIRE(r->domains.size() == 1);
  const ImportedDomain& d = r->domains[0];
  CHECK(d.name == "fakevm");
  CHECK(d.uuid == "00000000-0000-4000-8000-000000000001");
  CHECK(r->verified);
  REQUIRE(d.volumes.size() == 2);
  REQUIRE(f.conn.volumes.size() == 2);
  for (const ImportedVolume& v : d.volumes) {
    REQUIRE(f.conn.HasVolume("default", v.name));
    const auto& fv = f.conn.volumes.at({"default", v.name});
    CHECK(fv.uploads_closed == 1);
    CHECK(fv.info.format == "qcow2");
    CHECK(fv.data.rfind("QFI\xfb", 0) == 0);  // a qcow2 image arrived
    // Not local: the domain names the volume, not its path.
    CHECK(d.xml.find("<source pool=\"default\" volume=\"" + v.name + "\"/>") !=
          std::string::npos);
  }
  REQUIRE(f.conn.domains.count("fakevm"));
  CHECK_FALSE(f.conn.domains.at("fakevm").running);
  std::vector<std::string> changes = Changes(f.conn);
  std::vector<std::string> want = {"CreateVolume default/" + d.volumes[0].name,
                                   "OpenUpload default/" + d.volumes[0].name,
                                   "UploadClose default/" + d.volumes[0].name,
                                   "CreateVolume default/" + d.volumes[1].name,
                                   "OpenUpload default/" + d.volumes[1].name,
                                   "UploadClose default/" + d.volumes[1].name,
                                   "RefreshPool default",
                                   "DefineDomain fakevm"};
  CHECK(changes == want);
  // The domain carries the import's id; the journal is gone once committed.
  CHECK(f.conn.domains.at("fakevm").xml.find("import-id") != std::string::npos);
  CHECK(NoJournal(f.dir.Join("journal")));
}

// A pool whose files this process can open: written in place, or with
// --upload through the upload stream all the same (the file stays empty:
// the fake keeps what was uploaded).
TEST_CASE("import (fake host): a local pool, in place or --upload") {
  for (bool upload : {false, true}) {
    CAPTURE(upload);
    Fixture f;
    std::string images = f.dir.Join("images");
    std::filesystem::create_directory(images);
    f.conn.local = true;
    f.conn.pools["default"].is_local = true;
    f.conn.pools["default"].target_path = images;
    ImportRequest req = f.Request();
    req.upload = upload;
    auto r = ImportAppliance(f.conn, req);
    REQUIRE_OK(r);
    CHECK_FALSE(r->warnings.Has("import.upload-fallback"));
    REQUIRE(r->domains.size() == 1);
    REQUIRE(r->domains[0].volumes.size() == 2);
    int uploads = 0, writes = 0;
    for (const std::string& c : f.conn.Calls()) {
      uploads += c.rfind("OpenUpload ", 0) == 0;
      writes += c.rfind("UploadWrite", 0) == 0;
    }
    CHECK(uploads == (upload ? 2 : 0));
    CHECK((writes > 0) == upload);
    for (const ImportedVolume& v : r->domains[0].volumes) {
      std::string file = images + "/" + v.name;
      auto bytes = ReadSmallFile(file, 64 << 20);
      REQUIRE_OK(bytes);
      const auto& fv = f.conn.volumes.at({"default", v.name});
      // In place: a qcow2 image in the file; uploaded: in the fake.
      const std::string& got = upload ? fv.data : *bytes;
      CHECK(got.rfind("QFI\xfb", 0) == 0);
      CHECK((upload ? *bytes : fv.data).empty());
    }
  }
}

TEST_CASE("import (fake host): --upload with --storage-dir is a usage error") {
  Fixture f;
  ImportRequest req = f.Request();
  req.upload = true;
  req.storage_dir = f.dir.path();
  auto r = ImportAppliance(f.conn, req);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kUsage);
  CHECK(Changes(f.conn).empty());
}

TEST_CASE(
    "import (fake host): --start starts the domain, a dry run makes "
    "nothing") {
  Fixture f;
  ImportRequest dry = f.Request();
  dry.dry_run = true;
  auto plan = ImportAppliance(f.conn, dry);
  REQUIRE_OK(plan);
  CHECK(Changes(f.conn).empty());
  CHECK(Empty(f.conn));
  CHECK(plan->plan_text.find("domain 'fakevm'") != std::string::npos);

  ImportRequest start = f.Request();
  start.start = true;
  REQUIRE_OK(ImportAppliance(f.conn, start));
  CHECK(f.conn.domains.at("fakevm").running);
  CHECK(Changes(f.conn).back() == "StartDomain fakevm");
}

// One import per call of a clean run, that call failing (before its effect,
// then after it). The import either fails naming the call and leaves no
// volume, no domain and no journal, or (for the few calls whose failure it
// tolerates) succeeds with everything in place.
TEST_CASE("import (fake host): rollback at every libvirt step") {
  std::vector<std::string> calls;
  {
    Fixture clean;
    ImportRequest start = clean.Request();
    start.start = true;
    REQUIRE_OK(ImportAppliance(clean.conn, start));
    calls = clean.conn.Calls();
  }
  REQUIRE(calls.size() > 20);
  // The only calls whose failure the import works around: the host's
  // capabilities (kvm is then assumed) and the defined domain's XML (read
  // for its uuid only).
  const std::set<std::string> tolerated_kinds = {"Capabilities",
                                                 "GetDomainXml"};
  std::map<std::string, int> seen;
  int failed = 0, tolerated = 0;
  for (const std::string& call : calls) {
    std::string kind = call.substr(0, call.find(' '));
    int nth = ++seen[kind];
    for (bool after : {false, true}) {
      CAPTURE(call);
      CAPTURE(nth);
      CAPTURE(after);
      Fixture f;
      f.conn.FailNth(kind, nth, after);
      ImportRequest start = f.Request();
      start.start = true;
      auto r = ImportAppliance(f.conn, start);
      // The journal is removed by a rollback that removed everything.
      CHECK(NoJournal(f.dir.Join("journal")));
      if (r.ok()) {
        CHECK(tolerated_kinds.count(kind));
        CHECK(f.conn.volumes.size() == 2);
        CHECK(f.conn.domains.size() == 1);
        ++tolerated;
        continue;
      }
      ++failed;
      CHECK(Empty(f.conn));
      CHECK(r.status().message().find(kind + ": libvirt: injected failure") !=
            std::string::npos);
      CHECK(r.status().message().rfind(f.ova + ": ", 0) == 0);
    }
  }
  MESSAGE("calls: " << calls.size() << ", failed imports: " << failed
                    << ", tolerated: " << tolerated);
  CHECK(tolerated == 4);
  CHECK(failed == 2 * static_cast<int>(calls.size()) - tolerated);
}

// What faults_daemon.sh does to the I/O of an import (OVA2VIRT_FAULT), in
// process: every read, write, sync and open fails in turn (EIO). The
// package is read, the journal written; the disks go to the fake.
TEST_CASE("import (fake host): every I/O operation failing in turn") {
  struct Disarm {
    ~Disarm() { DisarmIoFaults(); }
  } disarm;
  IoFaultCounts counts;
  {
    Fixture clean;
    ArmIoFault({IoOp::kRead, 0, 0});  // count only
    REQUIRE_OK(clean.Import());
    counts = CurrentIoFaultCounts();
    DisarmIoFaults();
  }
  REQUIRE(counts.read > 2);
  REQUIRE(counts.write > 0);
  int failed = 0, swallowed = 0;
  for (auto [op, total] : {std::pair{IoOp::kRead, counts.read},
                           {IoOp::kWrite, counts.write},
                           {IoOp::kSync, counts.sync},
                           {IoOp::kOpen, counts.open}}) {
    for (uint64_t n = 1; n <= total; ++n) {
      CAPTURE(static_cast<int>(op));
      CAPTURE(n);
      Fixture f;
      ArmIoFault({op, n, EIO});
      auto r = f.Import();
      DisarmIoFaults();
      if (r.ok()) {
        // What the import can do without (the journal, the check for data
        // after the archive's end): a warning names the error, as
        // faults_daemon.sh's check_succeeded wants.
        ++swallowed;
        bool named = false;
        for (const Diagnostic& d : r->warnings.items()) {
          named |= d.message.find("Input/output error") != std::string::npos;
        }
        CHECK(named);
        CHECK(f.conn.volumes.size() == 2);
        CHECK(f.conn.domains.size() == 1);
        continue;
      }
      ++failed;
      CHECK(r.status().message().find("Input/output error") !=
            std::string::npos);
      CHECK(Empty(f.conn));
    }
  }
  MESSAGE("I/O operations: " << counts.read << " reads, " << counts.write
                             << " writes, " << counts.sync << " syncs, "
                             << counts.open
                             << " opens; failed imports: " << failed
                             << ", survived with a warning: " << swallowed);
  CHECK(failed > 0);
}

TEST_CASE("import (fake host): a lost reply is rolled back") {
  SUBCASE("the second volume create") {
    Fixture f;
    f.conn.FailNth("CreateVolume", 2, /*after=*/true);
    auto r = f.Import();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ErrorCode::kFailed);
    CHECK(Empty(f.conn));
    std::vector<std::string> changes = Changes(f.conn);
    REQUIRE(changes.size() == 6);
    // The volume whose create "failed" is found and removed too, newest
    // first.
    CHECK(changes[3].rfind("CreateVolume default/", 0) == 0);
    CHECK(changes[4] == "DeleteVolume " + changes[3].substr(13));
    CHECK(changes[5] == "DeleteVolume " + changes[0].substr(13));
  }
  SUBCASE("the define: the domain carries this import's id") {
    Fixture f;
    f.conn.FailNth("DefineDomain", 1, /*after=*/true);
    auto r = f.Import();
    REQUIRE_FALSE(r.ok());
    CHECK(Empty(f.conn));
    std::vector<std::string> calls = f.conn.Calls();
    auto at = std::find(calls.begin(), calls.end(), "DefineDomain fakevm");
    REQUIRE(at != calls.end());
    CHECK(std::find(at, calls.end(), "UndefineDomain fakevm") != calls.end());
  }
}

TEST_CASE(
    "import (fake host): what a rollback cannot remove is in the error "
    "and the journal stays") {
  Fixture f;
  f.conn.FailNth("DefineDomain", 1);
  f.conn.FailNth("DeleteVolume", 1);
  auto r = f.Import();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("DefineDomain: libvirt: injected failure") !=
        std::string::npos);
  CHECK(r.status().message().find(
            "; cleaning up failed too: rollback left 1 item(s) behind: "
            "DeleteVolume: libvirt: injected failure (call 1)") !=
        std::string::npos);
  CHECK(f.conn.volumes.size() == 1);
  CHECK(f.conn.domains.empty());
  CHECK_FALSE(NoJournal(f.dir.Join("journal")));
}

TEST_CASE(
    "import (fake host): a name taken stops the import, nothing changed") {
  Fixture f;
  auto first = f.Import();
  REQUIRE_OK(first);
  std::string vol1 = first->domains[0].volumes[0].name;
  std::string vol2 = first->domains[0].volumes[1].name;
  f.conn.domains.at("fakevm").running = true;
  f.conn.ResetCalls();

  auto again = f.Import();
  CHECK(again.status().code() == ErrorCode::kExists);
  CHECK(again.status().message() ==
        f.ova + ": volume '" + vol1 +
            "' already exists in pool 'default' (--force replaces it)");
  CHECK(Changes(f.conn).empty());

  f.conn.volumes.erase({"default", vol1});
  f.conn.volumes.erase({"default", vol2});
  auto domain_taken = f.Import();
  CHECK(domain_taken.status().message() ==
        f.ova +
            ": domain 'fakevm' already exists (--force replaces it, or "
            "choose another --name)");
  CHECK(Changes(f.conn).empty());
  CHECK(f.conn.domains.at("fakevm").running);
}

TEST_CASE(
    "import (fake host): --force removes what is in the way, after the "
    "checks") {
  Fixture f;
  auto first = f.Import();
  REQUIRE_OK(first);
  std::string vol1 = first->domains[0].volumes[0].name;
  std::string vol2 = first->domains[0].volumes[1].name;
  f.conn.domains.at("fakevm").running = true;
  f.conn.volumes.at({"default", vol1}).data = "old bytes";
  f.conn.ResetCalls();

  ImportRequest force = f.Request();
  force.force = true;
  auto r = ImportAppliance(f.conn, force);
  REQUIRE_OK(r);
  CHECK(r->warnings.Has("import.replaced-domain"));
  CHECK(r->warnings.Has("import.replaced-volume"));
  std::vector<std::string> changes = Changes(f.conn);
  REQUIRE(changes.size() >= 4);
  CHECK(changes[0] == "DestroyDomain fakevm");
  CHECK(changes[1] == "UndefineDomain fakevm");
  CHECK(changes[2] == "DeleteVolume default/" + vol1);
  CHECK(changes[3] == "DeleteVolume default/" + vol2);
  CHECK(f.conn.volumes.at({"default", vol1}).data.rfind("QFI\xfb", 0) == 0);
  CHECK_FALSE(f.conn.domains.at("fakevm").running);
}

TEST_CASE("import (fake host): --force with a failing check removes nothing") {
  Fixture f;
  REQUIRE_OK(f.Import());
  f.conn.networks.clear();
  f.conn.ResetCalls();
  ImportRequest force = f.Request();
  force.force = true;
  auto r = ImportAppliance(f.conn, force);
  CHECK(r.status().code() == ErrorCode::kNotFound);
  CHECK(r.status().message().find("libvirt network 'default' does not exist") !=
        std::string::npos);
  CHECK(Changes(f.conn).empty());
  CHECK(f.conn.volumes.size() == 2);
  CHECK(f.conn.domains.size() == 1);
}

TEST_CASE("import (fake host): the descriptor after the disks") {
  TempDir dir;
  TestPackage late;
  late.order = TestPackage::Order::kDescriptorLast;
  std::string path = late.Write(dir, "late.ova");
  ImportRequest request;
  request.input = path;
  request.journal_dir = dir.Join("journal");

  SUBCASE("a file: the disks are read in place once the plan is made") {
    FakeConnection conn;
    auto r = ImportAppliance(conn, request);
    REQUIRE_OK(r);
    CHECK(r->verified);
    CHECK(conn.volumes.size() == 2);
    for (const auto& [key, v] : conn.volumes) {
      CHECK(v.data.rfind("QFI\xfb", 0) == 0);
    }
    CHECK(conn.domains.count("fakevm"));
  }
  SUBCASE("a pipe cannot go back: refused, nothing made") {
    FakeConnection conn;
    std::string bytes = testing::ReadFileOrDie(path);
    auto r = testing::ThroughPipe(dir, bytes, [&](const std::string& pipe) {
      ImportRequest piped = request;
      piped.input = pipe;
      return ImportAppliance(conn, piped);
    });
    CHECK(r.status().code() == ErrorCode::kUnsupported);
    CHECK(r.status().message().find("comes before the descriptor") !=
          std::string::npos);
    CHECK(Empty(conn));
    CHECK(Changes(conn).empty());
  }
}

TEST_CASE("import (fake host): a failed verification undoes the copy") {
  TempDir dir;
  TestPackage bad;
  bad.wrong_digest2 = true;
  ImportRequest request;
  request.input = bad.Write(dir, "bad.ova");
  request.journal_dir = dir.Join("journal");
  FakeConnection conn;
  auto r = ImportAppliance(conn, request);
  CHECK(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message() ==
        request.input + ": member 'fakevm-disk2.vmdk': SHA256 digest mismatch");
  CHECK(Empty(conn));
  CHECK(conn.CountOf("DefineDomain") == 0);
  CHECK(conn.CountOf("DeleteVolume") == conn.CountOf("CreateVolume"));
  CHECK(NoJournal(dir.Join("journal")));
}

}  // namespace
}  // namespace ova2virt
