// Packages as files on disk (.ovf beside its files, a directory, a .vmx),
// and telling inputs apart by their bytes.
#include <sys/stat.h>
#include <unistd.h>

#include "ova/package_reader.h"
#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::Appliance;
using testing::Message;
using testing::ReadOutcome;
using testing::ReadPackage;
using testing::TempDir;

// Writes the appliance's files into `dir` (with a manifest unless told not).
void WriteFiles(const TempDir& dir, const Appliance& app,
                bool manifest = true) {
  testing::WriteFileOrDie(dir.Join(app.ovf_name()), app.Descriptor());
  if (manifest) {
    testing::WriteFileOrDie(dir.Join(app.mf_name()),
                            app.Manifest(DigestAlgorithm::kSha256));
  }
  for (const auto& d : app.disks) {
    testing::WriteFileOrDie(dir.Join(d.first), d.second);
  }
}

std::vector<std::string> Names(const ReadOutcome& r) {
  std::vector<std::string> out;
  for (const MemberInfo& m : r.members) out.push_back(m.name);
  return out;
}

TEST_CASE("files: an .ovf with its files, and its directory") {
  TempDir dir;
  Appliance app;
  WriteFiles(dir, app);
  testing::WriteFileOrDie(dir.Join("unrelated.txt"), "not part of it");
  for (const std::string& input : {dir.Join("app.ovf"), dir.path()}) {
    INFO(input);
    ReadOutcome r = ReadPackage(input);
    REQUIRE_OK(r.status);
    CHECK(r.kind == (input == dir.path() ? InputKind::kOvfDirectory
                                         : InputKind::kOvfFile));
    CHECK(Names(r) == std::vector<std::string>{"app.ovf", "app.mf",
                                               "disk1.vmdk", "disk2.vmdk"});
    CHECK(r.members[2].offset == 0);
    CHECK(r.members[2].size == app.disks[0].second.size());
    CHECK(r.in_place);
    CHECK_OK(r.report->ToStatus());
    CHECK(r.report->files.size() == 3);
  }
}

TEST_CASE("files: a changed byte, a missing file, a file the manifest adds") {
  TempDir dir;
  Appliance app;
  WriteFiles(dir, app);
  testing::WriteFileOrDie(dir.Join("disk2.vmdk"), app.disks[1].second + "x");
  ReadOutcome r = ReadPackage(dir.Join("app.ovf"));
  REQUIRE_OK(r.status);
  CHECK(Message(r.report->ToStatus()) ==
        "file 'disk2.vmdk': SHA256 digest mismatch");
  ::unlink(dir.Join("disk2.vmdk").c_str());
  ReadOutcome missing = ReadPackage(dir.Join("app.ovf"));
  REQUIRE_OK(missing.status);
  CHECK(Message(missing.report->ToStatus()) ==
        "file 'disk2.vmdk' is listed in the manifest but missing");

  // A file listed in the manifest but not referenced is checked too.
  TempDir dir2;
  WriteFiles(dir2, app, false);
  testing::WriteFileOrDie(dir2.Join("readme.txt"), "hi");
  testing::WriteFileOrDie(
      dir2.Join("app.mf"),
      app.Manifest(DigestAlgorithm::kSha1) +
          FormatManifestLine(DigestAlgorithm::kSha1, "readme.txt",
                             DigestHex(DigestAlgorithm::kSha1, AsBytes("hi"))));
  ReadOutcome extra = ReadPackage(dir2.path());
  REQUIRE_OK(extra.status);
  CHECK_OK(extra.report->ToStatus());
  CHECK(Names(extra).back() == "readme.txt");
}

TEST_CASE("files: no manifest, no certificate: the referenced files") {
  TempDir dir;
  Appliance app;
  WriteFiles(dir, app, false);
  ReadOutcome r = ReadPackage(dir.Join("app.ovf"));
  REQUIRE_OK(r.status);
  CHECK_OK(r.report->ToStatus());
  CHECK(Names(r) ==
        std::vector<std::string>{"app.ovf", "disk1.vmdk", "disk2.vmdk"});
  CHECK(r.report->warnings.Has("manifest.none"));
}

