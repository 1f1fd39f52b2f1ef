// Connection and Transaction against libvirt's in-process test driver
// (test:///default): no daemon, nothing runs, and state lives only while a
// connection is open. Real daemons are in tests/integration/.
#include "virtdriver/connection.h"

#include <algorithm>

#include "tests/support/test_util.h"
#include "virtdriver/rollback.h"

namespace ova2virt {
namespace {

constexpr const char* kPool = "default-pool";  // the test driver's pool

const char* kDomain = R"(<domain type='qemu'>
  <name>conn-test</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
</domain>)";

std::unique_ptr<Connection> OpenTest() {
  auto c = Connection::Open("test:///default");
  REQUIRE_OK(c);
  return std::move(*c);
}

TEST_CASE("connection: test driver basics") {
  auto c = OpenTest();
  CHECK(c->Uri() == "test:///default");
  CHECK(c->IsLocal());
  CHECK(c->HasStorageDriver());
  auto net = c->NetworkExists("default");
  REQUIRE_OK(net);
  CHECK(*net);
  CHECK(!*c->NetworkExists("no-such-network"));
  auto nets = c->ListNetworkNames();
  REQUIRE_OK(nets);
  CHECK(*nets == std::vector<std::string>{"default"});
  auto pools = c->ListPoolNames();
  REQUIRE_OK(pools);
  CHECK(*pools == std::vector<std::string>{kPool});
  auto doms = c->ListDomainNames();
  REQUIRE_OK(doms);
  CHECK(std::find(doms->begin(), doms->end(), "test") != doms->end());
  auto caps = c->Capabilities();
  REQUIRE_OK(caps);
  CHECK(!caps->kvm);  // the test driver offers only its own "test" type
}

TEST_CASE("connection: which uris are local") {
  CHECK(IsLocalUri("qemu:///system"));
  CHECK(IsLocalUri("qemu:///session"));
  CHECK(IsLocalUri("qemu+unix:///system?socket=/tmp/s"));
  CHECK(IsLocalUri("test:///default"));
  CHECK(IsLocalUri("qemu:///embed?root=/tmp/x"));
  CHECK(!IsLocalUri("qemu+ssh://root@host/system"));
  CHECK(!IsLocalUri("qemu://host/system"));
  CHECK(!IsLocalUri("qemu+tls://host/system"));
  CHECK(!IsLocalUri("qemu+tcp:///system"));
}

TEST_CASE("connection: bridges are looked up on the host") {
  auto c = OpenTest();
  CHECK(!*c->BridgeExists("lo"));  // an interface, not a bridge
  CHECK(!*c->BridgeExists("no-such-bridge0"));
  CHECK(!*c->BridgeExists("../lo"));
}

TEST_CASE("connection: a bad uri is one line, no libvirt noise") {
  auto c = Connection::Open("nosuchdriver:///x");
  REQUIRE(!c.ok());
  const std::string& m = c.status().message();
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find("'nosuchdriver:///x'") != std::string::npos);
}

TEST_CASE("connection: a missing daemon names its socket and the fix") {
  auto c = Connection::Open(
      "qemu+unix:///system?socket=/nonexistent/o2v/libvirt-sock");
  REQUIRE(!c.ok());
  const std::string& m = c.status().message();
  CAPTURE(m);
  CHECK(c.status().code() == ErrorCode::kFailed);
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find("/nonexistent/o2v/libvirt-sock'") != std::string::npos);
  CHECK(m.find("'systemctl start libvirtd', or 'libvirtd -d'") !=
        std::string::npos);
  auto s = Connection::Open("qemu+unix:///session?socket=/nonexistent/s");
  REQUIRE(!s.ok());
  CHECK(s.status().message().find("as yourself") != std::string::npos);
}

TEST_CASE("connection: network state, emulator identity, a made pool") {
  auto c = OpenTest();
  auto active = c->NetworkIsActive("default");
  REQUIRE_OK(active);
  CHECK(*active);
  CHECK(c->NetworkIsActive("nosuch").status().code() == ErrorCode::kNotFound);
  // The test driver names no user for QEMU: nothing to judge.
  auto id = c->Emulator("qemu");
  REQUIRE_OK(id);
  CHECK(!id->has_value());

  testing::TempDir tmp;
  auto made = c->CreateDirPool("made", tmp.Join("images"), true);
  REQUIRE_OK(made);
  CHECK(made->active);
  CHECK(made->autostart);
  CHECK(made->type == "dir");
  CHECK(made->target_path == tmp.Join("images"));
  CHECK(!c->LookupPool(kPool)->autostart);
  // Defining it twice fails and leaves the first one as it was.
  CHECK(!c->CreateDirPool("made", tmp.Join("other"), true).ok());
  CHECK(c->LookupPool("made")->target_path == tmp.Join("images"));
  CHECK_OK(c->DestroyPool("made"));
}

