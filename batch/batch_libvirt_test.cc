// The real batch executor against libvirt's test driver: what counts as
// "still there", and imports that land or leave nothing.
#include "batch/batch_libvirt.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string DomainXml(std::string_view item, std::string_view digest,
                      std::string_view prefix = "ova2virt") {
  std::string p(prefix);
  return "<domain type='test'>\n"
         "  <name>web</name>\n"
         "  <memory>65536</memory>\n"
         "  <os><type>hvm</type></os>\n"
         "  <metadata>\n"
         "    <" +
         p + ":appliance xmlns:" + p +
         "='https://ova2virt.example/xmlns/1.0'>\n"
         "      <" +
         p + ":meta name='source'>/srv/web.ova</" + p +
         ":meta>\n"
         "      <" +
         p + ":meta name='batch-item'>" + std::string(item) + "</" + p +
         ":meta>\n"
         "      <" +
         p + ":meta name='batch-source'>" + std::string(digest) + "</" + p +
         ":meta>\n"
         "    </" +
         p +
         ":appliance>\n"
         "  </metadata>\n"
         "</domain>\n";
}

TEST_CASE("batch libvirt: a domain carries an item's metadata") {
  CHECK(CarriesBatchMetadata(DomainXml("web", "d1"), "web", "d1"));
  // Whatever prefix libvirt or a user gave our namespace.
  CHECK(CarriesBatchMetadata(DomainXml("web", "d1", "x"), "web", "d1"));
  CHECK_FALSE(CarriesBatchMetadata(DomainXml("web", "d1"), "web", "d2"));
  CHECK_FALSE(CarriesBatchMetadata(DomainXml("web", "d1"), "db", "d1"));
  CHECK_FALSE(CarriesBatchMetadata(DomainXml("", "d1"), "web", "d1"));
  // Another namespace is not ours.
  std::string foreign = DomainXml("web", "d1");
  foreign.replace(foreign.find("ova2virt.example"), 16, "example.org/other");
  CHECK_FALSE(CarriesBatchMetadata(foreign, "web", "d1"));
  CHECK_FALSE(
      CarriesBatchMetadata("<domain><name>web</name></domain>", "web", "d1"));
  CHECK_FALSE(CarriesBatchMetadata("<domain><metadata>", "web", "d1"));
  CHECK_FALSE(CarriesBatchMetadata("", "web", "d1"));
  CHECK_FALSE(CarriesBatchMetadata(
      "<network>" + DomainXml("web", "d1") + "</network>", "web", "d1"));
}

// A test-driver host holding domain "web" (made by item "web" from source
// "d1") and its volume "web-disk1.qcow2" in pool "p".
std::string TestHost(const TempDir& dir) {
  std::string node = "<node>\n" + DomainXml("web", "d1") +
                     "  <pool type='dir'>\n"
                     "    <name>p</name>\n"
                     "    <target><path>" +
                     dir.Join("p") +
                     "</path></target>\n"
                     "    <volume><name>web-disk1.qcow2</name>"
                     "<capacity>1024</capacity></volume>\n"
                     "  </pool>\n"
                     "</node>\n";
  testing::WriteFileOrDie(dir.Join("node.xml"), node);
  return "test://" + dir.Join("node.xml");
}

