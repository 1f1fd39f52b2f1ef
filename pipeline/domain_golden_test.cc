// Golden domain XML, made by the import planner (PlanImport, the path
// `ova2virt import` takes) the way libvirt's vmx2xmltest calls the real
// virVMXParseConfig: corpus descriptors and machines built in code that
// cover every device class and every policy choice become the domain XML
// an import would define. The XML (and the planner's warnings, or its
// error when the import would be refused) must match tests/golden/domain/,
// validate with virt-xml-validate, define in an empty test:/// driver, and
// survive a round trip through ParseDomain unchanged.
// OVA2VIRT_REGENERATE=1 rewrites the golden files instead of comparing.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "core/file.h"
#include "pipeline/describe.h"
#include "pipeline/import_plan.h"
#include "pipeline/policy.h"
#include "pipeline/test_machines.h"
#include "tests/support/test_util.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

using testing::MatchesGolden;
using namespace test_machines;  // NOLINT

// Where the planned disks go: `--storage-dir /var/lib/libvirt/images`, a
// fixed directory, so that no host path of the test run is in a golden.
StorageTarget ImagesDir() {
  StorageTarget s;
  s.files = true;
  s.dir = "/var/lib/libvirt/images";
  return s;
}

// The request `ova2virt import --storage-dir ... INPUT` makes. `input` is
// a fixed name, not the file's path on this host: the planner records it
// in the domain's <metadata> ("source"). Left as the CLI leaves them: the
// policy's kvm_available (import asks the connection's capabilities; unset
// means kvm, as on a host that offers it), and the "import-id" metadata
// entry, which only a real (not --dry-run) import adds, with its journal's
// random id: the goldens are the plan --dry-run shows.
ImportRequest RequestFor(const std::string& input,
                         const ImportPolicy& policy = ImportPolicy()) {
  ImportRequest r;
  r.input = input;
  r.storage_dir = "/var/lib/libvirt/images";
  r.policy = policy;
  return r;
}

std::string WarningsText(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& x : d.items()) {
    out += x.id + " [" + x.where + "] " + x.message + "\n";
  }
  return out;
}

// An empty test driver: test:///default already holds a domain named
// "test", which some corpus machines are called too.
Result<std::unique_ptr<Connection>> OpenEmptyTestDriver(
    const testing::TempDir& tmp) {
  std::string node = tmp.Join("node.xml");
  testing::WriteFileOrDie(node, "<node/>\n");
  return Connection::Open("test://" + node);
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

  auto conn = OpenEmptyTestDriver(tmp);
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

// Plans `appliance` as `import` does and compares every planned domain with
// tests/golden/domain/<golden_name>[-N].xml (N counts systems from 1 when
// there are several), the warnings with <golden_name>.warnings, then
// referees the XML. With `refusal_is_golden`, a plan the import refuses is
// pinned as <golden_name>.error ("code: message") instead. The golden
// paths used are added to `used`, if given.
void CheckPlannedGoldens(const std::string& golden_name,
                         const ApplianceSpec& appliance,
                         const ImportRequest& request,
                         const StorageTarget& storage = ImagesDir(),
                         bool refusal_is_golden = false,
                         std::set<std::string>* used = nullptr) {
  INFO("golden " << golden_name);
  std::string base = "tests/golden/domain/" + golden_name;
  auto check = [&](const std::string& path, const std::string& text) {
    if (used) used->insert(path);
    CHECK(MatchesGolden(path, text));
  };
  Diagnostics diags;
  auto plan = PlanImport(appliance, request, storage, &diags);
  if (refusal_is_golden && !plan.ok()) {
    check(base + ".error", std::string(ErrorCodeName(plan.status().code())) +
                               ": " + plan.status().message() + "\n");
    return;
  }
  REQUIRE_OK(plan);
  const std::vector<DomainPlan>& domains = plan->domains;
  for (size_t i = 0; i < domains.size(); ++i) {
    std::string suffix =
        domains.size() > 1 ? "-" + std::to_string(i + 1) : std::string();
    check(base + suffix + ".xml", domains[i].xml);
    CheckDomainXml(golden_name + suffix, domains[i].xml);
  }
  check(base + ".warnings", WarningsText(diags));
}

// The appliance a package holding one machine describes.
ApplianceSpec One(VmSpec vm) {
  ApplianceSpec a;
  a.ovf_version = "1.0";
  a.name = vm.name;
  a.systems = {std::move(vm)};
  return a;
}

// Every descriptor in the corpus that describes a machine: its domains as
// `import` plans them under the default policy, or the reason it refuses
// the package. A file that cannot become an appliance at all (no machine,
// an unknown OVF version, malformed XML) is listed. A golden file no
// descriptor produced any more fails (and is deleted when regenerating).
TEST_CASE("domain goldens: every corpus descriptor") {
  std::vector<std::string> files = testing::CorpusFiles("ovf");
  std::vector<std::string> vmx = testing::CorpusFiles("vmx");
  files.insert(files.end(), vmx.begin(), vmx.end());
  std::set<std::string> used;
  int domains = 0;
  for (const std::string& path : files) {
    std::string name = path.substr(path.rfind('/') + 1);
    INFO("corpus file " << name);
    std::string text = testing::ReadFileOrDie(path);
    auto kind = GuessDescriptorKind(name, text);
    REQUIRE(kind.has_value());
    // The reader's own warnings are pinned by the ovf/ reader tests.
    auto appliance = DescribeDescriptor(text, *kind, {}, nullptr);
    if (!appliance.ok() || appliance->systems.empty()) {
      CHECK((name == "cot_ersatz_ovf_3.0.ovf" || name == "ganeti_empty.ovf" ||
             name == "ganeti_wrong_xml.ovf" ||
             name == "pve_XEE_xxe-attack.ovf" ||
             name == "govmomi_l10n_external_strings.ovf"));
      continue;
    }
    ImportRequest request = RequestFor(name);
    CheckPlannedGoldens("corpus/" + name, *appliance, request, ImagesDir(),
                        true, &used);
    // A collection import refuses (systems sharing a disk, say) may still
    // be imported one system at a time, as the error suggests: --vsys N.
    if (appliance->systems.size() > 1 &&
        !PlanImport(*appliance, request, ImagesDir(), nullptr).ok()) {
      for (size_t i = 0; i < appliance->systems.size(); ++i) {
        request.vsys = std::to_string(i);
        CheckPlannedGoldens("corpus/" + name + "-vsys" + request.vsys,
                            *appliance, request, ImagesDir(), true, &used);
      }
    }
    domains += static_cast<int>(appliance->systems.size());
  }
  CHECK(domains >= 80);
  std::string dir = testing::SourcePath("tests/golden/domain/corpus");
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string golden =
        "tests/golden/domain/corpus/" + e.path().filename().string();
    if (used.count(golden)) continue;
    if (testing::RegeneratingGoldens()) {
      std::filesystem::remove(e.path());
    } else {
      FAIL_CHECK("stale golden file " << golden
                                      << ": no corpus descriptor makes it");
    }
  }
}