TEST_CASE("connection: pools and volumes") {
  auto c = OpenTest();
  auto pool = c->LookupPool(kPool);
  REQUIRE_OK(pool);
  CHECK(pool->active);
  CHECK(pool->type == "dir");
  CHECK(pool->available > 0);
  auto missing = c->LookupPool("nope");
  CHECK(missing.status().code() == ErrorCode::kNotFound);

  auto v = c->CreateVolume(kPool, "conn-test.raw", 1 << 20, "raw");
  REQUIRE_OK(v);
  CHECK(!v->path.empty());
  CHECK(*c->VolumeExists(kPool, "conn-test.raw"));
  auto again = c->CreateVolume(kPool, "conn-test.raw", 1 << 20, "raw");
  CHECK(again.status().code() == ErrorCode::kExists);
  auto info = c->LookupVolume(kPool, "conn-test.raw");
  REQUIRE_OK(info);
  CHECK(info->capacity == (1u << 20));
  auto by_path = c->LookupVolumeByPath(v->path);
  REQUIRE_OK(by_path);
  CHECK(by_path->pool == kPool);
  CHECK(by_path->name == "conn-test.raw");
  CHECK(c->LookupVolumeByPath("/nowhere/x").status().code() ==
        ErrorCode::kNotFound);
  CHECK(c->CreateVolume(kPool, "x", 1, "vmdk").status().code() ==
        ErrorCode::kUsage);
  // The test driver cannot stream; that is an error value, not a crash.
  auto up = c->OpenUpload(kPool, "conn-test.raw");
  if (up.ok()) {
    uint8_t b = 1;
    CHECK(!(*up)->WriteAt(0, {&b, 1}).ok());
  }
  CHECK_OK(c->DeleteVolume(kPool, "conn-test.raw"));
  CHECK(!*c->VolumeExists(kPool, "conn-test.raw"));
  CHECK(c->DeleteVolume(kPool, "conn-test.raw").code() == ErrorCode::kNotFound);
}

TEST_CASE("connection: define, inspect, undefine") {
  auto c = OpenTest();
  auto name = c->DefineDomain(kDomain);
  REQUIRE_OK(name);
  CHECK(*name == "conn-test");
  CHECK(*c->DomainExists("conn-test"));
  CHECK(*c->GetDomainState("conn-test") == DomainState::kShutoff);
  auto xml = c->GetDomainXml("conn-test", true);
  REQUIRE_OK(xml);
  CHECK(xml->find("<name>conn-test</name>") != std::string::npos);
  CHECK_OK(c->StartDomain("conn-test"));
  CHECK(*c->GetDomainState("conn-test") == DomainState::kRunning);
  CHECK_OK(c->DestroyDomain("conn-test"));
  CHECK_OK(c->WaitForShutoff("conn-test", std::chrono::seconds(1)));
  CHECK_OK(c->UndefineDomain("conn-test"));
  CHECK(!*c->DomainExists("conn-test"));
  CHECK_OK(c->UndefineDomain("conn-test"));  // already gone is fine
  // Invalid XML is refused by validation, in one line.
  auto bad = c->DefineDomain("<domain type='qemu'><name>x</name></domain>");
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find('\n') == std::string::npos);
}

TEST_CASE("transaction: rollback removes what was made, newest first") {
  auto c = OpenTest();
  testing::TempDir tmp;
  std::string file = tmp.Join("disk.qcow2");
  testing::WriteFileOrDie(file, "x");
  {
    Transaction t(*c);
    REQUIRE_OK(c->CreateVolume(kPool, "tx-a.raw", 4096, "raw"));
    t.AddVolume(kPool, "tx-a.raw");
    t.AddFile(file);
    REQUIRE_OK(c->DefineDomain(kDomain));
    t.AddDomain("conn-test");
    REQUIRE_OK(c->StartDomain("conn-test"));
    // Leaving the scope without Commit() is the failure path.
  }
  CHECK(!*c->VolumeExists(kPool, "tx-a.raw"));
  CHECK(!*c->DomainExists("conn-test"));
  CHECK(tmp.List().empty());
}

TEST_CASE("transaction: commit keeps everything; leftovers are reported") {
  auto c = OpenTest();
  {
    Transaction t(*c);
    REQUIRE_OK(c->CreateVolume(kPool, "tx-b.raw", 4096, "raw"));
    t.AddVolume(kPool, "tx-b.raw");
    t.Commit();
  }
  CHECK(*c->VolumeExists(kPool, "tx-b.raw"));
  CHECK_OK(c->DeleteVolume(kPool, "tx-b.raw"));

  // A step that cannot be undone (a "file" that is a directory) is named in
  // the result, and the steps before it still run.
  testing::TempDir tmp;
  Diagnostics d;
  {
    Transaction t(*c, &d);
    REQUIRE_OK(c->CreateVolume(kPool, "tx-c.raw", 4096, "raw"));
    t.AddVolume(kPool, "tx-c.raw");
    t.AddFile(tmp.path());
  }
  CHECK(!*c->VolumeExists(kPool, "tx-c.raw"));
  REQUIRE(d.Has("rollback.leftover"));
  CHECK(d.items()[0].message.find(tmp.path()) != std::string::npos);
}

}  // namespace
}  // namespace ova2virt
