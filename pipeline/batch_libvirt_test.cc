// The real batch executor against libvirt's test driver: what counts as
// "still there", and imports that land or leave nothing.
#include "pipeline/batch_libvirt.h"

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

}  // namespace
}  // namespace ova2virt