TEST_CASE("batch libvirt: still there means domains, metadata and volumes") {
  TempDir dir;
  BatchItem item;
  item.key = "web";
  item.connect = TestHost(dir);
  StateRecord rec;
  rec.status = StateRecord::kDone;
  rec.source.digest = "d1";
  rec.domains = {"web"};
  rec.volumes = {{"p", "web-disk1.qcow2", dir.Join("p/web-disk1.qcow2")}};
  LibvirtBatchExecutor exec;

  auto there = [&](const StateRecord& r) {
    auto t = exec.StillThere(item, r);
    REQUIRE_OK(t);
    return *t;
  };
  CHECK(there(rec));
  StateRecord other_source = rec;
  other_source.source.digest = "d2";
  CHECK_FALSE(there(other_source));
  StateRecord no_domain = rec;
  no_domain.domains = {"web", "db"};
  CHECK_FALSE(there(no_domain));
  StateRecord no_volume = rec;
  no_volume.volumes.push_back({"p", "web-disk2.qcow2", ""});
  CHECK_FALSE(there(no_volume));
  StateRecord nothing = rec;
  nothing.domains.clear();
  CHECK_FALSE(there(nothing));
  // Files written with storage_dir: looked at on this host.
  StateRecord files = rec;
  files.volumes = {{"", "web-disk1.qcow2", dir.Join("web-disk1.qcow2")}};
  CHECK_FALSE(there(files));
  testing::WriteFileOrDie(dir.Join("web-disk1.qcow2"), "x");
  CHECK(there(files));
  // Another item's key on the same domain is not this item's work.
  BatchItem other = item;
  other.key = "web-copy";
  auto t = exec.StillThere(other, rec);
  REQUIRE_OK(t);
  CHECK_FALSE(*t);

  // A host that cannot be asked is an error, not "gone".
  BatchItem unreachable = item;
  unreachable.connect = "test://" + dir.Join("missing-node.xml");
  CHECK_FALSE(exec.StillThere(unreachable, rec).ok());
}

BatchItem CorpusItem(const TempDir& dir, const std::string& ova) {
  BatchItem item;
  item.key = "vbox";
  item.connect = "test:///default";
  item.import.input = testing::CorpusPath("ova/" + ova);
  item.import.name = "vbox";
  item.import.storage_dir = dir.path();
  return item;
}

TEST_CASE("batch libvirt: an import item lands, or leaves nothing") {
  TempDir dir;
  LibvirtBatchExecutor exec;
  BatchItem item = CorpusItem(dir, "vboxvk_tdAppliance1-t2.ova");
  auto source = exec.Identify(item);
  REQUIRE_OK(source);

  ExecuteOptions dry;
  dry.dry_run = true;
  ItemWork plan = exec.Execute(item, *source, dry);
  CHECK_OK(plan.status);
  CHECK(plan.domains == std::vector<std::string>{"vbox"});
  CHECK_FALSE(plan.plan_text.empty());
  CHECK(dir.List().empty());

  ExecuteOptions options;
  options.jobs = 2;
  ItemWork work = exec.Execute(item, *source, options);
  REQUIRE_OK(work.status);
  CHECK(work.domains == std::vector<std::string>{"vbox"});
  REQUIRE_FALSE(work.volumes.empty());
  for (const RecordedVolume& v : work.volumes) {
    CHECK(v.pool.empty());
    CHECK(fs::is_regular_file(v.path));
  }

  TempDir empty;
  BatchItem broken = CorpusItem(empty, "glance_testserver-no-disk.ova");
  auto broken_source = exec.Identify(broken);
  REQUIRE_OK(broken_source);
  ItemWork failed = exec.Execute(broken, *broken_source, options);
  CHECK(failed.status.code() == ErrorCode::kCorrupt);
  CHECK(failed.status.message().find(broken.import.input) == 0);
  CHECK(failed.domains.empty());
  CHECK(empty.List().empty());

  BatchItem unreachable = item;
  unreachable.connect = "test://" + dir.Join("missing-node.xml");
  ItemWork no_host = exec.Execute(unreachable, *source, options);
  CHECK_FALSE(no_host.status.ok());
}

// A test-driver host with shut-off domain "web" (a UUID keeps its XML the
// same on every connection) on a 4 MiB raw disk holding some data.
std::string ExportHost(const TempDir& dir) {
  std::string disk = dir.Join("web.raw");
  testing::WriteFileOrDie(disk, std::string(1 << 20, '\0') +
                                    std::string(1 << 20, 'w') +
                                    std::string(2 << 20, '\0'));
  testing::WriteFileOrDie(
      dir.Join("export-node.xml"),
      "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
      "<domain type='test'><name>web</name>"
      "<uuid>0b7b1b52-1a61-4e8c-9d4a-4d5f0a6f7e01</uuid>"
      "<memory unit='MiB'>128</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
      "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
      "<source file='" +
          disk +
          "'/><target dev='sda' bus='sata'/></disk></devices>"
          "<test:runstate>5</test:runstate></domain></node>");
  return "test://" + dir.Join("export-node.xml");
}

