// The pure host XML readers, on XML captured from libvirt 9.0 (Debian 12):
// the <host> part of `virsh capabilities` and `virsh pool-dumpxml`.
#include "virtdriver/host_xml.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// Captured from `virsh -c qemu:///embed?root=... capabilities` as root
// (the <cpu> and <topology> parts left out).
constexpr const char* kDebianCaps = R"(<capabilities>
  <host>
    <uuid>0b7ab1c2-6e3e-4a56-9b0c-2d3c3f5e7a10</uuid>
    <power_management/>
    <iommu support='no'/>
    <migration_features><live/></migration_features>
    <secmodel>
      <model>none</model>
      <doi>0</doi>
    </secmodel>
    <secmodel>
      <model>dac</model>
      <doi>0</doi>
      <baselabel type='kvm'>+64055:+64055</baselabel>
      <baselabel type='qemu'>+64055:+64055</baselabel>
    </secmodel>
  </host>
  <guest><os_type>hvm</os_type></guest>
</capabilities>)";

TEST_CASE("host xml: the dac base label is the emulator's uid and gid") {
  auto id = ParseDacBaseLabel(kDebianCaps, "qemu");
  REQUIRE(id.has_value());
  CHECK(id->uid == 64055);
  CHECK(id->gid == 64055);
}

TEST_CASE("host xml: the base label of the domain type is chosen") {
  std::string caps = R"(<capabilities><host>
    <secmodel><model>selinux</model><doi>0</doi>
      <baselabel type='kvm'>system_u:system_r:svirt_t:s0</baselabel>
    </secmodel>
    <secmodel><model>dac</model><doi>0</doi>
      <baselabel type='kvm'>+107:+107</baselabel>
      <baselabel type='qemu'>+0:+0</baselabel>
    </secmodel></host></capabilities>)";
  CHECK(ParseDacBaseLabel(caps, "kvm")->uid == 107);
  CHECK(ParseDacBaseLabel(caps, "qemu")->uid == 0);
  // An unknown type falls back to the first label.
  CHECK(ParseDacBaseLabel(caps, "xen")->gid == 107);
}

TEST_CASE("host xml: no dac model or an odd label is no identity") {
  // test:///default reports no security model at all.
  CHECK_FALSE(
      ParseDacBaseLabel("<capabilities><host><cpu/></host>"
                        "</capabilities>",
                        "qemu"));
  for (const char* label : {"64055:64055", "+qemu:+kvm", "+1:", "+:+1",
                            "+99999999999:+0", "+1+2", ""}) {
    CAPTURE(label);
    std::string caps = std::string(
                           "<capabilities><host><secmodel><model>dac</model>"
                           "<baselabel type='qemu'>") +
                       label + "</baselabel></secmodel></host></capabilities>";
    CHECK_FALSE(ParseDacBaseLabel(caps, "qemu"));
  }
  CHECK_FALSE(ParseDacBaseLabel("not xml", "qemu"));
}

TEST_CASE("host xml: a pool's type and target path") {
  // Captured from `virsh pool-dumpxml default` after virt-install made it.
  auto p = ParsePoolXml(R"(<pool type='dir'>
  <name>default</name>
  <uuid>5e1b3f0e-8f51-4c54-8d2a-7e0d5f8f2b11</uuid>
  <capacity unit='bytes'>105088212992</capacity>
  <allocation unit='bytes'>6521286656</allocation>
  <available unit='bytes'>98566926336</available>
  <source>
  </source>
  <target>
    <path>/var/lib/libvirt/images</path>
    <permissions>
      <mode>0711</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
</pool>)");
  REQUIRE_OK(p);
  CHECK(p->type == "dir");
  CHECK(p->target_path == "/var/lib/libvirt/images");
  auto rbd = ParsePoolXml(
      "<pool type='rbd'><name>ceph</name><source><name>rbd</name>"
      "</source></pool>");
  REQUIRE_OK(rbd);
  CHECK(rbd->type == "rbd");
  CHECK(rbd->target_path.empty());
  CHECK(ParsePoolXml("<volume/>").status().code() == ErrorCode::kCorrupt);
  CHECK(ParsePoolXml("<pool").status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("host xml: the default pool's directory for a connection uri") {
  const char* system = "/var/lib/libvirt/images";
  for (const char* uri :
       {"qemu:///system", "qemu+unix:///system?socket=/x/libvirt-sock",
        "qemu+ssh://root@host/system", "qemu+tls://host:16514/system/",
        "qemu+ssh://host/system?keyfile=/k&no_verify=1"}) {
    CAPTURE(uri);
    CHECK(DefaultPoolPath(uri, "/xdg", "/home/u") == system);
  }
  CHECK(DefaultPoolPath("qemu:///session", "/xdg", "/home/u") ==
        "/xdg/libvirt/images");
  CHECK(DefaultPoolPath("qemu:///session", "", "/home/u") ==
        "/home/u/.local/share/libvirt/images");
  // A relative XDG_DATA_HOME is ignored, as the XDG spec says.
  CHECK(DefaultPoolPath("qemu+unix:///session", "rel", "/home/u") ==
        "/home/u/.local/share/libvirt/images");
  CHECK_FALSE(DefaultPoolPath("qemu:///session", "", ""));
  // A remote session's home is not ours; other drivers have no such pool.
  CHECK_FALSE(DefaultPoolPath("qemu+ssh://host/session", "/x", "/h"));
  for (const char* uri :
       {"test:///default", "qemu:///embed?root=/r", "lxc:///system",
        "xen:///system", "qemu", "qemu://host", ""}) {
    CAPTURE(uri);
    CHECK_FALSE(DefaultPoolPath(uri, "/x", "/h"));
  }
}

}  // namespace
}  // namespace ova2virt
