// Golden domain XML: machines built in code that cover every device class
// and every policy choice go through ApplyImportPolicy and FormatDomainXml;
// the XML (and the warnings) must match tests/golden/domain/, validate with
// virt-xml-validate, define in test:///default, and survive a round trip
// through ParseDomain unchanged.
#include <string>

#include "core/file.h"
#include "pipeline/describe.h"
#include "pipeline/policy.h"
#include "pipeline/test_machines.h"
#include "tests/support/test_util.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

using testing::MatchesGolden;
using namespace test_machines;  // NOLINT

std::string WarningsText(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& x : d.items()) {
    out += x.id + " [" + x.where + "] " + x.message + "\n";
  }
  return out;
}

// The referees every generated XML must satisfy: the schema, and a real
// (in-process test driver) define, then a stable round trip.
void CheckDomainXml(const std::string& label, const std::string& xml) {
  INFO("domain " << label);
  testing::TempDir tmp;
  std::string path = tmp.Join("domain.xml");
  testing::WriteFileOrDie(path, xml);
  auto v = testing::RunCommand("virt-xml-validate " +
                               testing::ShellQuote(path) + " domain 2>&1");
  INFO(v.out);
  CHECK(v.exit_code == 0);

  // An empty test driver: test:///default already holds a domain named
  // "test", which some corpus machines are called too.
  std::string node = tmp.Join("node.xml");
  testing::WriteFileOrDie(node, "<node/>\n");
  auto conn = Connection::Open("test://" + node);
  REQUIRE_OK(conn);
  auto name = (*conn)->DefineDomain(xml);
  REQUIRE_OK(name);
  auto back = (*conn)->GetDomainXml(*name, true);
  CHECK_OK(back);
  CHECK_OK((*conn)->UndefineDomain(*name));

  Diagnostics parse_diags;
  auto parsed = ParseDomain(xml, &parse_diags);
  REQUIRE_OK(parsed);
  CHECK(parse_diags.empty());
  Diagnostics again_diags;
  auto again = FormatDomainXml(parsed->spec, parsed->options, &again_diags);
  REQUIRE_OK(again);
  CHECK(*again == xml);
  // What libvirt itself wrote back parses too (export reads that).
  if (back.ok()) CHECK_OK(ParseDomain(*back, nullptr));
}

// Policy + format for every VirtualSystem of `appliance`, compared with
// tests/golden/domain/<golden_name>[-N].xml and .warnings, then refereed.
// One call per corpus descriptor is all a new golden needs.
void CheckApplianceGoldens(const std::string& golden_name,
                           const ApplianceSpec& appliance,
                           const ImportPolicy& policy = ImportPolicy()) {
  Diagnostics diags;
  auto xmls = FormatApplianceDomains(appliance, policy,
                                     "/var/lib/libvirt/images", &diags);
  REQUIRE_OK(xmls);
  for (size_t i = 0; i < xmls->size(); ++i) {
    std::string base = "tests/golden/domain/" + golden_name +
                       (xmls->size() > 1 ? "-" + std::to_string(i + 1) : "");
    CHECK(MatchesGolden(base + ".xml", (*xmls)[i].xml));
    CheckDomainXml(golden_name, (*xmls)[i].xml);
  }
  CHECK(MatchesGolden("tests/golden/domain/" + golden_name + ".warnings",
                      WarningsText(diags)));
}

ApplianceSpec One(VmSpec vm) {
  ApplianceSpec a;
  a.ovf_version = "1.0";
  a.name = vm.name;
  a.systems = {std::move(vm)};
  return a;
}

// Every descriptor in the corpus that inspects cleanly: its machines as
// domains, under the default policy. A file that cannot become a domain at
// all (no machine, an unknown OVF version, malformed XML) is listed.
TEST_CASE("domain goldens: every corpus descriptor") {
  std::vector<std::string> files = testing::CorpusFiles("ovf");
  std::vector<std::string> vmx = testing::CorpusFiles("vmx");
  files.insert(files.end(), vmx.begin(), vmx.end());
  int domains = 0;
  for (const std::string& path : files) {
    std::string name = path.substr(path.rfind('/') + 1);
    INFO("corpus file " << name);
    std::string text = testing::ReadFileOrDie(path);
    auto kind = GuessDescriptorKind(name, text);
    REQUIRE(kind.has_value());
    auto appliance = DescribeDescriptor(text, *kind, {}, nullptr);
    if (!appliance.ok() || appliance->systems.empty()) {
      CHECK((name == "cot_ersatz_ovf_3.0.ovf" || name == "ganeti_empty.ovf" ||
             name == "ganeti_wrong_xml.ovf" ||
             name == "pve_XEE_xxe-attack.ovf" ||
             name == "govmomi_l10n_external_strings.ovf"));
      continue;
    }
    CheckApplianceGoldens("corpus/" + name, *appliance);
    domains += static_cast<int>(appliance->systems.size());
  }
  CHECK(domains >= 80);
}

TEST_CASE("domain goldens: vmware-style bios appliance, keep policy") {
  ImportPolicy keep;
  keep.disk_bus = DiskBusChoice::kKeep;
  CheckApplianceGoldens("vmware-bios", One(VmwareBios()), keep);
}

// The default (--disk-bus auto): the boot disk leaves LSI Logic for SATA,
// the data disks stay on their controllers.
TEST_CASE("domain goldens: vmware-style bios appliance, auto policy") {
  CheckApplianceGoldens("vmware-bios-auto", One(VmwareBios()));
}

