#include "ovf/os_table.h"

#include <set>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("os table: lookups in each direction") {
  const OsEntry* e = FindOsByVmware("windows9_64Guest");
  REQUIRE(e != nullptr);
  CHECK(e->cim_id == 120);
  CHECK(e->libosinfo == "win10");
  // The .vmx spelling of the same id.
  CHECK(FindOsByVmware("windows9-64") == e);
  CHECK(FindOsByVmware("WINDOWS9_64GUEST") == e);
  CHECK(FindOsByVirtualBox("windows10_64") == e);
  CHECK(FindOsByLibosinfo("win10") == e);
  CHECK(FindOsByCim(120) == e);
  CHECK(FindOsByVmware("noSuchGuest") == nullptr);
  CHECK(FindOsByCim(99999) == nullptr);
}

TEST_CASE("os table: a CIM family id names no release") {
  CHECK(LibosinfoForCim(96) == "");  // Debian 64-bit: which Debian?
  CHECK(LibosinfoForCim(67) == "winxp");
  OsInfo os;
  os.cim_id = 96;
  os.vmware_os_type = "debian11_64Guest";
  CHECK(LibosinfoFor(os) == "debian11");
}

TEST_CASE("os table: completing what a source left out, never overwriting") {
  OsInfo os;
  os.libosinfo_id = "win2k19";
  REQUIRE(CompleteOsInfo(&os));
  CHECK(os.vmware_os_type == "windows2019srv_64Guest");
  CHECK(os.cim_id.has_value());
  OsInfo given;
  given.vmware_os_type = "myCustomGuest";
  given.cim_id = 1;
  CompleteOsInfo(&given);
  CHECK(given.vmware_os_type == "myCustomGuest");
}

TEST_CASE("os table: every VMware id is unique") {
  std::set<std::string> seen;
  for (const OsEntry& e : OsTable()) {
    if (e.vmware.empty() || e.vmware == "otherGuest") continue;
    CHECK(seen.insert(std::string(e.vmware)).second);
  }
}

}  // namespace
}  // namespace ova2virt
