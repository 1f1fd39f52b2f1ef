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

// Captured from `virsh vol-dumpxml` on a private libvirtd 9.0 (the
// integration harness's qemu:///system), a dir pool volume made by
// `vol-create-as ... --format qcow2`.
constexpr const char* kDaemonVolume = R"(<volume type='file'>
  <name>disk1.qcow2</name>
  <key>/tmp/ova2virt-it-br54VH/files/pool/disk1.qcow2</key>
  <capacity unit='bytes'>1048576</capacity>
  <allocation unit='bytes'>200704</allocation>
  <physical unit='bytes'>196616</physical>
  <target>
    <path>/tmp/ova2virt-it-br54VH/files/pool/disk1.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0600</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
    <timestamps>
      <atime>1796563592.740306150</atime>
      <mtime>1796563592.734782885</mtime>
      <ctime>1796563592.738782885</ctime>
      <btime>0</btime>
    </timestamps>
  </target>
</volume>)";

TEST_CASE("host xml: a volume's format and modification time") {
  auto v = ParseVolumeXml(kDaemonVolume);
  REQUIRE_OK(v);
  CHECK(v->format == "qcow2");
  REQUIRE(v->mtime_ns.has_value());
  CHECK(*v->mtime_ns == 1796563592734782885);
  // The test:/// driver's volumes have no timestamps (captured the same
  // way from test:///default).
  auto t = ParseVolumeXml(R"(<volume type='file'>
  <name>disk1.qcow2</name>
  <key>/tmp/strings-pool/disk1.qcow2</key>
  <capacity unit='bytes'>1048576</capacity>
  <allocation unit='bytes'>1048576</allocation>
  <target>
    <path>/tmp/strings-pool/disk1.qcow2</path>
    <format type='qcow2'/>
  </target>
</volume>)");
  REQUIRE_OK(t);
  CHECK(t->format == "qcow2");
  CHECK_FALSE(t->mtime_ns);
  auto bare = ParseVolumeXml("<volume><name>x</name></volume>");
  REQUIRE_OK(bare);
  CHECK(bare->format.empty());
  CHECK(ParseVolumeXml("<volume").status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("host xml: volume timestamps of other forms are no time") {
  auto mtime = [](const std::string& text) {
    auto v = ParseVolumeXml("<volume><target><timestamps><mtime>" + text +
                            "</mtime></timestamps></target></volume>");
    REQUIRE_OK(v);
    return v->mtime_ns;
  };
  CHECK(mtime("12") == int64_t{12000000000});
  CHECK(mtime("12.5") == int64_t{12500000000});
  CHECK(mtime("0.000000001") == int64_t{1});
  CHECK(mtime("999999999999999999") == std::nullopt);  // past int64 in ns
  for (const char* odd : {"", ".5", "12.", "12.0000000001", "-1", "1e9",
                          "12.5x", "1 2", "0x10"}) {
    CAPTURE(odd);
    CHECK_FALSE(mtime(odd));
  }
}

// Captured from `virsh -c qemu:///embed?root=DIR capabilities` (libvirt
// 9.0, QEMU 7.2, Debian 12): the i686 guest and most machine types left
// out; the x86_64 guest's list is in the order given.
constexpr const char* kEmbedCaps = R"(<capabilities>
  <host>
    <secmodel>
      <model>dac</model>
      <doi>0</doi>
      <baselabel type='kvm'>+64055:+64055</baselabel>
      <baselabel type='qemu'>+64055:+64055</baselabel>
    </secmodel>
  </host>

  <guest>
    <os_type>hvm</os_type>
    <arch name='i686'>
      <wordsize>32</wordsize>
      <emulator>/usr/bin/qemu-system-i386</emulator>
      <machine maxCpus='255'>pc-i440fx-7.2</machine>
      <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <domain type='qemu'/>
      <domain type='kvm'/>
    </arch>
  </guest>

  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <wordsize>64</wordsize>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <machine maxCpus='255'>pc-i440fx-7.2</machine>
      <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <machine maxCpus='288'>pc-q35-7.2</machine>
      <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
      <machine maxCpus='288'>microvm</machine>
      <domain type='qemu'/>
      <domain type='kvm'/>
    </arch>
    <features>
      <acpi default='on' toggle='yes'/>
      <apic default='on' toggle='no'/>
    </features>
  </guest>

</capabilities>)";

TEST_CASE("host xml: the machines and domain types of x86_64 hvm guests") {
  auto caps = ParseHostGuestCaps(kEmbedCaps);
  REQUIRE_OK(caps);
  CHECK(caps->kvm);
  CHECK(caps->qemu);
  CHECK(caps->machines ==
        std::vector<std::string>{"pc-i440fx-7.2", "pc", "pc-i440fx-7.2",
                                 "pc-q35-7.2", "q35", "pc-q35-7.2", "microvm"});
  // The same XML gives the emulator's identity.
  auto id = ParseDacBaseLabel(kEmbedCaps, "kvm");
  REQUIRE(id.has_value());
  CHECK(id->uid == 64055);
}

TEST_CASE("host xml: test:/// offers no x86_64 hvm guest") {
  // Captured from `virsh -c test:///default capabilities` (the <host>
  // part left out).
  auto caps = ParseHostGuestCaps(R"(<capabilities>
  <host><power_management/></host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='i686'>
      <wordsize>32</wordsize>
      <emulator>/usr/bin/test-hv</emulator>
      <domain type='test'/>
    </arch>
  </guest>
  <guest>
    <os_type>xen</os_type>
    <arch name='i686'>
      <wordsize>32</wordsize>
      <emulator>/usr/bin/test-hv</emulator>
      <domain type='test'/>
    </arch>
  </guest>
</capabilities>)");
  REQUIRE_OK(caps);
  CHECK_FALSE(caps->kvm);
  CHECK_FALSE(caps->qemu);
  CHECK(caps->machines.empty());
  // A TCG-only host, and a guest of another os type on x86_64.
  auto tcg = ParseHostGuestCaps(
      "<capabilities><guest><os_type>xen</os_type><arch name='x86_64'>"
      "<machine>xenfv</machine><domain type='xen'/></arch></guest>"
      "<guest><os_type>hvm</os_type><arch name='x86_64'>"
      "<machine>q35</machine><domain type='qemu'/></arch></guest>"
      "</capabilities>");
  REQUIRE_OK(tcg);
  CHECK_FALSE(tcg->kvm);
  CHECK(tcg->qemu);
  CHECK(tcg->machines == std::vector<std::string>{"q35"});
  CHECK(ParseHostGuestCaps("<capabilities>").status().code() ==
        ErrorCode::kCorrupt);
}

// Captured from `virsh -c qemu:///embed?root=DIR domcapabilities --arch
// x86_64 --machine q35 --virttype qemu` (libvirt 9.0, QEMU 7.2, OVMF):
// the <cpu> part and the devices after <disk> left out.
constexpr const char* kEmbedDomcaps = R"(<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>qemu</domain>
  <machine>pc-q35-7.2</machine>
  <arch>x86_64</arch>
  <vcpu max='288'/>
  <iothreads supported='yes'/>
  <os supported='yes'>
    <enum name='firmware'>
      <value>efi</value>
    </enum>
    <loader supported='yes'>
      <value>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</value>
      <value>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</value>
      <value>/usr/share/OVMF/OVMF_CODE_4M.fd</value>
      <enum name='type'>
        <value>rom</value>
        <value>pflash</value>
      </enum>
      <enum name='readonly'>
        <value>yes</value>
        <value>no</value>
      </enum>
      <enum name='secure'>
        <value>yes</value>
        <value>no</value>
      </enum>
    </loader>
  </os>
  <devices>
    <disk supported='yes'>
      <enum name='diskDevice'>
        <value>disk</value>
        <value>cdrom</value>
        <value>floppy</value>
        <value>lun</value>
      </enum>
      <enum name='bus'>
        <value>fdc</value>
        <value>scsi</value>
        <value>virtio</value>
        <value>usb</value>
        <value>sata</value>
      </enum>
      <enum name='model'>
        <value>virtio</value>
        <value>virtio-transitional</value>
        <value>virtio-non-transitional</value>
      </enum>
    </disk>
  </devices>
</domainCapabilities>)";