TEST_CASE("domain goldens: virtualbox ide-only bios machine gets i440fx") {
  CheckApplianceGoldens("vbox-ide-bios", One(VirtualBoxIde()));
}

TEST_CASE("domain goldens: uefi secure boot, nvme and pvscsi, tpm") {
  CheckApplianceGoldens("efi-secure-boot", One(EfiSecureBoot()));
}

TEST_CASE("domain goldens: uefi without secure boot and odd devices") {
  ImportPolicy p;
  p.kvm_available = false;
  CheckApplianceGoldens("efi-oddities", One(EfiOddities()), p);
}

TEST_CASE("domain goldens: --disk-bus virtio --nic-model virtio, mappings") {
  ImportPolicy p;
  p.disk_bus = DiskBusChoice::kVirtio;
  p.nic_model = NicModelChoice::kVirtio;
  p.virt_type = VirtType::kQemu;
  p.networks = {*ParseNetworkMapping("VM Network=bridge:br0"),
                *ParseNetworkMapping("Storage=none"),
                *ParseNetworkMapping("Unused=isolated")};
  CheckApplianceGoldens("policy-virtio", One(VmwareBios()), p);
}

TEST_CASE("domain goldens: --disk-bus sata / scsi, --nic-model e1000") {
  ImportPolicy sata;
  sata.disk_bus = DiskBusChoice::kSata;
  sata.nic_model = NicModelChoice::kE1000;
  sata.networks = {*ParseNetworkMapping("*=user")};
  CheckApplianceGoldens("policy-sata", One(VirtualBoxIde()), sata);
  ImportPolicy scsi;
  scsi.disk_bus = DiskBusChoice::kScsi;
  CheckApplianceGoldens("policy-scsi", One(EfiSecureBoot()), scsi);
}

// The referee can say no: a schema violation fails virt-xml-validate, and
// the test driver refuses it too.
TEST_CASE("domain goldens: the referees reject a broken domain") {
  Diagnostics d;
  auto xmls = FormatApplianceDomains(One(test_machines::VmwareBios()),
                                     ImportPolicy(), "/images", &d);
  REQUIRE_OK(xmls);
  std::string bad = (*xmls)[0].xml;
  size_t at = bad.find("<vcpu ");
  REQUIRE(at != std::string::npos);
  bad.insert(at, "<vcpus>2</vcpus>\n  ");
  testing::TempDir tmp;
  testing::WriteFileOrDie(tmp.Join("bad.xml"), bad);
  auto v = testing::RunCommand("virt-xml-validate " +
                               testing::ShellQuote(tmp.Join("bad.xml")) +
                               " domain >/dev/null 2>&1");
  CHECK(v.exit_code != 0);
  // An empty test driver: test:///default already holds a domain named
  // "test", which some corpus machines are called too.
  std::string node = tmp.Join("node.xml");
  testing::WriteFileOrDie(node, "<node/>\n");
  auto conn = Connection::Open("test://" + node);
  REQUIRE_OK(conn);
  CHECK(!(*conn)->DefineDomain(bad).ok());
}

TEST_CASE("domain goldens: a two-system collection yields two domains") {
  ApplianceSpec a = One(VmwareBios());
  VmSpec second = VirtualBoxIde();
  second.name = "second-vm";
  a.systems.push_back(second);
  Diagnostics d;
  auto xmls = FormatApplianceDomains(a, ImportPolicy(), "/images", &d);
  REQUIRE_OK(xmls);
  REQUIRE(xmls->size() == 2);
  CHECK((*xmls)[0].name == "vmware-appliance");
  CHECK((*xmls)[1].name == "second-vm");
  CHECK((*xmls)[1].xml.find("/images/second-vm-disk1.qcow2") !=
        std::string::npos);
}

// Options the appliance path does not set: volumes in a pool, a serial log
// file, headless, metadata, an explicit uuid and libosinfo URI.
TEST_CASE("domain goldens: pool volumes, serial file, metadata, headless") {
  Diagnostics diags;
  auto plan = ApplyImportPolicy(VmwareBios(), ImportPolicy(), &diags);
  REQUIRE_OK(plan);
  DomainOptions o;
  o.name = "bound";
  o.uuid = "8f0e0c52-55a4-4ad7-9a43-3f3c9e8a1b20";
  o.virt_type = "qemu";
  o.machine = plan->machine;
  o.nics = plan->nics;
  o.headless = true;
  o.serial_log_path = "/var/log/ova2virt/bound.serial";
  o.libosinfo_id = "http://ubuntu.com/ubuntu/22.04";
  o.metadata = {{"source", "/srv/appliance.ova"},
                {"source-sha256", std::string(64, 'a')},
                {"imported", "2026-01-02T03:04:05Z"}};
  o.disks = {{"vmdisk1", "", "default", "bound-vmdisk1.qcow2", "qcow2"},
             {"vmdisk2", "/var/lib/libvirt/images/bound-2.raw", "", "", "raw"},
             {"cdrom1", "/srv/iso/tools.iso", "", "", "raw"}};
  auto xml = FormatDomainXml(plan->spec, o, &diags);
  REQUIRE_OK(xml);
  CHECK(MatchesGolden("tests/golden/domain/bound-options.xml", *xml));
  CHECK(xml->find("must-not-appear") == std::string::npos);
  CheckDomainXml("bound-options", *xml);
}

}  // namespace
}  // namespace ova2virt
