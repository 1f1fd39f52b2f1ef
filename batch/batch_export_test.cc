// Export items' pieces against real files and libvirt's test driver: the
// source identity (what changes it and what does not), recognising an
// output by its size and manifest, recording one, and the dry run.
#include "batch/batch_export.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>

#include "core/digest.h"
#include "tests/support/test_util.h"
#include "virtdriver/connection.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A shut-off (or running) test-driver domain with a UUID, so that its XML
// is the same on every connection, and the given <devices> content.
std::string TestDomain(std::string_view name, std::string_view uuid,
                       std::string_view devices, bool running = false,
                       int memory_mib = 256) {
  return "<domain type='test'><name>" + std::string(name) + "</name><uuid>" +
         std::string(uuid) + "</uuid><memory unit='MiB'>" +
         std::to_string(memory_mib) +
         "</memory><vcpu>1</vcpu><os><type arch='x86_64' "
         "machine='q35'>hvm</type></os><devices>" +
         std::string(devices) + "</devices>" +
         (running ? "" : "<test:runstate>5</test:runstate>") + "</domain>\n";
}

std::string FileDisk(const std::string& path, std::string_view dev,
                     std::string_view type = "raw") {
  return "<disk type='file' device='disk'><driver name='qemu' type='" +
         std::string(type) + "'/><source file='" + path + "'/><target dev='" +
         std::string(dev) + "' bus='sata'/></disk>";
}

std::string Cdrom(const std::string& path) {
  return "<disk type='file' device='cdrom'><driver name='qemu' "
         "type='raw'/><source file='" +
         path + "'/><target dev='sdb' bus='sata'/><readonly/></disk>";
}

// Writes node.xml in `dir` holding `domains`; returns its test:// URI.
std::string Node(const TempDir& dir, const std::string& domains,
                 const std::string& file = "node.xml") {
  testing::WriteFileOrDie(
      dir.Join(file),
      "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n" +
          domains + "</node>\n");
  return "test://" + dir.Join(file);
}

void SetMtime(const std::string& path, time_t seconds) {
  struct timeval times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(::utimes(path.c_str(), times) == 0);
}

std::unique_ptr<Connection> Open(const std::string& uri) {
  auto conn = Connection::Open(uri);
  REQUIRE_OK(conn);
  return std::move(conn).value();
}

const char* kUuid = "6f836600-c270-432c-b30d-ae92052c6f42";