TEST_CASE("batch libvirt: an export item writes, records and recognises") {
  TempDir dir;
  LibvirtBatchExecutor exec;
  BatchItem item;
  item.key = "web.ova";
  item.kind = BatchItemKind::kExport;
  item.connect = ExportHost(dir);
  item.export_request.domain = "web";
  item.export_request.output = dir.Join("out/web.ova");
  fs::create_directory(dir.Join("out"));
  auto source = exec.Identify(item);
  REQUIRE_OK(source);

  ExecuteOptions dry;
  dry.dry_run = true;
  ItemWork plan = exec.Execute(item, *source, dry);
  CHECK_OK(plan.status);
  CHECK(plan.plan_text.find("export domain 'web'") == 0);
  CHECK_FALSE(plan.output.has_value());
  CHECK(fs::is_empty(dir.Join("out")));

  ItemWork work = exec.Execute(item, *source, {});
  REQUIRE_OK(work.status);
  CHECK(work.domains.empty());
  REQUIRE(work.output.has_value());
  const RecordedOutput& out = *work.output;
  CHECK(out.path == item.export_request.output);
  CHECK(out.size == fs::file_size(out.path));
  CHECK(out.manifest == "web.mf");
  REQUIRE(out.files.size() == 3);  // descriptor, manifest, disk
  CHECK(out.files[1].name == "web.mf");

  StateRecord rec;
  rec.status = StateRecord::kDone;
  rec.kind = BatchItemKind::kExport;
  rec.source = *source;
  rec.output = out;
  auto there = exec.StillThere(item, rec);
  REQUIRE_OK(there);
  CHECK(*there);
  // The identity is unchanged by the export (it only read the disk).
  auto after = exec.Identify(item);
  REQUIRE_OK(after);
  CHECK(after->digest == source->digest);
  // A record without an output (a failure) is never there.
  StateRecord failed = rec;
  failed.output.reset();
  CHECK_FALSE(*exec.StillThere(item, failed));

  // Run again over an existing output: refused, the output untouched.
  ItemWork again = exec.Execute(item, *source, {});
  CHECK(again.status.code() == ErrorCode::kExists);
  CHECK(*exec.StillThere(item, rec));

  fs::remove(out.path);
  CHECK_FALSE(*exec.StillThere(item, rec));

  // An unknown domain: unidentifiable, and its export leaves nothing.
  BatchItem unknown = item;
  unknown.export_request.domain = "nosuch";
  auto no_source = exec.Identify(unknown);
  CHECK(no_source.status().code() == ErrorCode::kNotFound);
  ItemWork failed_work = exec.Execute(unknown, *source, {});
  CHECK(failed_work.status.code() == ErrorCode::kNotFound);
  CHECK_FALSE(failed_work.output.has_value());
  CHECK(fs::is_empty(dir.Join("out")));
}

// A host that accepts the connection and never answers (a frozen libvirtd:
// its socket is still there): the executor gives up within its timeout,
// naming the host, instead of waiting forever (issue 15).
TEST_CASE("batch libvirt: a host that does not answer is given up in time") {
  TempDir tmp;
  std::string sock = tmp.Join("libvirt-sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  REQUIRE(sock.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock.c_str(), sock.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);  // connections queue; nobody answers
  std::string uri = "qemu+unix:///system?socket=" + sock;
  LibvirtBatchExecutor executor(nullptr, std::chrono::milliseconds(800));
  auto t0 = std::chrono::steady_clock::now();
  Status s = executor.Connect(uri);
  double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  CHECK(!s.ok());
  CHECK(s.message().find("cannot connect to " + Quote(uri)) !=
        std::string::npos);
  CHECK(s.message().find("no answer within 1 s") != std::string::npos);
  CHECK(took < 5);
  // A host that answers is connected, and stays so.
  CHECK_OK(executor.Connect("test:///default"));
  CHECK_OK(executor.Connect("test:///default"));
  ::close(fd);
}

}  // namespace
}  // namespace ova2virt
