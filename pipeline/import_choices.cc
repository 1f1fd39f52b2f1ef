#include "pipeline/import_choices.h"

#include "core/enum_names.h"

namespace ova2virt {
namespace {

// Table order is the order usage messages list the names in.
constexpr EnumNames<DiskBusChoice, 5> kDiskBusChoiceNames = {{
    {DiskBusChoice::kAuto, "auto"},
    {DiskBusChoice::kKeep, "keep"},
    {DiskBusChoice::kVirtio, "virtio"},
    {DiskBusChoice::kSata, "sata"},
    {DiskBusChoice::kScsi, "scsi"},
}};

constexpr EnumNames<NicModelChoice, 3> kNicModelChoiceNames = {{
    {NicModelChoice::kKeep, "keep"},
    {NicModelChoice::kVirtio, "virtio"},
    {NicModelChoice::kE1000, "e1000"},
}};

constexpr EnumNames<VirtType, 2> kVirtTypeNames = {{
    {VirtType::kKvm, "kvm"},
    {VirtType::kQemu, "qemu"},
}};

constexpr EnumNames<VolumeFormat, 2> kVolumeFormatNames = {{
    {VolumeFormat::kQcow2, "qcow2"},
    {VolumeFormat::kRaw, "raw"},
}};

}  // namespace

std::string_view ToString(DiskBusChoice v) {
  return NameOf(kDiskBusChoiceNames, v);
}
std::string_view ToString(NicModelChoice v) {
  return NameOf(kNicModelChoiceNames, v);
}
std::string_view ToString(VirtType v) { return NameOf(kVirtTypeNames, v); }
std::string_view ToString(VolumeFormat v) {
  return NameOf(kVolumeFormatNames, v);
}

std::optional<DiskBusChoice> ParseDiskBusChoice(std::string_view s) {
  return ValueOf(kDiskBusChoiceNames, s);
}
std::optional<NicModelChoice> ParseNicModelChoice(std::string_view s) {
  return ValueOf(kNicModelChoiceNames, s);
}
std::optional<VirtType> ParseVirtType(std::string_view s) {
  return ValueOf(kVirtTypeNames, s);
}
std::optional<VolumeFormat> ParseVolumeFormat(std::string_view s) {
  return ValueOf(kVolumeFormatNames, s);
}

std::vector<std::string> DiskBusChoiceNames() {
  return NamesOf(kDiskBusChoiceNames);
}
std::vector<std::string> NicModelChoiceNames() {
  return NamesOf(kNicModelChoiceNames);
}
std::vector<std::string> VirtTypeNames() { return NamesOf(kVirtTypeNames); }
std::vector<std::string> VolumeFormatNames() {
  return NamesOf(kVolumeFormatNames);
}

}  // namespace ova2virt