TEST_CASE("batch export: the source identity follows the domain and images") {
  TempDir dir;
  std::string disk = dir.Join("os.raw"), iso = dir.Join("install.iso");
  testing::WriteFileOrDie(disk, std::string(4096, 'a'));
  testing::WriteFileOrDie(iso, std::string(2048, 'i'));
  SetMtime(disk, 1600000000);
  SetMtime(iso, 1600000000);
  const std::string devices = FileDisk(disk, "sda") + Cdrom(iso);
  std::string uri = Node(dir, TestDomain("web", kUuid, devices));
  ExportRequest r;
  r.domain = "web";
  r.output = dir.Join("web.ova");
  auto identify = [&](const std::string& u, const ExportRequest& req) {
    std::unique_ptr<Connection> conn = Open(u);
    return IdentifyExportSource(*conn, req);
  };

  auto first = identify(uri, r);
  REQUIRE_OK(first);
  CHECK(first->digest.size() == 64);
  CHECK(first->descriptor_sha256.size() == 64);
  CHECK(first->size == 4096 + 2048);
  CHECK(first->mtime_ns == int64_t{1600000000} * 1000000000);
  CHECK_FALSE(first->pinned_by_manifest);
  // The same domain and images, over another connection: the same.
  auto again = identify(uri, r);
  REQUIRE_OK(again);
  CHECK(again->digest == first->digest);
  // Where the output goes plays no part.
  ExportRequest elsewhere = r;
  elsewhere.output = "/elsewhere/web.ova";
  CHECK(identify(uri, elsewhere)->digest == first->digest);

  SUBCASE("a disk written to (its mtime) changes it") {
    SetMtime(disk, 1600000001);
    auto changed = identify(uri, r);
    REQUIRE_OK(changed);
    CHECK(changed->digest != first->digest);
    CHECK(changed->descriptor_sha256 == first->descriptor_sha256);
  }
  SUBCASE("a disk grown changes it") {
    testing::WriteFileOrDie(disk, std::string(8192, 'a'));
    SetMtime(disk, 1600000000);
    CHECK(identify(uri, r)->digest != first->digest);
  }
  SUBCASE("the media image counts unless media are left out") {
    SetMtime(iso, 1700000000);
    CHECK(identify(uri, r)->digest != first->digest);
    ExportRequest no_media = r;
    no_media.policy.include_media = false;
    auto a = identify(uri, no_media);
    REQUIRE_OK(a);
    SetMtime(iso, 1800000000);
    CHECK(identify(uri, no_media)->digest == a->digest);
    CHECK(a->size == 4096);
    // An image the export would not read need not even exist.
    fs::remove(iso);
    CHECK(identify(uri, no_media)->digest == a->digest);
    CHECK_FALSE(identify(uri, r).ok());
  }
  SUBCASE("the definition changed") {
    std::string edited =
        Node(dir, TestDomain("web", kUuid, devices, false, 512), "edited.xml");
    auto changed = identify(edited, r);
    REQUIRE_OK(changed);
    CHECK(changed->digest != first->digest);
    CHECK(changed->descriptor_sha256 != first->descriptor_sha256);
  }
  SUBCASE("the signing certificate counts") {
    ExportRequest signed_request = r;
    signed_request.sign_key = dir.Join("k.pem");
    signed_request.sign_cert = dir.Join("c.pem");
    testing::WriteFileOrDie(dir.Join("c.pem"), "certificate one");
    auto one = identify(uri, signed_request);
    REQUIRE_OK(one);
    CHECK(one->digest != first->digest);
    testing::WriteFileOrDie(dir.Join("c.pem"), "certificate two");
    CHECK(identify(uri, signed_request)->digest != one->digest);
    fs::remove(dir.Join("c.pem"));
    auto none = identify(uri, signed_request);
    CHECK(none.status().code() == ErrorCode::kNotFound);
  }
}

TEST_CASE("batch export: identity errors name the domain and the drive") {
  TempDir dir;
  std::string uri =
      Node(dir, TestDomain("lost", kUuid, FileDisk(dir.Join("no.raw"), "sda")) +
                    TestDomain("vdi", "6f836600-c270-432c-b30d-ae92052c6f43",
                               FileDisk(dir.Join("no.raw"), "sda", "vdi")));
  std::unique_ptr<Connection> conn = Open(uri);
  ExportRequest r;
  r.domain = "nosuch";
  auto unknown = IdentifyExportSource(*conn, r);
  CHECK(unknown.status().code() == ErrorCode::kNotFound);
  CHECK(unknown.status().message() == "domain 'nosuch': domain not found");

  r.domain = "lost";
  auto lost = IdentifyExportSource(*conn, r);
  CHECK(lost.status().code() == ErrorCode::kNotFound);
  CHECK(lost.status().message() ==
        "domain 'lost': disk 'sda': " + dir.Join("no.raw") +
            ": No such file or directory");

  r.domain = "vdi";
  auto vdi = IdentifyExportSource(*conn, r);
  CHECK(vdi.status().code() == ErrorCode::kUnsupported);
  CHECK(vdi.status().message() ==
        "domain 'vdi': disk 'sda': format 'vdi' cannot be exported (qcow2, "
        "raw or vmdk)");
}

TEST_CASE("batch export: an image no stamp follows runs every time") {
  // A device node keeps its mtime while its contents change.
  TempDir dir;
  std::string uri =
      Node(dir, TestDomain("dev", kUuid, FileDisk("/dev/zero", "sda")));
  std::unique_ptr<Connection> conn = Open(uri);
  ExportRequest r;
  r.domain = "dev";
  auto a = IdentifyExportSource(*conn, r);
  auto b = IdentifyExportSource(*conn, r);
  REQUIRE_OK(a);
  REQUIRE_OK(b);
  CHECK(a->digest != b->digest);
  CHECK(a->descriptor_sha256 == b->descriptor_sha256);
}

// A fake OVA: `size` bytes with "MANIFEST" text at offset 1536.
struct FakeOutput {
  std::string manifest = "SHA256(web.ovf)= 00\nSHA256(web-disk1.vmdk)= 11\n";
  RecordedOutput record;
};

