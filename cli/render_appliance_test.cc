#include "cli/render_appliance.h"

#include "ovf/ovf_reader.h"
#include "ovf/vmx_reader.h"
#include "tests/support/test_util.h"

namespace ova2virt::cli {
namespace {

ApplianceSpec Read(const std::string& path, Diagnostics* diag = nullptr) {
  auto r = ParseOvfDescriptor(testing::ReadFileOrDie(testing::CorpusPath(path)),
                              {}, diag);
  REQUIRE_OK(r);
  return std::move(r).value();
}

TEST_CASE("render: the inspect JSON keys of CLI.md") {
  Diagnostics diag;
  ApplianceSpec a = Read("ovf/virtv2v_test-i-ova.ovf", &diag);
  nlohmann::json j = ApplianceReportJson(a, diag);
  REQUIRE(j["virtual_systems"].size() == 1);
  const auto& vs = j["virtual_systems"][0];
  CHECK(vs["name"] == "TestOva");
  CHECK(vs["cpus"] == 1);
  CHECK(vs["memory_mib"] == 2048);
  CHECK(vs["firmware"] == "bios");
  CHECK(vs["os"] == "win7");
  REQUIRE(vs["disks"].size() == 1);
  CHECK(vs["disks"][0]["file"] == "test-ova.vmdk");
  CHECK(vs["disks"][0]["capacity_bytes"] == 32ull << 30);
  CHECK(vs["disks"][0]["format"] == "vmdk-streamoptimized");
  CHECK(vs["disks"][0]["bus"] == "scsi");
  CHECK(vs["cdroms"].size() == 1);
  CHECK(vs["floppies"].size() == 1);
  REQUIRE(vs["nics"].size() == 1);
  CHECK(vs["nics"][0]["network"] == "VM Network");
  CHECK(vs["nics"][0]["model"] == "e1000");
  CHECK(j["warnings"].is_array());
  CHECK(j["warnings"][0]["id"] == "ovf.unknown-device");  // VMCI
}

TEST_CASE("render: products, properties, EULA, annotation; passwords hidden") {
  ApplianceSpec a = Read("ovf/cot_csr1000v.ovf");
  nlohmann::json j = ApplianceJson(a);
  const auto& props = j["virtual_systems"][0]["products"][0]["properties"];
  bool saw_password = false;
  for (const auto& p : props) {
    if (p["password"] == true) {
      saw_password = true;
      CHECK(p["default"].is_null());
    }
  }
  CHECK(saw_password);
  CHECK(j["deployment"] == "1CPU-4GB");
  CHECK(j["deployment_options"].size() == 4);
  ApplianceSpec v09 = Read("ovf/cot_v0.9.ovf");
  nlohmann::json k = ApplianceJson(v09);
  CHECK(k["virtual_systems"][0]["eulas"].size() == 1);
  CHECK(k["virtual_systems"][0]["annotation"].get<std::string>().find(
            "Hello world!") == 0);
  std::string text = ApplianceText(a);
  CHECK(text.find("password") != std::string::npos);
  // The secret-looking defaults of password properties never print.
  for (const ProductInfo& p : a.systems[0].products) {
    for (const Property& prop : p.properties) {
      if (prop.password && prop.default_value && !prop.default_value->empty()) {
        CHECK(text.find(*prop.default_value) == std::string::npos);
      }
    }
  }
}

TEST_CASE("render: unknown sizes are null, and the summary reads well") {
  auto a = ParseVmx(testing::ReadFileOrDie(testing::CorpusPath(
                        "vmx/virtv2v_test-i-vmx-7_win2019_efi.vmx")),
                    nullptr);
  REQUIRE_OK(a);
  nlohmann::json j = ApplianceJson(*a);
  CHECK(j["virtual_systems"][0]["disks"][0]["capacity_bytes"].is_null());
  CHECK(j["virtual_systems"][0]["secure_boot"] == true);
  std::string text = ApplianceText(*a);
  CHECK(text.find("Appliance 'win2019' (VMware .vmx), 1 virtual system\n") ==
        0);
  CHECK(text.find("  CPUs: 2\n") != std::string::npos);
  CHECK(text.find("  Memory: 4 GiB\n") != std::string::npos);
  CHECK(text.find("  Firmware: efi (secure boot)\n") != std::string::npos);
  CHECK(text.find("  Disk scsi0:0: win2019.vmdk, vmdk, on scsi (lsilogic-sas) "
                  "unit 0\n") != std::string::npos);
  CHECK(text.find("  NIC ethernet0: vmxnet3 on 'VM Network', mac "
                  "00:0c:29:46:9b:0b\n") != std::string::npos);
}

TEST_CASE("render: hostile text stays on its line and JSON stays valid") {
  ApplianceSpec a;
  VmSpec vm;
  vm.name = "evil\nname";
  vm.description = "line\r\nforged: line";
  vm.nics.push_back({"n", "", "net\x1b[31m", NicModel::kE1000, "", "", true});
  a.name = vm.name;
  a.systems.push_back(vm);
  std::string text = ApplianceText(a);
  CHECK(text.find("\nforged") == std::string::npos);
  CHECK(text.find("\nname") == std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  vm.description = "\x1b]0;title\x07";
  a.systems[0] = vm;
  CHECK(ApplianceText(a).find('\x1b') == std::string::npos);
  CHECK(!ApplianceJson(a).dump().empty());
}

}  // namespace
}  // namespace ova2virt::cli