TEST_CASE("domain goldens: vmware-style bios appliance, keep policy") {
  ImportPolicy keep;
  keep.disk_bus = DiskBusChoice::kKeep;
  CheckPlannedGoldens("vmware-bios", One(VmwareBios()),
                      RequestFor("vmware-bios.ova", keep));
}

// The default (--disk-bus auto): the boot disk leaves LSI Logic for SATA,
// the data disks stay on their controllers.
TEST_CASE("domain goldens: vmware-style bios appliance, auto policy") {
  CheckPlannedGoldens("vmware-bios-auto", One(VmwareBios()),
                      RequestFor("vmware-bios.ova"));
}

TEST_CASE("domain goldens: virtualbox ide-only bios machine gets i440fx") {
  CheckPlannedGoldens("vbox-ide-bios", One(VirtualBoxIde()),
                      RequestFor("vbox-ide-bios.ova"));
}

TEST_CASE("domain goldens: uefi secure boot, nvme and pvscsi, tpm") {
  CheckPlannedGoldens("efi-secure-boot", One(EfiSecureBoot()),
                      RequestFor("efi-secure-boot.ova"));
}

TEST_CASE("domain goldens: uefi without secure boot and odd devices") {
  ImportPolicy p;
  p.kvm_available = false;
  CheckPlannedGoldens("efi-oddities", One(EfiOddities()),
                      RequestFor("efi-oddities.ova", p));
}

TEST_CASE("domain goldens: --disk-bus virtio --nic-model virtio, mappings") {
  ImportPolicy p;
  p.disk_bus = DiskBusChoice::kVirtio;
  p.nic_model = NicModelChoice::kVirtio;
  p.virt_type = VirtType::kQemu;
  p.networks = {*ParseNetworkMapping("VM Network=bridge:br0"),
                *ParseNetworkMapping("Storage=none"),
                *ParseNetworkMapping("Unused=isolated")};
  CheckPlannedGoldens("policy-virtio", One(VmwareBios()),
                      RequestFor("vmware-bios.ova", p));
}