FakeOutput WriteFakeOva(const std::string& path) {
  FakeOutput f;
  std::string bytes(1536, 'h');
  bytes += f.manifest;
  bytes += std::string(10240 - bytes.size(), 'd');
  testing::WriteFileOrDie(path, bytes);
  f.record.path = path;
  f.record.size = bytes.size();
  f.record.manifest = "web.mf";
  f.record.manifest_sha256 =
      DigestHex(DigestAlgorithm::kSha256, AsBytes(f.manifest));
  f.record.files = {{"web.ovf", 512, 512},
                    {"web.mf", 1536, f.manifest.size()},
                    {"web-disk1.vmdk", 3072, 4096}};
  return f;
}

TEST_CASE("batch export: an .ova is recognised by its size and manifest") {
  TempDir dir;
  std::string path = dir.Join("web.ova");
  FakeOutput f = WriteFakeOva(path);
  auto intact = [&](const std::string& p, const RecordedOutput& rec) {
    auto r = ExportOutputIntact(p, rec);
    REQUIRE_OK(r);
    return *r;
  };
  CHECK(intact(path, f.record));
  // Touched, or moved with the plan: still the package written.
  SetMtime(path, 1500000000);
  CHECK(intact(path, f.record));
  fs::rename(path, dir.Join("moved.ova"));
  CHECK_FALSE(intact(path, f.record));
  CHECK(intact(dir.Join("moved.ova"), f.record));
  fs::rename(dir.Join("moved.ova"), path);

  SUBCASE("another size") {
    std::string bytes = testing::ReadFileOrDie(path);
    testing::WriteFileOrDie(path, bytes + "x");
    CHECK_FALSE(intact(path, f.record));
  }
  SUBCASE("another manifest of the same size") {
    std::string bytes = testing::ReadFileOrDie(path);
    bytes[1536 + 17] ^= 1;
    testing::WriteFileOrDie(path, bytes);
    CHECK_FALSE(intact(path, f.record));
  }
  SUBCASE("a directory where the .ova was") {
    fs::remove(path);
    fs::create_directory(path);
    CHECK_FALSE(intact(path, f.record));
  }
  SUBCASE("records ova2virt does not write are not trusted") {
    RecordedOutput rec = f.record;
    rec.manifest = "other.mf";
    CHECK_FALSE(intact(path, rec));
    rec = f.record;
    rec.files[0].name = "../web.ovf";
    CHECK_FALSE(intact(path, rec));
    rec = f.record;
    rec.files[1].size = kMaxRecordedManifest + 1;
    CHECK_FALSE(intact(path, rec));
    rec = f.record;
    rec.files[1].offset = UINT64_MAX - 4;  // past the end, without overflow
    CHECK_FALSE(intact(path, rec));
    rec = f.record;
    rec.files.clear();
    CHECK_FALSE(intact(path, rec));
  }
  SUBCASE("an output that cannot be looked at is an error, not gone") {
    fs::create_directory(dir.Join("loop"));
    fs::create_symlink(dir.Join("loop/self"), dir.Join("loop/self"));
    auto r = ExportOutputIntact(dir.Join("loop/self"), f.record);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find(dir.Join("loop/self")) == 0);
  }
}

TEST_CASE("batch export: a directory is recognised by its files and manifest") {
  TempDir dir;
  std::string out = dir.Join("web-ovf");
  fs::create_directory(out);
  std::string manifest = "SHA256(web.ovf)= 00\n";
  testing::WriteFileOrDie(out + "/web.ovf", "<Envelope/>");
  testing::WriteFileOrDie(out + "/web.mf", manifest);
  testing::WriteFileOrDie(out + "/web-disk1.vmdk", std::string(1000, 'v'));
  RecordedOutput rec;
  rec.path = out;
  rec.directory = true;
  rec.size = 11 + manifest.size() + 1000;
  rec.manifest = "web.mf";
  rec.manifest_sha256 = DigestHex(DigestAlgorithm::kSha256, AsBytes(manifest));
  rec.files = {{"web.ovf", 0, 11},
               {"web.mf", 0, manifest.size()},
               {"web-disk1.vmdk", 0, 1000}};
  auto intact = [&]() {
    auto r = ExportOutputIntact(out, rec);
    REQUIRE_OK(r);
    return *r;
  };
  CHECK(intact());
  SUBCASE("a disk gone") {
    fs::remove(out + "/web-disk1.vmdk");
    CHECK_FALSE(intact());
  }
  SUBCASE("a disk of another size") {
    testing::WriteFileOrDie(out + "/web-disk1.vmdk", std::string(999, 'v'));
    CHECK_FALSE(intact());
  }
  SUBCASE("another manifest") {
    testing::WriteFileOrDie(out + "/web.mf", "SHA256(web.ovf)= 01\n");
    CHECK_FALSE(intact());
  }
  SUBCASE("a file where the directory was") {
    fs::remove_all(out);
    testing::WriteFileOrDie(out, "x");
    CHECK_FALSE(intact());
  }
}

