// The name tables of the import choices: every name reads back as itself,
// in the order usage messages list them, and nothing else reads.
#include "pipeline/import_choices.h"

#include <set>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// Every name parses to a distinct value whose name is that name again.
template <typename E>
void CheckRoundTrip(const std::vector<std::string>& names,
                    std::optional<E> (*parse)(std::string_view)) {
  std::set<E> seen;
  for (const std::string& name : names) {
    INFO(name);
    std::optional<E> v = parse(name);
    REQUIRE(v.has_value());
    CHECK(ToString(*v) == name);
    CHECK(seen.insert(*v).second);
  }
}

TEST_CASE("import choices: names round trip, in the order messages use") {
  CHECK(DiskBusChoiceNames() ==
        std::vector<std::string>{"auto", "keep", "virtio", "sata", "scsi"});
  CheckRoundTrip(DiskBusChoiceNames(), ParseDiskBusChoice);
  CHECK(NicModelChoiceNames() ==
        std::vector<std::string>{"keep", "virtio", "e1000"});
  CheckRoundTrip(NicModelChoiceNames(), ParseNicModelChoice);
  CHECK(VirtTypeNames() == std::vector<std::string>{"kvm", "qemu"});
  CheckRoundTrip(VirtTypeNames(), ParseVirtType);
  CHECK(VolumeFormatNames() == std::vector<std::string>{"qcow2", "raw"});
  CheckRoundTrip(VolumeFormatNames(), ParseVolumeFormat);
}

TEST_CASE("import choices: the defaults are the documented ones") {
  CHECK(ToString(DiskBusChoice{}) == "auto");
  CHECK(ToString(NicModelChoice{}) == "keep");
  CHECK(ToString(VolumeFormat{}) == "qcow2");
}

TEST_CASE("import choices: other text names nothing") {
  // Buses and models a machine may have, but no choice of ours.
  for (const char* s :
       {"ide", "nvme", "floppy", "", "SATA", " sata", "sata "}) {
    INFO(s);
    CHECK(!ParseDiskBusChoice(s));
  }
  for (const char* s : {"vmxnet3", "e1000e", "rtl8139", "", "Virtio"}) {
    INFO(s);
    CHECK(!ParseNicModelChoice(s));
  }
  for (const char* s : {"xen", "hvf", "tcg", "", "KVM"}) {
    INFO(s);
    CHECK(!ParseVirtType(s));
  }
  for (const char* s : {"vmdk", "qcow", "img", "", "QCOW2"}) {
    INFO(s);
    CHECK(!ParseVolumeFormat(s));
  }
}

}  // namespace
}  // namespace ova2virt