TEST_CASE("domain goldens: --disk-bus sata / scsi, --nic-model e1000") {
  ImportPolicy sata;
  sata.disk_bus = DiskBusChoice::kSata;
  sata.nic_model = NicModelChoice::kE1000;
  sata.networks = {*ParseNetworkMapping("*=user")};
  CheckPlannedGoldens("policy-sata", One(VirtualBoxIde()),
                      RequestFor("vbox-ide-bios.ova", sata));
  ImportPolicy scsi;
  scsi.disk_bus = DiskBusChoice::kScsi;
  CheckPlannedGoldens("policy-scsi", One(EfiSecureBoot()),
                      RequestFor("efi-secure-boot.ova", scsi));
}

// The referee can say no: a schema violation fails virt-xml-validate, and
// the test driver refuses it too.
TEST_CASE("domain goldens: the referees reject a broken domain") {
  auto plan = PlanImport(One(VmwareBios()), RequestFor("vmware-bios.ova"),
                         ImagesDir(), nullptr);
  REQUIRE_OK(plan);
  std::string bad = plan->domains[0].xml;
  size_t at = bad.find("<vcpu ");
  REQUIRE(at != std::string::npos);
  bad.insert(at, "<vcpus>2</vcpus>\n  ");
  testing::TempDir tmp;
  testing::WriteFileOrDie(tmp.Join("bad.xml"), bad);
  auto v = testing::RunCommand("virt-xml-validate " +
                               testing::ShellQuote(tmp.Join("bad.xml")) +
                               " domain >/dev/null 2>&1");
  CHECK(v.exit_code != 0);
  auto conn = OpenEmptyTestDriver(tmp);
  REQUIRE_OK(conn);
  CHECK(!(*conn)->DefineDomain(bad).ok());
}

// The golden comparison itself can fail, and says where.
TEST_CASE("domain goldens: a mismatch fails with the first differing line") {
  // Not while regenerating: MatchesGolden would rewrite the golden.
  if (testing::RegeneratingGoldens()) return;
  auto plan = PlanImport(One(VmwareBios()), RequestFor("vmware-bios.ova"),
                         ImagesDir(), nullptr);
  REQUIRE_OK(plan);
  const std::string& golden = plan->domains[0].xml;
  std::string xml = golden;
  CHECK(
      testing::GoldenDifference("tests/golden/domain/vmware-bios-auto.xml", xml)
          .empty());
  xml.replace(xml.find("<vcpu "), 6, "<vcpus ");
  std::string why = testing::GoldenDifference(
      "tests/golden/domain/vmware-bios-auto.xml", xml);
  INFO(why);
  CHECK(why.find("tests/golden/domain/vmware-bios-auto.xml:") == 0);
  CHECK(why.find("got [  <vcpus ") != std::string::npos);
  // Output that stops early says so.
  std::string cut = golden.substr(0, golden.find("\n  <devices>") + 1);
  why = testing::GoldenDifference("tests/golden/domain/vmware-bios-auto.xml",
                                  cut);
  CHECK(why.find("expected [  <devices>] got [<end of output>]") !=
        std::string::npos);
}

TEST_CASE("domain goldens: a two-system collection yields two domains") {
  ApplianceSpec a = One(VmwareBios());
  VmSpec second = VirtualBoxIde();
  second.name = "second-vm";
  a.systems.push_back(second);
  auto plan = PlanImport(a, RequestFor("two.ova"), ImagesDir(), nullptr);
  REQUIRE_OK(plan);
  REQUIRE(plan->domains.size() == 2);
  CHECK(plan->domains[0].name == "vmware-appliance");
  CHECK(plan->domains[1].name == "second-vm");
  CHECK(plan->domains[1].xml.find(
            "/var/lib/libvirt/images/second-vm-disk1.qcow2") !=
        std::string::npos);
}

// What `run` and batch ask of the planner beyond a plain import: volumes in
// a (local) pool, --name, the serial console to a log file, no display,
// extra metadata entries, a given --virt-type.
TEST_CASE("domain goldens: pool volumes, serial file, metadata, headless") {
  ImportPolicy p;
  p.virt_type = VirtType::kQemu;
  ImportRequest r = RequestFor("/srv/appliance.ova", p);
  r.storage_dir.clear();
  r.name = "bound";
  r.serial_log_dir = "/var/log/ova2virt";
  r.headless = true;
  // The entries batch adds (its item's key, the source's digest), with a
  // fixed digest.
  r.metadata = {{"batch-item", "bound"},
                {"batch-source", std::string(64, 'a')}};
  StorageTarget pool;
  pool.pool = "default";
  pool.in_place = true;
  pool.dir = "/var/lib/libvirt/images";
  auto plan = PlanImport(One(VmwareBios()), r, pool, nullptr);
  REQUIRE_OK(plan);
  REQUIRE(plan->domains.size() == 1);
  CHECK(plan->domains[0].xml.find("must-not-appear") == std::string::npos);
  CheckPlannedGoldens("bound-options", One(VmwareBios()), r, pool);
}

}  // namespace
}  // namespace ova2virt
