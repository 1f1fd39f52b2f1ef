// Plan parsing: every way a plan can be wrong, and what a good one means.
#include "cli/batch_plan.h"

#include <filesystem>

#include "tests/support/test_util.h"

namespace ova2virt::cli {
namespace {

using testing::TempDir;

const char* kPlanPath = "/plans/migrate.json";

Result<BatchPlan> Parse(const std::string& text,
                        const std::string& default_connect = "") {
  return ParseBatchPlan(text, kPlanPath, default_connect);
}

// The error a plan gives: "CODE: message".
std::string ErrorOf(const std::string& text) {
  auto p = Parse(text);
  if (p.ok()) return "ok";
  return std::string(ErrorCodeName(p.status().code())) + ": " +
         p.status().message();
}

std::string Items(const std::string& items) {
  return "{\"items\": [" + items + "]}";
}

TEST_CASE("batch plan: a good plan, defaults merged, paths resolved") {
  auto plan = Parse(R"({
    "version": 1,
    "defaults": {
      "connect": "qemu:///system",
      "pool": "vms",
      "networks": {"VM Network": "lan", "*": "user"},
      "props": {"dns": "10.0.0.1", "port": 8080, "ssh": true},
      "format": "raw",
      "disk_bus": "virtio",
      "start": true
    },
    "items": [
      {"input": "exports/web.ova", "name": "web01", "upload": true,
       "networks": {"VM Network": "bridge:br0", "Backup": "none"},
       "props": {"port": "443"}},
      {"input": "/srv/db.ova", "id": "db-on-host2",
       "connect": "qemu+ssh://host2/system", "format": "qcow2",
       "storage_dir": "../disks", "vsys": 1, "ca": "ca.pem",
       "bridges": {"Storage": "br1"}, "verify": false, "threads": 4,
       "nic_model": "e1000", "virt_type": "qemu", "deployment": "large",
       "force": true},
      {"input": "./odd name.ova", "connect": ""},
      {"kind": "import", "input": "x.ova", "vsys": "web-tier"}
    ]
  })",
                    "test:///default");
  REQUIRE_OK(plan);
  CHECK(plan->path == kPlanPath);
  REQUIRE(plan->items.size() == 4);

  const BatchItem& web = plan->items[0];
  CHECK(web.key == "web01");
  CHECK(web.kind == BatchItemKind::kImport);
  CHECK(web.connect == "qemu:///system");
  CHECK(web.import.input == "/plans/exports/web.ova");
  CHECK(web.import.name == "web01");
  CHECK(web.import.pool == "vms");
  CHECK(web.import.format == VolumeFormat::kRaw);
  CHECK(web.import.policy.disk_bus == DiskBusChoice::kVirtio);
  CHECK(web.import.policy.nic_model == NicModelChoice::kKeep);
  CHECK(web.import.start);
  CHECK_FALSE(web.import.force);
  CHECK(web.import.verify);
  CHECK(web.import.upload);
  // Networks merge name by name: the item's "VM Network" wins.
  REQUIRE(web.import.policy.networks.size() == 3);
  std::map<std::string, NetworkMapping> nets;
  for (const NetworkMapping& m : web.import.policy.networks) nets[m.source] = m;
  CHECK(nets["VM Network"].kind == NicBinding::kBridge);
  CHECK(nets["VM Network"].target == "br0");
  CHECK(nets["Backup"].kind == NicBinding::kNone);
  CHECK(nets["*"].kind == NicBinding::kUser);
  CHECK(web.import.properties ==
        std::vector<std::pair<std::string, std::string>>{
            {"dns", "10.0.0.1"}, {"port", "443"}, {"ssh", "true"}});

