// The embedded QEMU driver (qemu:///embed?root=DIR): no daemon at all, the
// driver runs inside this process. Run by run_integration.sh embedded.
#include <filesystem>

#include "tests/integration/integration_util.h"
#include "virtdriver/connection.h"

namespace ova2virt {
namespace {

TEST_CASE("embedded: define, start, see running, destroy a diskless domain") {
  std::string dir = testing::ScratchDir() + "/embed";
  auto conn = Connection::OpenEmbedded(dir);
  REQUIRE_OK(conn);
  Connection& c = **conn;
  CHECK(c.Uri().find("qemu:///embed?root=") == 0);
  CHECK(c.IsLocal());
  CHECK(!c.HasStorageDriver());
  CHECK(std::filesystem::exists(dir + "/etc/qemu.conf"));

  std::string name = testing::UniqueName("embed");
  std::string serial = testing::ScratchDir() + "/embed-serial.log";
  auto xml = FormatDomainXml(testing::DisklessMachine(name),
                             testing::TestOptions(serial), nullptr);
  REQUIRE_OK(xml);
  auto defined = c.DefineDomain(*xml);
  REQUIRE_OK(defined);
  CHECK(*defined == name);
  REQUIRE_OK(c.StartDomain(name));
  auto state = c.GetDomainState(name);
  REQUIRE_OK(state);
  CHECK(*state == DomainState::kRunning);
  CHECK(std::filesystem::exists(serial));
  CHECK_OK(c.DestroyDomain(name));
  CHECK_OK(c.WaitForShutoff(name, std::chrono::seconds(10)));
  CHECK(*c.GetDomainState(name) == DomainState::kShutoff);
  CHECK_OK(c.UndefineDomain(name));
  CHECK(!*c.DomainExists(name));
}

}  // namespace
}  // namespace ova2virt
