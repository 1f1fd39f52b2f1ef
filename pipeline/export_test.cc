// The export use case through FakeConnection: a domain imported into the
// fake is exported back from it, its volumes read through download
// streams (the fake is not local). Every libvirt call fails in turn and no
// output may be left. No daemon; tests/integration/export_daemon.sh does
// the same against libvirtd.
#include "pipeline/export.h"

#include <filesystem>
#include <map>

#include "pipeline/fake_connection.h"
#include "pipeline/import.h"
#include "pipeline/test_packages.h"
#include "pipeline/verify.h"

namespace ova2virt {
namespace {

using testing::FakeConnection;
using testing::TempDir;

// A host holding "fakevm" as an import of the test package left it.
struct Host {
  TempDir dir;
  FakeConnection conn;

  Host() {
    ImportRequest r;
    r.input = testing::TestPackage{}.Write(dir, "fakevm.ova");
    r.journal_dir = dir.Join("journal");
    REQUIRE_OK(ImportAppliance(conn, r));
    std::filesystem::remove(r.input);
    conn.ResetCalls();
  }
  ExportRequest Request() const {
    ExportRequest r;
    r.domain = "fakevm";
    r.output = dir.Join("out.ova");
    r.threads = 1;
    return r;
  }
  // What the directory holds besides the journal folder.
  std::vector<std::string> Outputs() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().filename() != "journal") {
        out.push_back(e.path().filename().string());
      }
    }
    return out;
  }
};

TEST_CASE("export (fake host): volumes downloaded into a verified OVA") {
  Host h;
  auto r = ExportDomain(h.conn, h.Request());
  REQUIRE_OK(r);
  REQUIRE(r->disks.size() == 2);
  for (const ExportedDisk& d : r->disks) {
    CHECK(d.read == "download");
    CHECK(d.format == "qcow2");
    CHECK(d.capacity == 1 << 20);
  }
  CHECK(h.conn.CountOf("OpenDownload") == 2);
  CHECK(h.conn.CountOf("DownloadRead") > 2);
  // Reading changes nothing on the host.
  for (const std::string& c : h.conn.Calls()) {
    std::string kind = c.substr(0, c.find(' '));
    CHECK((kind == "GetDomainXml" || kind == "GetDomainState" ||
           kind == "LookupVolume" || kind == "OpenDownload" ||
           kind == "DownloadRead"));
  }
  auto v = VerifyPackage({h.dir.Join("out.ova")});
  REQUIRE_OK(v);
  CHECK_OK(v->Verdict());

  // And the package imports again, under another name.
  FakeConnection other;
  ImportRequest again;
  again.input = h.dir.Join("out.ova");
  again.name = "copy";
  again.journal_dir = h.dir.Join("journal");
  auto back = ImportAppliance(other, again);
  REQUIRE_OK(back);
  CHECK(other.domains.count("copy"));
  CHECK(other.volumes.size() == 2);
}

TEST_CASE("export (fake host): a running or unknown domain is refused") {
  Host h;
  h.conn.domains.at("fakevm").running = true;
  auto running = ExportDomain(h.conn, h.Request());
  CHECK(running.status().code() == ErrorCode::kFailed);
  CHECK(running.status().message().rfind("domain 'fakevm' is running: ", 0) ==
        0);
  CHECK(h.Outputs().empty());

  ExportRequest unknown = h.Request();
  unknown.domain = "nosuch";
  CHECK(ExportDomain(h.conn, unknown).status().code() == ErrorCode::kNotFound);
  CHECK(h.Outputs().empty());
}

TEST_CASE("export (fake host): every libvirt call failing leaves no output") {
  std::vector<std::string> calls;
  {
    Host clean;
    REQUIRE_OK(ExportDomain(clean.conn, clean.Request()));
    calls = clean.conn.Calls();
  }
  REQUIRE(calls.size() > 6);
  std::map<std::string, int> seen;
  int failed = 0;
  for (const std::string& call : calls) {
    std::string kind = call.substr(0, call.find(' '));
    int nth = ++seen[kind];
    for (bool after : {false, true}) {
      CAPTURE(call);
      CAPTURE(after);
      Host h;
      h.conn.FailNth(kind, nth, after);
      auto r = ExportDomain(h.conn, h.Request());
      REQUIRE_FALSE(r.ok());
      ++failed;
      CHECK(r.status().message().find(kind + ": libvirt: injected failure") !=
            std::string::npos);
      CHECK(h.Outputs().empty());
      CHECK(h.conn.volumes.size() == 2);
      CHECK(h.conn.domains.size() == 1);
    }
  }
  MESSAGE("calls: " << calls.size() << ", failed exports: " << failed);
}

}  // namespace
}  // namespace ova2virt
