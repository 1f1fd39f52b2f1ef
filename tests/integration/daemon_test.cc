// Against a real libvirtd started by run_integration.sh daemon (its URI in
// $OVA2VIRT_TEST_URI): a directory pool, volumes filled through upload
// streams and read back through download streams, domains defined,
// started and destroyed under TCG, and rollback after injected failures.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/cancel.h"
#include "pipeline/policy.h"
#include "pipeline/test_machines.h"
#include "tests/integration/integration_util.h"
#include "virtdriver/connection.h"
#include "virtdriver/rollback.h"

namespace ova2virt {
namespace {

using testing::RunCommand;
using testing::ShellQuote;

// One daemon connection and one directory pool for all cases.
struct Fixture {
  Fixture() {
    const char* uri = getenv("OVA2VIRT_TEST_URI");
    REQUIRE_MESSAGE(uri != nullptr,
                    "run through tests/integration/run_integration.sh daemon");
    auto c = Connection::Open(uri);
    REQUIRE_OK(c);
    conn = std::move(*c);
    pool = testing::UniqueName("pool");
    pool_dir = testing::ScratchDir() + "/" + pool;
    auto p = conn->CreateDirPool(pool, pool_dir);
    REQUIRE_OK(p);
    REQUIRE(p->is_local);
  }
  ~Fixture() {
    conn->DestroyPool(pool).IgnoreError();
    std::error_code ec;
    std::filesystem::remove_all(pool_dir, ec);
  }
  std::vector<std::string> PoolFiles() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(pool_dir)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }
  std::unique_ptr<Connection> conn;
  std::string pool, pool_dir;
};

// Deterministic, non-repeating-looking bytes.
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

Status Write(BlockSink& sink, uint64_t offset, std::string_view data) {
  return sink.WriteAt(offset, AsBytes(data));
}

TEST_CASE("daemon: upload through a stream, holes and rewrites; cmp agrees") {
  Fixture f;
  for (auto holes :
       {Connection::UploadHoles::kSparse, Connection::UploadHoles::kZeros}) {
    INFO((holes == Connection::UploadHoles::kSparse ? "sparse" : "zeros"));
    const uint64_t kSize = 4u << 20;
    auto vol = f.conn->CreateVolume(f.pool, "up.raw", kSize, "raw");
    REQUIRE_OK(vol);
    CHECK(vol->path == f.pool_dir + "/up.raw");
    struct stat st;
    REQUIRE(stat(vol->path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);  // not world-readable

    std::string expect(kSize, '\0');
    auto sink = f.conn->OpenUpload(f.pool, "up.raw", holes);
    REQUIRE_OK(sink);
    // Odd-sized sequential writes across the stream's chunk size.
    uint64_t pos = 0;
    for (int i = 0; pos < (1u << 20); ++i) {
      std::string piece = Pattern(100000 + i, i);
      if (pos + piece.size() > (1u << 20)) piece.resize((1u << 20) - pos);
      REQUIRE_OK(Write(**sink, pos, piece));
      expect.replace(pos, piece.size(), piece);
      pos += piece.size();
    }
    // A gap (a hole in the stream), then one large write.
    std::string big = Pattern((1u << 20) + 123, 99);
    REQUIRE_OK(Write(**sink, 2u << 20, big));
    expect.replace(2u << 20, big.size(), big);
    // A write behind the stream position: the header rewritten at the end.
    std::string header = Pattern(512, 7);
    REQUIRE_OK(Write(**sink, 0, header));
    expect.replace(0, header.size(), header);
    REQUIRE_OK((*sink)->SetSize(kSize));
    REQUIRE_OK((*sink)->Close());
    sink->reset();

    std::string expect_path = testing::ScratchDir() + "/expect.raw";
    testing::WriteFileOrDie(expect_path, expect);
    auto cmp = RunCommand("cmp " + ShellQuote(expect_path) + " " +
                          ShellQuote(vol->path) + " 2>&1");
    INFO(cmp.out);
    CHECK(cmp.exit_code == 0);

    // And back through a download stream, sequentially and after a seek.
    auto src = f.conn->OpenDownload(f.pool, "up.raw");
    REQUIRE_OK(src);
    REQUIRE((*src)->size() == kSize);
    std::string got(kSize, '\0');
    for (uint64_t off = 0; off < kSize; off += 1u << 20) {
      auto n = (*src)->ReadAt(
          off, {reinterpret_cast<uint8_t*>(got.data()) + off, 1u << 20});
      REQUIRE_OK(n);
      REQUIRE(*n == (1u << 20));
    }
    CHECK(got == expect);
    std::string tail(1000, '\0');
    auto n = (*src)->ReadAt(
        kSize - 500, {reinterpret_cast<uint8_t*>(tail.data()), tail.size()});
    REQUIRE_OK(n);
    CHECK(*n == 500);
    CHECK(tail.substr(0, 500) == expect.substr(kSize - 500));
    src->reset();
    CHECK_OK(f.conn->DeleteVolume(f.pool, "up.raw"));
  }
}

TEST_CASE("daemon: a qcow2 image uploaded whole becomes a qcow2 volume") {
  Fixture f;
  std::string dir = testing::ScratchDir();
  std::string raw = dir + "/src.raw", qcow = dir + "/src.qcow2";
  std::string data = Pattern(3u << 20, 5);
  data.resize(8u << 20, '\0');  // a sparse tail
  testing::WriteFileOrDie(raw, data);
  REQUIRE(RunCommand("qemu-img convert -f raw -O qcow2 " + ShellQuote(raw) +
                     " " + ShellQuote(qcow))
              .exit_code == 0);
  std::string image = testing::ReadFileOrDie(qcow);

  REQUIRE_OK(f.conn->CreateVolume(f.pool, "img.qcow2", 8u << 20, "qcow2"));
  auto sink = f.conn->OpenUpload(f.pool, "img.qcow2");
  REQUIRE_OK(sink);
  for (size_t off = 0; off < image.size(); off += 65536) {
    REQUIRE_OK(Write(**sink, off, std::string_view(image).substr(off, 65536)));
  }
  REQUIRE_OK((*sink)->Close());
  sink->reset();
  REQUIRE_OK(f.conn->RefreshPool(f.pool));
  auto vol = f.conn->LookupVolume(f.pool, "img.qcow2");
  REQUIRE_OK(vol);
  CHECK(vol->format == "qcow2");
  CHECK(vol->capacity == (8u << 20));
  // Export reads it back by the path in domain XML, through a stream.
  auto by_path = f.conn->LookupVolumeByPath(vol->path);
  REQUIRE_OK(by_path);
  CHECK(by_path->name == "img.qcow2");
  auto src = f.conn->OpenDownload(f.pool, "img.qcow2");
  REQUIRE_OK(src);
  CHECK((*src)->size() == image.size());
  std::string back(image.size(), '\0');
  auto n =
      (*src)->ReadAt(0, {reinterpret_cast<uint8_t*>(back.data()), back.size()});
  REQUIRE_OK(n);
  CHECK(*n == image.size());
  CHECK(back == image);
  src->reset();
  auto cmp = RunCommand("qemu-img compare -f raw -F qcow2 " + ShellQuote(raw) +
                        " " + ShellQuote(vol->path) + " 2>&1");
  INFO(cmp.out);
  CHECK(cmp.exit_code == 0);
  CHECK_OK(f.conn->DeleteVolume(f.pool, "img.qcow2"));
}

TEST_CASE("daemon: define, start and destroy a diskless domain (tcg)") {
  Fixture f;
  auto caps = f.conn->Capabilities();
  REQUIRE_OK(caps);
  CHECK(caps->qemu);
  CHECK(!caps->machines.empty());
  CHECK(std::find(caps->disk_buses.begin(), caps->disk_buses.end(), "sata") !=
        caps->disk_buses.end());
  CHECK(f.conn->HasStorageDriver());
  CHECK(f.conn->IsLocal());
  std::string name = testing::UniqueName("diskless");
  auto xml = FormatDomainXml(
      testing::DisklessMachine(name),
      testing::TestOptions(testing::ScratchDir() + "/" + name + ".serial"),
      nullptr);
  REQUIRE_OK(xml);
  REQUIRE_OK(f.conn->DefineDomain(*xml));
  CHECK(*f.conn->DomainExists(name));
  REQUIRE_OK(f.conn->StartDomain(name));
  CHECK(*f.conn->GetDomainState(name) == DomainState::kRunning);
  CHECK_OK(f.conn->DestroyDomain(name));
  CHECK_OK(f.conn->WaitForShutoff(name, std::chrono::seconds(10)));
  // What libvirt completed reads back as the same machine.
  auto back = f.conn->GetDomainXml(name, true);
  REQUIRE_OK(back);
  auto spec = ParseDomainXml(*back, nullptr);
  REQUIRE_OK(spec);
  CHECK(spec->memory_bytes == (128ull << 20));
  CHECK_OK(f.conn->UndefineDomain(name));
  CHECK(!*f.conn->DomainExists(name));
}

// A VMware-style machine after the keep policy, its disks as pool volumes:
// QEMU must accept every device we write (lsilogic, ahci, floppy, ehci,
// es1370, vmvga, e1000, vmxnet3), under BIOS and under UEFI.
TEST_CASE("daemon: a vmware-style machine starts with every device kept") {
  Fixture f;
  for (Firmware fw : {Firmware::kBios, Firmware::kEfi}) {
    std::string name = testing::UniqueName(
        fw == Firmware::kEfi ? "vmware-efi" : "vmware-bios");
    INFO(name);
    VmSpec vm = testing::DisklessMachine(name);
    vm.firmware = fw;
    vm.vcpus = 2;
    vm.cores_per_socket = 2;
    vm.controllers = {
        {"ide0", ControllerKind::kIde},
        {"scsi0", ControllerKind::kScsi, ControllerModel::kLsiLogic}};
    Disk d0;
    d0.id = "disk0";
    d0.controller_id = "scsi0";
    d0.unit = 0;
    Disk cd;
    cd.id = "cd";
    cd.device = DiskDevice::kCdrom;
    cd.controller_id = "ide0";
    cd.unit = 1;
    Disk fd;
    fd.id = "fd";
    fd.device = DiskDevice::kFloppy;
    vm.disks = {d0, cd, fd};
    Nic e1000;
    e1000.id = "n0";
    e1000.model = NicModel::kE1000;
    e1000.mac = "00:50:56:01:02:03";
    Nic vmx = e1000;
    vmx.id = "n1";
    vmx.model = NicModel::kVmxnet3;
    vmx.mac = "00:50:56:01:02:04";
    vm.nics = {e1000, vmx};
    vm.usb_controllers = {{"ehci"}};
    vm.sound_cards = {{"ensoniq1371"}};
    vm.video = Video{"vmvga", 8u << 20};

    ImportPolicy policy;
    policy.virt_type = VirtType::kQemu;
    policy.networks = {*ParseNetworkMapping("*=user")};
    auto plan = ApplyImportPolicy(vm, policy, nullptr);
    REQUIRE_OK(plan);
    std::string vol = name + "-disk0.qcow2";
    // A blank qcow2 of 64 MiB, uploaded as a whole image.
    std::string img = testing::ScratchDir() + "/" + vol;
    REQUIRE(
        RunCommand("qemu-img create -q -f qcow2 " + ShellQuote(img) + " 64M")
            .exit_code == 0);
    REQUIRE_OK(f.conn->CreateVolume(f.pool, vol, 64u << 20, "qcow2"));
    {
      auto sink = f.conn->OpenUpload(f.pool, vol);
      REQUIRE_OK(sink);
      REQUIRE_OK(Write(**sink, 0, testing::ReadFileOrDie(img)));
      REQUIRE_OK((*sink)->Close());
    }
    REQUIRE_OK(f.conn->RefreshPool(f.pool));

    DomainOptions o =
        testing::TestOptions(testing::ScratchDir() + "/" + name + ".serial");
    o.name = name;
    o.machine = plan->machine;
    o.nics = plan->nics;
    o.disks = {{"disk0", "", f.pool, vol, "qcow2"}};
    Diagnostics diags;
    auto xml = FormatDomainXml(plan->spec, o, &diags);
    REQUIRE_OK(xml);
    INFO(*xml);
    REQUIRE_OK(f.conn->DefineDomain(*xml));
    Status started = f.conn->StartDomain(name);
    CHECK_OK(started);
    if (started.ok()) {
      CHECK(*f.conn->GetDomainState(name) == DomainState::kRunning);
      CHECK_OK(f.conn->DestroyDomain(name));
    }
    CHECK_OK(f.conn->UndefineDomain(name));
    CHECK_OK(f.conn->DeleteVolume(f.pool, vol));
  }
}

// Every machine of the golden tests, as the keep and auto policies make
// it, must start in real QEMU: the XML libvirt accepts is not enough (QEMU
// refuses devices libvirt allows, e.g. IDE on q35, or an lsilogic unit past
// 6).
TEST_CASE("daemon: every golden test machine starts in qemu") {
  Fixture f;
  bool have_swtpm = RunCommand("command -v swtpm >/dev/null").exit_code == 0;
  std::string blank = testing::ScratchDir() + "/blank.qcow2";
  REQUIRE(
      RunCommand("qemu-img create -q -f qcow2 " + ShellQuote(blank) + " 16M")
          .exit_code == 0);
  std::string blank_bytes = testing::ReadFileOrDie(blank);
  int n = 0;
  std::vector<std::pair<VmSpec, std::string>> machines;
  for (const char* bus : {"keep", "auto"}) {
    for (const VmSpec& vm :
         {test_machines::VmwareBios(), test_machines::VirtualBoxIde(),
          test_machines::EfiSecureBoot(), test_machines::EfiOddities()}) {
      machines.push_back({vm, bus});
    }
  }
  for (auto& [vm, bus] : machines) {
    std::string name = testing::UniqueName("machine" + std::to_string(++n));
    INFO(vm.name << " (--disk-bus " << bus << ") as " << name);
    vm.memory_bytes = 256ull << 20;  // nothing boots; keep QEMU small
    if (!have_swtpm) vm.tpm.reset();
    ImportPolicy policy;
    policy.disk_bus = *ParseDiskBusChoice(bus);
    policy.virt_type = VirtType::kQemu;
    policy.networks = {*ParseNetworkMapping("*=user")};
    auto plan = ApplyImportPolicy(vm, policy, nullptr);
    REQUIRE_OK(plan);
    DomainOptions o =
        testing::TestOptions(testing::ScratchDir() + "/" + name + ".serial");
    o.name = name;
    o.machine = plan->machine;
    o.nics = plan->nics;
    Transaction t(*f.conn);
    for (const Disk& d : plan->spec.disks) {
      bool disk = d.device == DiskDevice::kDisk;
      if (!disk && d.source.href.empty()) continue;
      std::string vol = name + "-" + d.id + (disk ? ".qcow2" : ".raw");
      REQUIRE_OK(
          f.conn->CreateVolume(f.pool, vol, 16u << 20, disk ? "qcow2" : "raw"));
      t.AddVolume(f.pool, vol);
      if (disk) {
        auto sink = f.conn->OpenUpload(f.pool, vol);
        REQUIRE_OK(sink);
        REQUIRE_OK(Write(**sink, 0, blank_bytes));
        REQUIRE_OK((*sink)->Close());
      }
      o.disks.push_back({d.id, "", f.pool, vol, disk ? "qcow2" : "raw"});
    }
    REQUIRE_OK(f.conn->RefreshPool(f.pool));
    auto xml = FormatDomainXml(plan->spec, o, nullptr);
    REQUIRE_OK(xml);
    REQUIRE_OK(f.conn->DefineDomain(*xml));
    t.AddDomain(name);
    Status started = f.conn->StartDomain(name);
    INFO(*xml);
    CHECK_OK(started);
    if (started.ok()) {
      CHECK(*f.conn->GetDomainState(name) == DomainState::kRunning);
    }
    // Export reads what libvirt completed (PCI addresses, implicit
    // controllers): the same devices come back, and format again.
    auto live = f.conn->GetDomainXml(name, true);
    REQUIRE_OK(live);
    Diagnostics parse_diags;
    auto back = ParseDomain(*live, &parse_diags);
    REQUIRE_OK(back);
    CHECK(back->spec.disks.size() == plan->spec.disks.size());
    CHECK(back->spec.nics.size() == plan->spec.nics.size());
    CHECK(back->spec.firmware == plan->spec.firmware);
    CHECK(back->spec.secure_boot == plan->spec.secure_boot);
    CHECK(back->options.machine == plan->machine);
    CHECK_OK(FormatDomainXml(back->spec, back->options, nullptr));
    CHECK_OK(t.Rollback());
  }
  CHECK(f.PoolFiles().empty());
}

TEST_CASE("daemon: rollback after an injected failure leaves nothing") {
  Fixture f;
  std::string name = testing::UniqueName("rollback");
  std::string vol = name + ".raw";
  // The steps of an import, failing after the domain is defined and
  // started: the Transaction must undo all of it.
  auto import = [&](Transaction& t) -> Status {
    ASSIGN_OR_RETURN(Volume v,
                     f.conn->CreateVolume(f.pool, vol, 1u << 20, "raw"));
    t.AddVolume(f.pool, vol);
    ASSIGN_OR_RETURN(auto sink, f.conn->OpenUpload(f.pool, vol));
    RETURN_IF_ERROR(sink->WriteAt(0, AsBytes(Pattern(1u << 20, 3))));
    RETURN_IF_ERROR(sink->Close());
    VmSpec vm = testing::DisklessMachine(name);
    DomainOptions o =
        testing::TestOptions(testing::ScratchDir() + "/" + name + ".serial");
    ASSIGN_OR_RETURN(std::string xml, FormatDomainXml(vm, o, nullptr));
    RETURN_IF_ERROR(f.conn->DefineDomain(xml).status());
    t.AddDomain(name);
    RETURN_IF_ERROR(f.conn->StartDomain(name));
    return FailedError("injected failure after start");
  };
  {
    Transaction t(*f.conn);
    Status s = import(t);
    CHECK(s.message() == "injected failure after start");
    CHECK(*f.conn->DomainExists(name));
    CHECK(*f.conn->VolumeExists(f.pool, vol));
    CHECK_OK(t.Rollback());
  }
  CHECK(!*f.conn->DomainExists(name));
  CHECK(!*f.conn->VolumeExists(f.pool, vol));
  CHECK(f.PoolFiles().empty());

  // Interrupted mid-upload (Ctrl-C): the stream is aborted, and the
  // destructor's rollback removes the half-written volume.
  {
    Transaction t(*f.conn);
    REQUIRE_OK(f.conn->CreateVolume(f.pool, vol, 4u << 20, "raw"));
    t.AddVolume(f.pool, vol);
    auto sink = f.conn->OpenUpload(f.pool, vol);
    REQUIRE_OK(sink);
    REQUIRE_OK((*sink)->WriteAt(0, AsBytes(Pattern(1u << 20, 4))));
    RequestCancel();
    Status s = (*sink)->WriteAt(1u << 20, AsBytes(Pattern(1u << 20, 5)));
    ResetCancel();
    CHECK(s.code() == ErrorCode::kCancelled);
  }
  CHECK(!*f.conn->VolumeExists(f.pool, vol));
  CHECK(f.PoolFiles().empty());
}

}  // namespace
}  // namespace ova2virt
