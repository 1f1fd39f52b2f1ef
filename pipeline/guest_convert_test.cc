#include "pipeline/guest_convert.h"

#include <sys/stat.h>

#include <cstdlib>

#include "core/xml.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using testing::TempDir;

// A program standing in for virt-v2v-in-place: a shell script.
std::string Script(const TempDir& dir, const char* name, const char* body) {
  std::string path = dir.Join(name);
  testing::WriteFileOrDie(path, std::string("#!/bin/sh\n") + body);
  chmod(path.c_str(), 0755);
  return path;
}

TEST_CASE("guest conversion: the libvirt XML names each disk file on virtio") {
  std::string xml = GuestConversionXml(
      "db<1>", 2048, 2,
      {{"/pool/a.qcow2", "qcow2"}, {"/pool/it's.raw", "raw"}});
  CHECK(xml.find("<name>db&lt;1&gt;</name>") != std::string::npos);
  CHECK(xml.find("<memory unit=\"MiB\">2048</memory>") != std::string::npos);
  CHECK(xml.find("<vcpu>2</vcpu>") != std::string::npos);
  CHECK(xml.find("<driver name=\"qemu\" type=\"qcow2\"/>\n      <source "
                 "file=\"/pool/a.qcow2\"/>\n      <target dev=\"vda\" "
                 "bus=\"virtio\"/>") != std::string::npos);
  CHECK(xml.find("file=\"/pool/it's.raw\"/>\n      <target dev=\"vdb\"") !=
        std::string::npos);
  CHECK(ParseXml(xml).ok());
}

TEST_CASE("guest conversion: refused for volumes that are not local files") {
  Status s = CheckGuestConversion(false);
  CHECK(s.code() == ErrorCode::kUnsupported);
  CHECK(s.message().find("--storage-dir") != std::string::npos);
}

TEST_CASE("guest conversion: the tool from the environment, or none") {
  TempDir dir;
  std::string tool = Script(dir, "v2v", "exit 0\n");
  setenv("OVA2VIRT_VIRT_V2V_IN_PLACE", tool.c_str(), 1);
  auto found = FindVirtV2vInPlace();
  REQUIRE(found.ok());
  CHECK(*found == tool);
  setenv("OVA2VIRT_VIRT_V2V_IN_PLACE", dir.Join("missing").c_str(), 1);
  CHECK(FindVirtV2vInPlace().status().code() == ErrorCode::kNotFound);
  unsetenv("OVA2VIRT_VIRT_V2V_IN_PLACE");
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", dir.path().c_str(), 1);  // no virt-v2v-in-place there
  Status none = CheckGuestConversion(true);
  setenv("PATH", old_path.c_str(), 1);
  CHECK(none.code() == ErrorCode::kUnsupported);
  CHECK(none.message().find("virt-v2v package") != std::string::npos);
}

TEST_CASE("guest conversion: runs the tool on the XML, keeps its messages") {
  TempDir dir;
  std::string tool = Script(
      dir, "v2v",
      "[ \"$1 $2\" = '-i libvirtxml' ] || exit 9\n"
      "grep -q '<name>g</name>' \"$3\" || exit 8\n"
      "echo \"backend=$LIBGUESTFS_BACKEND $LIBGUESTFS_BACKEND_SETTINGS\"\n"
      "echo 'to stderr' >&2\n");
  unsetenv("LIBGUESTFS_BACKEND");
  unsetenv("LIBGUESTFS_BACKEND_SETTINGS");
  auto done = ConvertGuestInPlace(tool, GuestConversionXml("g", 1, 1, {}),
                                  dir.path(), /*force_tcg=*/true);
  REQUIRE_MESSAGE(done.ok(), done.status().message());
  CHECK(done->tool == tool);
  CHECK(done->messages == "backend=direct force_tcg\nto stderr\n");
  CHECK(done->seconds >= 0);
  // The XML file is gone afterwards.
  CHECK(dir.List() == std::vector<std::string>{"v2v"});
}

TEST_CASE("guest conversion: a failing tool is an error with its last line") {
  TempDir dir;
  std::string tool = Script(dir, "v2v",
                            "echo working\necho 'v2v: error: no root' >&2\n"
                            "echo 'If reporting bugs, ...'\nexit 3\n");
  auto done = ConvertGuestInPlace(tool, "<domain/>", dir.path());
  REQUIRE(!done.ok());
  CHECK(done.status().code() == ErrorCode::kFailed);
  CHECK(done.status().message().find("exited 3: v2v: error: no root") !=
        std::string::npos);
  std::string quiet = Script(dir, "v2v-quiet", "echo a\necho b\nexit 2\n");
  auto q = ConvertGuestInPlace(quiet, "<domain/>", dir.path());
  REQUIRE(!q.ok());
  CHECK(q.status().message().find("exited 2: a b") != std::string::npos);
  std::string killed = Script(dir, "v2v-killed", "kill -9 $$\n");
  auto died = ConvertGuestInPlace(killed, "<domain/>", dir.path());
  REQUIRE(!died.ok());
  CHECK(died.status().message().find("killed by signal 9") !=
        std::string::npos);
}

}  // namespace
}  // namespace ova2virt