  const BatchItem& db = plan->items[1];
  CHECK(db.key == "db-on-host2");
  CHECK(db.connect == "qemu+ssh://host2/system");
  CHECK(db.import.input == "/srv/db.ova");
  CHECK(db.import.name.empty());
  CHECK(db.import.format == VolumeFormat::kQcow2);
  CHECK(db.import.storage_dir == "/disks");
  CHECK(db.import.ca_file == "/plans/ca.pem");
  CHECK(db.import.vsys == "1");
  CHECK_FALSE(db.import.verify);
  CHECK_FALSE(db.import.upload);
  CHECK(db.import.threads == 4);
  CHECK(db.import.policy.nic_model == NicModelChoice::kE1000);
  CHECK(db.import.policy.virt_type == VirtType::kQemu);
  CHECK(db.import.deployment == "large");
  CHECK(db.import.force);
  CHECK(db.import.properties.size() == 3);  // the defaults' props
  std::map<std::string, NetworkMapping> db_nets;
  for (const NetworkMapping& m : db.import.policy.networks) {
    db_nets[m.source] = m;
  }
  CHECK(db_nets["Storage"].kind == NicBinding::kBridge);
  CHECK(db_nets["Storage"].target == "br1");
  CHECK(db_nets["VM Network"].target == "lan");

  // No name, no id: the input as written is the key; "" connects to
  // libvirt's default.
  const BatchItem& odd = plan->items[2];
  CHECK(odd.key == "./odd name.ova");
  CHECK(odd.import.input == "/plans/odd name.ova");
  CHECK(odd.connect.empty());
  CHECK(plan->items[3].import.vsys == "web-tier");
}

TEST_CASE("batch plan: -c is the default connection") {
  auto plan = Parse(Items(R"({"input": "a.ova"}, {"input": "b.ova",
                             "connect": "test:///default"})"),
                    "qemu:///session");
  REQUIRE_OK(plan);
  CHECK(plan->items[0].connect == "qemu:///session");
  CHECK(plan->items[1].connect == "test:///default");
  // An empty plan is a plan that does nothing.
  auto empty = Parse(Items(""));
  REQUIRE_OK(empty);
  CHECK(empty->items.empty());
}

