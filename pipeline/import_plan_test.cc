// Import planning: PlanImport on a descriptor, CheckPlanOnHost against a
// FakeConnection (no daemon). What the host lacks or already has stops the
// plan, before anything is made.
#include "pipeline/import_plan.h"

#include "pipeline/describe.h"
#include "pipeline/fake_connection.h"
#include "pipeline/import.h"
#include "pipeline/test_packages.h"

namespace ova2virt {
namespace {

using testing::FakeConnection;

struct Planned {
  ImportRequest request;
  StorageTarget storage;
  ImportPlan plan;
  Diagnostics warnings;
};

Planned Plan(ImportRequest request = {}) {
  static const std::string ovf = testing::TestPackage{}.Build().ovf;
  Planned p;
  p.request = request;
  p.storage.pool = "default";
  p.storage.dir = "/fake/images";
  auto appliance =
      DescribeDescriptor(ovf, DescriptorKind::kOvf, {}, &p.warnings);
  REQUIRE_OK(appliance);
  auto plan = PlanImport(*appliance, request, p.storage, &p.warnings);
  REQUIRE_OK(plan);
  p.plan = std::move(plan).value();
  return p;
}

Status Check(FakeConnection& conn, Planned& p) {
  return CheckPlanOnHost(conn, p.plan, p.request, p.storage, &p.warnings);
}

TEST_CASE("import plan: names and the XML from the descriptor") {
  Planned p = Plan();
  REQUIRE(p.plan.domains.size() == 1);
  CHECK(p.plan.domains[0].name == "fakevm");
  REQUIRE(p.plan.jobs.size() == 2);
  CHECK(p.plan.jobs[0].name == "fakevm-disk1.qcow2");
  CHECK(p.plan.jobs[1].name == "fakevm-disk2.qcow2");
  CHECK(p.plan.jobs[0].members ==
        std::vector<std::string>{"fakevm-disk1.vmdk"});
  CHECK(p.plan.domains[0].xml.find("<name>fakevm</name>") != std::string::npos);

  ImportRequest renamed;
  renamed.name = "web";
  Planned r = Plan(renamed);
  CHECK(r.plan.domains[0].name == "web");
  CHECK(r.plan.jobs[0].name == "web-disk1.qcow2");
}

TEST_CASE("import plan: checked against the host, changing nothing") {
  FakeConnection conn;
  Planned p = Plan();
  CHECK_OK(Check(conn, p));
  // Queries only.
  for (const std::string& call : conn.Calls()) {
    std::string kind = call.substr(0, call.find(' '));
    CHECK((kind == "LookupPool" || kind == "VolumeExists" ||
           kind == "DomainExists" || kind == "NetworkExists" ||
           kind == "NetworkIsActive"));
  }
  CHECK(conn.volumes.empty());
  CHECK(conn.domains.empty());
}

TEST_CASE("import plan: what the host lacks or has stops the plan") {
  FakeConnection conn;
  Planned p = Plan();

  SUBCASE("a pool that is not running") {
    conn.pools["default"].active = false;
    CHECK(Check(conn, p).message() == "pool 'default' is not active");
  }
  SUBCASE("a pool without room") {
    conn.pools["default"].available = 4096;
    Status s = Check(conn, p);
    CHECK(s.code() == ErrorCode::kNoSpace);
    CHECK(s.message().rfind("pool 'default' has 4096 bytes free", 0) == 0);
  }
  SUBCASE("no such pool") {
    p.storage.pool = "elsewhere";
    CHECK(Check(conn, p).code() == ErrorCode::kNotFound);
  }
  SUBCASE("a volume of the same name, unless --force") {
    conn.volumes[{"default", "fakevm-disk2.qcow2"}] = {};
    Status s = Check(conn, p);
    CHECK(s.code() == ErrorCode::kExists);
    CHECK(s.message() ==
          "volume 'fakevm-disk2.qcow2' already exists in pool 'default' "
          "(--force replaces it)");
    p.request.force = true;
    CHECK_OK(Check(conn, p));
  }
  SUBCASE("a domain of the same name, unless --force") {
    conn.domains["fakevm"] = {};
    CHECK(Check(conn, p).code() == ErrorCode::kExists);
    p.request.force = true;
    CHECK_OK(Check(conn, p));
  }
  SUBCASE("a network that does not exist") {
    conn.networks.clear();
    Status s = Check(conn, p);
    CHECK(s.code() == ErrorCode::kNotFound);
    CHECK(s.message().rfind("libvirt network 'default' does not exist", 0) ==
          0);
  }
  SUBCASE("an inactive network: a warning, an error with --start") {
    conn.networks["default"] = false;
    CHECK_OK(Check(conn, p));
    CHECK(p.warnings.Has("import.network-inactive"));
    p.request.start = true;
    Status s = Check(conn, p);
    CHECK(s.code() == ErrorCode::kFailed);
    CHECK(s.message().find("virsh net-start default") != std::string::npos);
  }
  SUBCASE("a bridge that does not exist") {
    ImportRequest bridged;
    bridged.policy.networks = {{"default", NicBinding::kBridge, "br0"}};
    Planned b = Plan(bridged);
    CHECK(Check(conn, b).message() == "host bridge 'br0' does not exist");
    conn.bridges.insert("br0");
    CHECK_OK(Check(conn, b));
  }
  SUBCASE("a failing query is the plan's error") {
    conn.FailNth("DomainExists", 1);
    CHECK(Check(conn, p).message() ==
          "DomainExists: libvirt: injected failure (call 1)");
  }
}

}  // namespace
}  // namespace ova2virt