TEST_CASE("host xml: firmware, secure boot and disk buses of a q35 guest") {
  auto caps = ParseDomainCapsXml(kEmbedDomcaps);
  REQUIRE_OK(caps);
  CHECK(caps->efi);
  CHECK(caps->secure_boot);
  CHECK(caps->disk_buses ==
        std::vector<std::string>{"fdc", "scsi", "virtio", "usb", "sata"});
}

TEST_CASE("host xml: domain capabilities without efi or a disk") {
  // No OVMF: no firmware enum; a loader that cannot do secure boot.
  auto bios = ParseDomainCapsXml(
      "<domainCapabilities><os supported='yes'><enum name='firmware'/>"
      "<loader supported='yes'><enum name='secure'><value>no</value>"
      "</enum></loader></os></domainCapabilities>");
  REQUIRE_OK(bios);
  CHECK_FALSE(bios->efi);
  CHECK_FALSE(bios->secure_boot);
  CHECK(bios->disk_buses.empty());
  // "yes" under another enum is not secure boot; "efi" elsewhere is not
  // the firmware.
  auto other = ParseDomainCapsXml(
      "<domainCapabilities><os><enum name='type'><value>efi</value></enum>"
      "<loader><enum name='readonly'><value>yes</value></enum></loader>"
      "</os><devices><disk><enum name='model'><value>virtio</value></enum>"
      "</disk></devices></domainCapabilities>");
  REQUIRE_OK(other);
  CHECK_FALSE(other->efi);
  CHECK_FALSE(other->secure_boot);
  CHECK(other->disk_buses.empty());
  CHECK(ParseDomainCapsXml("").status().code() == ErrorCode::kCorrupt);
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