TEST_CASE("files: hostile hrefs, links out of the package, fifos") {
  TempDir dir;
  Appliance app;
  app.extra_hrefs = {"../outside.vmdk"};
  WriteFiles(dir, app);
  ReadOutcome r = ReadPackage(dir.Join("app.ovf"));
  CHECK(Message(r.status) ==
        "href '../outside.vmdk' leaves the package: '..' component");

  TempDir dir2;
  Appliance linked;
  WriteFiles(dir2, linked);
  ::unlink(dir2.Join("disk1.vmdk").c_str());
  REQUIRE(::symlink("/etc/hostname", dir2.Join("disk1.vmdk").c_str()) == 0);
  ReadOutcome link = ReadPackage(dir2.path());
  CHECK(Message(link.status) ==
        "file 'disk1.vmdk': symbolic link leaves the package directory");
  // A link that stays inside is fine.
  ::unlink(dir2.Join("disk1.vmdk").c_str());
  testing::WriteFileOrDie(dir2.Join("store/real.vmdk"), linked.disks[0].second);
  REQUIRE(::symlink("store/real.vmdk", dir2.Join("disk1.vmdk").c_str()) == 0);
  CHECK_OK(ReadPackage(dir2.path()).report->ToStatus());
  // A fifo would block a reader forever.
  ::unlink(dir2.Join("disk2.vmdk").c_str());
  REQUIRE(::mkfifo(dir2.Join("disk2.vmdk").c_str(), 0600) == 0);
  ReadOutcome fifo = ReadPackage(dir2.path());
  CHECK(Message(fifo.status) == "file 'disk2.vmdk': not a regular file");
}

TEST_CASE("files: a .vmx and the files it is given") {
  TempDir dir;
  testing::WriteFileOrDie(dir.Join("vm.vmx"),
                          ".encoding = \"UTF-8\"\nscsi0:0.fileName = "
                          "\"vm.vmdk\"\n");
  testing::WriteFileOrDie(dir.Join("vm.vmdk"), "disk");
  auto reader = PackageReader::Open(dir.Join("vm.vmx"), {});
  REQUIRE_OK(reader);
  CHECK((*reader)->kind() == InputKind::kVmx);
  auto first = (*reader)->Next();
  REQUIRE_OK(first);
  CHECK((*first)->role == MemberRole::kDescriptor);
  CHECK((*reader)->descriptor()->find("scsi0:0.fileName") != std::string::npos);
  REQUIRE_OK((*reader)->ExpectFiles({"vm.vmdk"}));
  auto second = (*reader)->Next();
  REQUIRE_OK(second);
  CHECK((*second)->name == "vm.vmdk");
  auto end = (*reader)->Next();
  REQUIRE_OK(end);
  CHECK_FALSE(end->has_value());
  auto report = (*reader)->Finish({});
  REQUIRE_OK(report);
  CHECK_OK(report->ToStatus());
  // A directory with only a .vmx is a VMX package.
  auto by_dir = PackageReader::Open(dir.path(), {});
  REQUIRE_OK(by_dir);
  CHECK((*by_dir)->kind() == InputKind::kVmx);
}

TEST_CASE("files: inputs are told apart by their bytes") {
  TempDir dir;
  auto open = [&](const std::string& name, const std::string& bytes) {
    testing::WriteFileOrDie(dir.Join(name), bytes);
    return PackageReader::Open(dir.Join(name), {}).status();
  };
  CHECK(Message(open("empty.ova", "")) == "empty file");
  CHECK(Message(open("png.ova", "\x89PNG\r\n\x1a\n" + std::string(600, 'x'))) ==
        "not a tar archive");
  CHECK(Message(open("short.ova", "abc")) == "not a tar archive");
  CHECK(Message(open("notes.txt", "hello")) == "not an OVA, OVF or VMX file");
  Status xz = open("a.ova", std::string("\xfd"
                                        "7zXZ\0rest",
                                        10));
  CHECK(xz.code() == ErrorCode::kUnsupported);
  CHECK(Message(xz).find("xz -d") != std::string::npos);
  CHECK(open("a.ova", "BZh91AY").code() == ErrorCode::kUnsupported);
  CHECK(open("a.ova", "\x28\xb5\x2f\xfd....").code() ==
        ErrorCode::kUnsupported);
  CHECK(open("a.ova", "PK\x03\x04....").code() == ErrorCode::kUnsupported);
  // A tar named .ovf is a tar; XML named .ova is a descriptor.
  Appliance app;
  CHECK_OK(open("odd.ovf", app.Tar().Build()));
  CHECK_OK(open("odd.ova", app.Descriptor()));
  CHECK(PackageReader::Open(dir.Join("nope.ova"), {}).status().code() ==
        ErrorCode::kNotFound);
  // Directories: several descriptors, or none.
  TempDir two;
  testing::WriteFileOrDie(two.Join("a.ovf"), "<a/>");
  testing::WriteFileOrDie(two.Join("b.ovf"), "<b/>");
  Status several = PackageReader::Open(two.path(), {}).status();
  CHECK(several.code() == ErrorCode::kUsage);
  CHECK(Message(several).find("'a.ovf', 'b.ovf'") != std::string::npos);
  TempDir none;
  CHECK(PackageReader::Open(none.path(), {}).status().code() ==
        ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace ova2virt