TEST_CASE("batch export: recording an output reads its manifest back") {
  TempDir dir;
  FakeOutput f = WriteFakeOva(dir.Join("web.ova"));
  ExportReport report;
  report.output = dir.Join("web.ova");
  report.files = {{"web.ovf", "descriptor", 512, 512, "00"},
                  {"web.mf", "manifest", 1536, f.manifest.size(), ""},
                  {"web-disk1.vmdk", "disk", 3072, 4096, "11"}};
  auto rec = RecordExportOutput(report);
  REQUIRE_OK(rec);
  CHECK(rec->path == report.output);
  CHECK_FALSE(rec->directory);
  CHECK(rec->size == 10240);
  CHECK(rec->manifest == "web.mf");
  CHECK(rec->manifest_sha256 == f.record.manifest_sha256);
  REQUIRE(rec->files.size() == 3);
  CHECK(rec->files[2].name == "web-disk1.vmdk");
  CHECK(rec->files[2].offset == 3072);
  CHECK(rec->files[2].size == 4096);
  auto intact = ExportOutputIntact(report.output, *rec);
  REQUIRE_OK(intact);
  CHECK(*intact);

  ExportReport no_manifest = report;
  no_manifest.files.erase(no_manifest.files.begin() + 1);
  CHECK_FALSE(RecordExportOutput(no_manifest).ok());
  ExportReport gone = report;
  gone.output = dir.Join("gone.ova");
  CHECK(RecordExportOutput(gone).status().code() == ErrorCode::kNotFound);
}

TEST_CASE("batch export: a dry run checks and says what it would write") {
  TempDir dir;
  std::string disk = dir.Join("os.raw");
  testing::WriteFileOrDie(disk, std::string(4096, 'a'));
  std::string uri =
      Node(dir, TestDomain("web", kUuid, FileDisk(disk, "sda")) +
                    TestDomain("busy", "6f836600-c270-432c-b30d-ae92052c6f44",
                               FileDisk(disk, "sda"), /*running=*/true));
  std::unique_ptr<Connection> conn = Open(uri);
  ExportRequest r;
  r.domain = "web";
  r.output = dir.Join("web.ova");
  auto plan = PlanExport(*conn, r);
  REQUIRE_OK(plan);
  CHECK(*plan == "export domain 'web' to '" + dir.Join("web.ova") +
                     "' (ova, ovf 1, SHA256 manifest)\n  disk 'sda': " + disk +
                     " (raw, read in place)\n");

  testing::WriteFileOrDie(dir.Join("web.ova"), "taken");
  CHECK(PlanExport(*conn, r).status().code() == ErrorCode::kExists);
  fs::remove(dir.Join("web.ova"));

  ExportRequest busy = r;
  busy.domain = "busy";
  auto refused = PlanExport(*conn, busy);
  CHECK(refused.status().code() == ErrorCode::kFailed);
  CHECK(refused.status().message().find("\"live\": true") != std::string::npos);
  busy.live = true;
  CHECK_OK(PlanExport(*conn, busy));

  ExportRequest signing = r;
  signing.sign_key = dir.Join("k.pem");
  signing.sign_cert = dir.Join("c.pem");
  CHECK(PlanExport(*conn, signing).status().code() == ErrorCode::kNotFound);

  ExportRequest unknown = r;
  unknown.domain = "nosuch";
  CHECK(PlanExport(*conn, unknown).status().code() == ErrorCode::kNotFound);
  CHECK(dir.List() == std::vector<std::string>{"node.xml", "os.raw"});
}

}  // namespace
}  // namespace ova2virt