TEST_CASE("batch plan: an item that names no pool may have default made") {
  auto plan = Parse(Items(R"({"input": "a.ova"},
                             {"input": "b.ova", "pool": "default"})"));
  REQUIRE_OK(plan);
  CHECK(plan->items[0].import.pool == "default");
  CHECK_FALSE(plan->items[0].import.pool_named);
  // Named, even as "default": a missing pool is then an error.
  CHECK(plan->items[1].import.pool_named);
}

TEST_CASE("batch plan: per-host limits") {
  const std::string items = R"("items": [
      {"input": "a.ova", "connect": "qemu+tls://h1/system"},
      {"input": "b.ova", "connect": "qemu+ssh://h2/system"}])";
  auto plan = Parse("{" + items +
                    R"(, "hosts": {"qemu+tls://h1/system": {"max_jobs": 3}}})");
  REQUIRE_OK(plan);
  CHECK(plan->max_jobs ==
        std::map<std::string, int>{{"qemu+tls://h1/system", 3}});
  CHECK(ErrorOf("{" + items + R"(, "hosts": {"qemu+tls://h9/system": {}}})") ==
        "usage: hosts: 'qemu+tls://h9/system': no item connects to it");
  CHECK(ErrorOf("{" + items +
                R"(, "hosts": {"qemu+tls://h1/system": {"max_jobs": 0}}})")
            .find("key 'max_jobs' must be an integer from 1 to 64") !=
        std::string::npos);
  CHECK(ErrorOf("{" + items +
                R"(, "hosts": {"qemu+tls://h1/system": {"max_job": 2}}})")
            .find("unknown key 'max_job'") != std::string::npos);
  CHECK(ErrorOf("{" + items + R"(, "hosts": []})") ==
        "usage: 'hosts' must be an object of connection URIs");
}

TEST_CASE("batch plan: text that is not a plan") {
  CHECK(ErrorOf("").rfind("usage: not json: line 1, column 1:", 0) == 0);
  CHECK(ErrorOf("{\"items\": [\n  {\"input\": \"a.ova\",}\n]}")
            .rfind("usage: not json: line 2, column 21: syntax error", 0) == 0);
  CHECK(ErrorOf("[]") ==
        "usage: the plan must be a json object with \"items\"");
  CHECK(ErrorOf("{}") ==
        "usage: the plan has no \"items\" (a list of imports and exports)");
  CHECK(ErrorOf(R"({"itmes": []})") ==
        "usage: the plan: unknown key 'itmes' (did you mean 'items'?)");
  CHECK(ErrorOf(R"({"items": [], "comment": 1})") ==
        "usage: the plan: unknown key 'comment'");
  CHECK(ErrorOf(R"({"version": 2, "items": []})") ==
        "unsupported: plan version '2' is not supported (this ova2virt "
        "reads 1)");
  CHECK(ErrorOf(R"({"version": "1", "items": []})")
            .rfind("unsupported: plan version", 0) == 0);
  CHECK(ErrorOf(R"({"items": {}})") == "usage: 'items' must be a list");
  CHECK(ErrorOf(Items("\"a.ova\"")) == "usage: item 1 must be an object");
  // Keys twice: JSON parsers keep the last silently; a plan must not.
  CHECK(ErrorOf(R"({"items": [], "items": []})") ==
        "usage: the plan: key 'items' appears twice");
  CHECK(ErrorOf(Items(R"({"input": "a.ova"},
                         {"input": "b.ova", "name": "x", "name": "y"})")) ==
        "usage: item 2: key 'name' appears twice");
  CHECK(ErrorOf(R"({"defaults": {"pool": "a", "pool": "b"}, "items": []})") ==
        "usage: defaults: key 'pool' appears twice");
  CHECK(ErrorOf(
            Items(R"({"input": "a.ova", "networks": {"n": "a", "n": "b"}})")) ==
        "usage: item 1: key 'n' appears twice");
  // Nesting no plan needs.
  std::string deep =
      Items("{\"input\": \"a.ova\", \"props\": " + std::string(5000, '[') +
            std::string(5000, ']') + "}");
  CHECK(ErrorOf(deep) == "usage: nested deeper than 8 levels");
  // Invalid UTF-8 is not JSON.
  CHECK(ErrorOf(Items("{\"input\": \"a\xff.ova\"}"))
            .rfind("usage: not json:", 0) == 0);
}

TEST_CASE("batch plan: the defaults") {
  CHECK(ErrorOf(R"({"defaults": [], "items": []})") ==
        "usage: 'defaults' must be an object");
  CHECK(ErrorOf(R"({"defaults": {"input": "a.ova"}, "items": []})") ==
        "usage: defaults: key 'input' belongs to an item, not to the defaults");
  CHECK(ErrorOf(R"({"defaults": {"name": "a"}, "items": []})") ==
        "usage: defaults: key 'name' belongs to an item, not to the defaults");
  CHECK(ErrorOf(R"({"defaults": {"pol": "a"}, "items": []})") ==
        "usage: defaults: unknown key 'pol' (did you mean 'pool'?)");
  CHECK(ErrorOf(R"({"defaults": {"format": "vmdk"}, "items": []})") ==
        "usage: defaults: 'format' is 'vmdk', not one of qcow2, raw");
}

TEST_CASE("batch plan: every wrong item names the item and the key") {
  struct Case {
    const char* item;
    const char* error;
  };
  const Case cases[] = {
      {R"({"input": "a.ova", "nmae": "web"})",
       "usage: item 1: unknown key 'nmae' (did you mean 'name'?)"},
      {R"({"input": "a.ova", "name": "web", "netwroks": {}})",
       "usage: item 1 ('web'): unknown key 'netwroks' (did you mean "
       "'networks'?)"},
      {R"({"input": "a.ova", "id": "w", "name": "web", "extra": 1})",
       "usage: item 1 ('w'): unknown key 'extra'"},
      {R"({"name": "web"})",
       "usage: item 1 ('web'): 'input' is missing (the package to import)"},
      {R"({"input": ""})", "usage: item 1: 'input' must not be empty"},
      {R"({"input": 7})", "usage: item 1: 'input' must be a string"},
      {R"({"input": "-"})", "usage: item 1: 'input' cannot be stdin in a plan"},
      {R"({"input": "a.ova", "name": ""})",
       "usage: item 1: 'name' must not be empty"},
      {R"({"input": "a.ova", "id": 3})",
       "usage: item 1: 'id' must be a string"},
      {R"({"input": "a.ova", "kind": "copy"})",
       "usage: item 1: 'kind' is 'copy', not one of import, export"},
      {R"({"input": "a.ova", "connect": 1})",
       "usage: item 1: 'connect' must be a string"},
      {R"({"input": "a.ova", "pool": ""})",
       "usage: item 1: 'pool' must not be empty"},
      {R"({"input": "a.ova", "storage_dir": false})",
       "usage: item 1: 'storage_dir' must be a string"},
      {R"({"input": "a.ova", "disk_bus": "ide"})",
       "usage: item 1: 'disk_bus' is 'ide', not one of auto, keep, virtio, "
       "sata, scsi"},
      {R"({"input": "a.ova", "nic_model": "vmxnet3"})",
       "usage: item 1: 'nic_model' is 'vmxnet3', not one of keep, virtio, "
       "e1000"},
      {R"({"input": "a.ova", "virt_type": "xen"})",
       "usage: item 1: 'virt_type' is 'xen', not one of kvm, qemu"},
      {R"({"input": "a.ova", "start": "yes"})",
       "usage: item 1: 'start' must be true or false"},
      {R"({"input": "a.ova", "force": 1})",
       "usage: item 1: 'force' must be true or false"},
      {R"({"input": "a.ova", "verify": null})",
       "usage: item 1: 'verify' must be true or false"},
      {R"({"input": "a.ova", "threads": 65})",
       "usage: item 1: 'threads' must be an integer from 0 to 64"},
      {R"({"input": "a.ova", "threads": -1})",
       "usage: item 1: 'threads' must be an integer from 0 to 64"},
      {R"({"input": "a.ova", "threads": 1.5})",
       "usage: item 1: 'threads' must be an integer from 0 to 64"},
      {R"({"input": "a.ova", "vsys": -1})",
       "usage: item 1: 'vsys' must be an index (0, 1...), or a "
       "VirtualSystem's id or name"},
      {R"({"input": "a.ova", "vsys": ""})",
       "usage: item 1: 'vsys' must be an index (0, 1...), or a "
       "VirtualSystem's id or name"},
      {R"({"input": "a.ova", "networks": ["lan"]})",
       "usage: item 1: 'networks' must be an object"},
      {R"({"input": "a.ova", "networks": {"VM Network": ""}})",
       "usage: item 1: networks 'VM Network': empty value"},
      {R"({"input": "a.ova", "networks": {"VM Network": 3}})",
       "usage: item 1: networks 'VM Network': must be a string"},
      {R"({"input": "a.ova", "networks": {"": "lan"}})",
       "usage: item 1: networks: a name must not be empty"},
      {R"({"input": "a.ova", "networks": {"n": "bridge:"}})",
       "usage: item 1: networks 'n': 'bridge:' is not a network name, "
       "bridge:BR, user or none"},
      {R"({"input": "a.ova", "networks": {"n": "lan"}, "bridges": {"n": "br0"}})",
       "usage: item 1: network 'n' is mapped both in 'networks' and in "
       "'bridges'"},
      {R"({"input": "a.ova", "props": {"k": {"v": 1}}})",
       "usage: item 1: props 'k': must be a string, number or boolean"},
      {R"({"input": "a.ova", "props": "k=v"})",
       "usage: item 1: 'props' must be an object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.item);
    CHECK(ErrorOf(Items(c.item)) == c.error);
  }
  // Later items are counted from 1 too.
  CHECK(
      ErrorOf(Items(R"({"input": "a.ova"}, {"input": "b.ova", "pool": 1})")) ==
      "usage: item 2: 'pool' must be a string");
}

TEST_CASE("batch plan: export items, defaults merged, paths resolved") {
  auto plan = Parse(R"({
    "defaults": {"connect": "qemu:///system", "digest": "sha512",
                 "ovf_version": 2, "threads": 3, "pool": "vms",
                 "sign": "keys/k.pem", "cert": "keys/c.pem"},
    "items": [
      {"kind": "export", "domain": "web01", "output": "out/web01.ova"},
      {"kind": "export", "domain": "db", "ovf_dir": "/srv/db-ovf",
       "id": "db-dir", "ovf_version": 1, "digest": "sha1", "live": true,
       "download": true, "no_media": true, "threads": 0,
       "connect": "qemu+ssh://host2/system"},
      {"kind": "export", "domain": "my vm/1"},
      {"input": "out/web01.ova", "name": "web02"}
    ]
  })");
  REQUIRE_OK(plan);
  REQUIRE(plan->items.size() == 4);

  const BatchItem& web = plan->items[0];
  CHECK(web.kind == BatchItemKind::kExport);
  CHECK(web.key == "out/web01.ova");  // the output as written
  CHECK(web.connect == "qemu:///system");
  const ExportRequest& w = web.export_request;
  CHECK(w.domain == "web01");
  CHECK(w.output == "/plans/out/web01.ova");
  CHECK(w.ovf_dir.empty());
  CHECK(ExportOutputPath(w) == "/plans/out/web01.ova");
  CHECK(w.ovf_version == 2);
  CHECK(w.digest == DigestAlgorithm::kSha512);
  CHECK(w.sign_key == "/plans/keys/k.pem");
  CHECK(w.sign_cert == "/plans/keys/c.pem");
  CHECK(w.threads == 3);
  CHECK_FALSE(w.live);
  CHECK_FALSE(w.download);
  CHECK(w.policy.include_media);
  CHECK(w.progress == nullptr);

  const BatchItem& db = plan->items[1];
  CHECK(db.key == "db-dir");
  CHECK(db.connect == "qemu+ssh://host2/system");
  const ExportRequest& d = db.export_request;
  CHECK(d.domain == "db");
  CHECK(d.output.empty());
  CHECK(d.ovf_dir == "/srv/db-ovf");
  CHECK(ExportOutputPath(d) == "/srv/db-ovf");
  CHECK(d.ovf_version == 1);
  CHECK(d.digest == DigestAlgorithm::kSha1);
  CHECK(d.live);
  CHECK(d.download);
  CHECK_FALSE(d.policy.include_media);
  CHECK(d.threads == 0);

  // No output: DOMAIN.ova beside the plan, named as `ova2virt export`
  // names it; that name is the key.
  const BatchItem& odd = plan->items[2];
  CHECK(odd.export_request.output == "/plans/my_vm_1.ova");
  CHECK(odd.key == "my_vm_1.ova");

  // An import in the same plan keeps its own settings.
  const BatchItem& back = plan->items[3];
  CHECK(back.kind == BatchItemKind::kImport);
  CHECK(back.import.input == "/plans/out/web01.ova");
  CHECK(back.import.pool == "vms");
  CHECK(back.import.threads == 3);
}

TEST_CASE("batch plan: every wrong export item names the item and the key") {
  struct Case {
    const char* item;
    const char* error;
  };
  const Case cases[] = {
      {R"({"kind": "export"})",
       "usage: item 1: 'domain' is missing (the domain to export)"},
      {R"({"kind": "export", "domain": ""})",
       "usage: item 1: 'domain' must not be empty"},
      {R"({"kind": "export", "domain": ["web"]})",
       "usage: item 1: 'domain' must be a string"},
      {R"({"kind": "export", "domain": "web", "ovf_verison": 2})",
       "usage: item 1 ('web'): unknown key 'ovf_verison' (did you mean "
       "'ovf_version'?)"},
      {R"({"kind": "export", "domain": "web", "outptu": "w.ova"})",
       "usage: item 1 ('web'): unknown key 'outptu' (did you mean 'output'?)"},
      {R"({"kind": "export", "domain": "web", "pool": "vms"})",
       "usage: item 1 ('web'): key 'pool' belongs to import items"},
      {R"({"kind": "export", "domain": "web", "input": "w.ova"})",
       "usage: item 1 ('web'): key 'input' belongs to import items"},
      {R"({"kind": "export", "domain": "web", "name": "w"})",
       "usage: item 1 ('w'): key 'name' belongs to import items"},
      {R"({"input": "a.ova", "ovf_version": 2})",
       "usage: item 1: key 'ovf_version' belongs to export items"},
      {R"({"input": "a.ova", "domain": "web"})",
       "usage: item 1 ('web'): key 'domain' belongs to export items"},
      {R"({"kind": "export", "domain": "web", "output": "w.ova",
          "ovf_dir": "w"})",
       "usage: item 1 ('web'): give either 'output' (an .ova) or 'ovf_dir', "
       "not both"},
      {R"({"kind": "export", "domain": "web", "output": "w.ovf"})",
       "usage: item 1 ('web'): 'output' 'w.ovf' names an .ovf; for an ovf "
       "with its files beside it, use 'ovf_dir'"},
      {R"({"kind": "export", "domain": "web", "output": ""})",
       "usage: item 1 ('web'): 'output' must not be empty"},
      {R"({"kind": "export", "domain": "web", "ovf_dir": 1})",
       "usage: item 1 ('web'): 'ovf_dir' must be a string"},
      {R"({"kind": "export", "domain": "web", "ovf_version": 3})",
       "usage: item 1 ('web'): 'ovf_version' must be 1 or 2"},
      {R"({"kind": "export", "domain": "web", "ovf_version": "1"})",
       "usage: item 1 ('web'): 'ovf_version' must be 1 or 2"},
      {R"({"kind": "export", "domain": "web", "digest": "md5"})",
       "usage: item 1 ('web'): 'digest' is 'md5', not one of sha1, sha256, "
       "sha512"},
      {R"({"kind": "export", "domain": "web", "digest": "SHA256"})",
       "usage: item 1 ('web'): 'digest' is 'SHA256', not one of sha1, "
       "sha256, sha512"},
      {R"({"kind": "export", "domain": "web", "sign": "k.pem"})",
       "usage: item 1 ('web'): signing needs both 'sign' (the key) and "
       "'cert'"},
      {R"({"kind": "export", "domain": "web", "cert": "c.pem"})",
       "usage: item 1 ('web'): signing needs both 'sign' (the key) and "
       "'cert'"},
      {R"({"kind": "export", "domain": "web", "live": "yes"})",
       "usage: item 1 ('web'): 'live' must be true or false"},
      {R"({"kind": "export", "domain": "web", "download": 1})",
       "usage: item 1 ('web'): 'download' must be true or false"},
      {R"({"kind": "export", "domain": "web", "no_media": null})",
       "usage: item 1 ('web'): 'no_media' must be true or false"},
      {R"({"kind": "export", "domain": "web", "threads": 99})",
       "usage: item 1 ('web'): 'threads' must be an integer from 0 to 64"},
      {R"({"kind": "export", "domain": "web", "connect": false})",
       "usage: item 1 ('web'): 'connect' must be a string"},
      {R"({"kind": "export", "domain": "web", "id": ""})",
       "usage: item 1 ('web'): 'id' must not be empty"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.item);
    CHECK(ErrorOf(Items(c.item)) == c.error);
  }
  // The defaults take either kind's settings, checked as strictly.
  CHECK(ErrorOf(R"({"defaults": {"ovf_version": 5}, "items": []})") ==
        "usage: defaults: 'ovf_version' must be 1 or 2");
  CHECK(ErrorOf(R"({"defaults": {"domain": "web"}, "items": []})") ==
        "usage: defaults: key 'domain' belongs to an item, not to the "
        "defaults");
  CHECK(ErrorOf(R"({"defaults": {"output": "x.ova"}, "items": []})") ==
        "usage: defaults: key 'output' belongs to an item, not to the "
        "defaults");
  CHECK(ErrorOf(R"({"defaults": {"no_meda": true}, "items": []})") ==
        "usage: defaults: unknown key 'no_meda' (did you mean 'no_media'?)");
  // A key in the defaults that one of the items lacks its partner for.
  CHECK(ErrorOf(R"({"defaults": {"sign": "k.pem"},
                  "items": [{"kind": "export", "domain": "web"}]})") ==
        "usage: item 1 ('web'): signing needs both 'sign' (the key) and "
        "'cert'");
}

TEST_CASE("batch plan: two exports may not write one output") {
  CHECK(ErrorOf(Items(R"({"kind": "export", "domain": "a", "output": "x.ova"},
                         {"kind": "export", "domain": "b", "id": "b",
                          "output": "/plans/x.ova"})")) ==
        "usage: items 1 and 2 both export to '/plans/x.ova'");
  CHECK(ErrorOf(Items(R"({"kind": "export", "domain": "web"},
                         {"kind": "export", "domain": "web"})")) ==
        "usage: items 1 and 2 are both 'web.ova'; give them distinct "
        "\"id\"s");
  // One domain exported twice, to two outputs; an import of one of them.
  CHECK(ErrorOf(Items(R"({"kind": "export", "domain": "web"},
                         {"kind": "export", "domain": "web",
                          "ovf_dir": "web-ovf"},
                         {"input": "web.ova", "name": "web"})")) == "ok");
}

TEST_CASE("batch plan: items must be told apart") {
  CHECK(ErrorOf(Items(R"({"input": "a.ova", "name": "web"},
                         {"input": "b.ova", "name": "web"})")) ==
        "usage: items 1 and 2 are both 'web'; give them distinct \"id\"s");
  CHECK(ErrorOf(Items(R"({"input": "a.ova"}, {"input": "a.ova"})")) ==
        "usage: items 1 and 2 are both 'a.ova'; give them distinct \"id\"s");
  // Distinct ids, but one domain over one connection.
  CHECK(ErrorOf(Items(R"({"input": "a.ova", "name": "web", "id": "1"},
                         {"input": "b.ova", "name": "web", "id": "2"})")) ==
        "usage: items 1 and 2 both import domain 'web' over the same "
        "connection");
  // Over two connections: two hosts, two domains.
  CHECK(ErrorOf(Items(R"({"input": "a.ova", "name": "web", "id": "1"},
                         {"input": "a.ova", "name": "web", "id": "2",
                          "connect": "qemu+ssh://host2/system"})")) == "ok");
}

TEST_CASE("batch plan: the file") {
  TempDir dir;
  std::string path = dir.Join("plan.json");
  testing::WriteFileOrDie(path, Items(R"({"input": "a.ova"})"));
  auto plan = LoadBatchPlan(path, "");
  REQUIRE_OK(plan);
  CHECK(plan->items[0].import.input == dir.Join("a.ova"));

  testing::WriteFileOrDie(path, Items(R"({"input": "a.ova", "x": 1})"));
  auto bad = LoadBatchPlan(path, "");
  CHECK(bad.status().message() == path + ": item 1: unknown key 'x'");

  auto missing = LoadBatchPlan(dir.Join("none.json"), "");
  CHECK(missing.status().code() == ErrorCode::kNotFound);
  CHECK(missing.status().message().rfind(dir.Join("none.json"), 0) == 0);

  testing::WriteFileOrDie(path, std::string(kMaxPlanBytes + 1, ' '));
  auto huge = LoadBatchPlan(path, "");
  CHECK(huge.status().code() == ErrorCode::kUsage);
  CHECK(huge.status().message() == path + ": larger than 16 MiB: not a plan");
}

}  // namespace
}  // namespace ova2virt::cli
