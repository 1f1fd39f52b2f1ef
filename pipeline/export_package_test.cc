#include "pipeline/export_package.h"

#include <filesystem>

#include "core/file.h"
#include "ova/ova_writer.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using testing::TempDir;

PackageLayout Layout() {
  PackageLayout l;
  l.descriptor = "vm.ovf";
  l.manifest = "vm.mf";
  l.descriptor_size = 64;
  l.manifest_size = MakeManifest({{"vm.ovf", std::string(64, '0')},
                                  {"vm-disk1.vmdk", std::string(64, '0')}},
                                 DigestAlgorithm::kSha256)
                        .size();
  return l;
}

// Writes one disk and the three texts; returns the manifest written.
std::string Fill(ExportPackage& p) {
  auto sink = p.BeginFile("vm-disk1.vmdk", 1 << 20);
  REQUIRE_OK(sink);
  REQUIRE_OK((*sink)->Write(AsBytes("disk bytes")));
  auto disk = p.EndFile();
  REQUIRE_OK(disk);
  CHECK(disk->role == "disk");
  CHECK(disk->size == 10);
  CHECK(disk->digest == DigestHex(DigestAlgorithm::kSha256, AsBytes("disk "
                                                                    "bytes")));
  auto desc = p.PutDescriptor("<Envelope/>\n");
  REQUIRE_OK(desc);
  std::string mf =
      MakeManifest({{desc->name, desc->digest}, {disk->name, disk->digest}},
                   DigestAlgorithm::kSha256);
  REQUIRE_OK(p.PutManifest(mf));
  return mf;
}

TEST_CASE("export package: an OVA with its first members filled in place") {
  TempDir dir;
  std::string path = dir.Join("vm.ova");
  auto p = ExportPackage::CreateOva(path, Layout());
  REQUIRE_OK(p);
  std::string mf = Fill(**p);
  // Nothing under the final name before the commit.
  CHECK(!std::filesystem::exists(path));
  REQUIRE_OK((*p)->Commit());
  auto files = (*p)->Files();
  REQUIRE(files.size() == 3);
  CHECK(files[0].name == "vm.ovf");
  CHECK(files[0].size == 64);  // padded to its reservation
  CHECK(files[1].name == "vm.mf");
  CHECK(files[2].name == "vm-disk1.vmdk");
  std::string ova = testing::ReadFileOrDie(path);
  CHECK(ova.size() == (*p)->Bytes());
  CHECK(ova.substr(files[0].offset, 64) ==
        "<Envelope/>\n" + std::string(51, ' ') + "\n");
  CHECK(ova.substr(files[1].offset, files[1].size) == mf);
  CHECK(files[0].digest == DigestHex(DigestAlgorithm::kSha256,
                                     AsBytes(ova.substr(files[0].offset, 64))));
}

TEST_CASE("export package: the same files in a new directory") {
  TempDir dir;
  std::string path = dir.Join("vm.dir");
  auto p = ExportPackage::CreateDirectory(path + "/", Layout());
  REQUIRE_OK(p);
  std::string mf = Fill(**p);
  CHECK(!std::filesystem::exists(path));
  REQUIRE_OK((*p)->Commit());
  CHECK(testing::ReadFileOrDie(path + "/vm.ovf") == "<Envelope/>\n");
  CHECK(testing::ReadFileOrDie(path + "/vm.mf") == mf);
  CHECK(testing::ReadFileOrDie(path + "/vm-disk1.vmdk") == "disk bytes");
  auto files = (*p)->Files();
  REQUIRE(files.size() == 3);
  CHECK(files[0].role == "descriptor");
  CHECK(files[2].role == "disk");
  CHECK(dir.List() == std::vector<std::string>{"vm.dir"});
}

TEST_CASE("export package: uncommitted, it leaves nothing") {
  TempDir dir;
  {
    auto p = ExportPackage::CreateOva(dir.Join("a.ova"), Layout());
    REQUIRE_OK(p);
    Fill(**p);
  }
  {
    auto p = ExportPackage::CreateDirectory(dir.Join("b"), Layout());
    REQUIRE_OK(p);
    Fill(**p);
  }
  CHECK(dir.List().empty());
}

TEST_CASE("export package: existing outputs and overlong texts are refused") {
  TempDir dir;
  testing::WriteFileOrDie(dir.Join("a.ova"), "keep");
  CHECK(ExportPackage::CreateOva(dir.Join("a.ova"), Layout()).status().code() ==
        ErrorCode::kExists);
  std::filesystem::create_directory(dir.Join("d"));
  CHECK(
      ExportPackage::CreateDirectory(dir.Join("d"), Layout()).status().code() ==
      ErrorCode::kExists);
  auto p = ExportPackage::CreateOva(dir.Join("b.ova"), Layout());
  REQUIRE_OK(p);
  CHECK((*p)->PutDescriptor(std::string(65, 'x')).status().code() ==
        ErrorCode::kFailed);
  CHECK((*p)->PutManifest("short").code() == ErrorCode::kFailed);
  CHECK((*p)->PutCertificate("x").code() == ErrorCode::kFailed);
}

TEST_CASE("export package: padding") {
  CHECK(PadWithBlanks("abc", 3) == "abc");
  CHECK(PadWithBlanks("abc", 4) == "abc\n");
  CHECK(PadWithBlanks("abc", 6) == "abc  \n");
  CHECK(!PadWithBlanks("abcd", 3).has_value());
}

}  // namespace
}  // namespace ova2virt
