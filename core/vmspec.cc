#include "core/vmspec.h"

#include "core/enum_names.h"

namespace ova2virt {
namespace {

constexpr EnumNames<Firmware, 3> kFirmwareNames = {{
    {Firmware::kUnknown, "unknown"},
    {Firmware::kBios, "bios"},
    {Firmware::kEfi, "efi"},
}};

constexpr EnumNames<ControllerKind, 6> kControllerKindNames = {{
    {ControllerKind::kIde, "ide"},
    {ControllerKind::kSata, "sata"},
    {ControllerKind::kScsi, "scsi"},
    {ControllerKind::kNvme, "nvme"},
    {ControllerKind::kVirtio, "virtio"},
    {ControllerKind::kOther, "other"},
}};

constexpr EnumNames<ControllerModel, 12> kControllerModelNames = {{
    {ControllerModel::kUnspecified, "unspecified"},
    {ControllerModel::kPiix3, "piix3"},
    {ControllerModel::kPiix4, "piix4"},
    {ControllerModel::kIch6, "ich6"},
    {ControllerModel::kAhci, "ahci"},
    {ControllerModel::kLsiLogic, "lsilogic"},
    {ControllerModel::kLsiLogicSas, "lsilogic-sas"},
    {ControllerModel::kBusLogic, "buslogic"},
    {ControllerModel::kPvscsi, "pvscsi"},
    {ControllerModel::kVirtioScsi, "virtio-scsi"},
    {ControllerModel::kNvme, "nvme"},
    {ControllerModel::kOther, "other"},
}};

constexpr EnumNames<DiskDevice, 3> kDiskDeviceNames = {{
    {DiskDevice::kDisk, "disk"},
    {DiskDevice::kCdrom, "cdrom"},
    {DiskDevice::kFloppy, "floppy"},
}};

constexpr EnumNames<ImageFormat, 11> kImageFormatNames = {{
    {ImageFormat::kUnknown, "unknown"},
    {ImageFormat::kVmdkStreamOptimized, "vmdk-streamoptimized"},
    {ImageFormat::kVmdkMonolithicSparse, "vmdk-monolithicsparse"},
    {ImageFormat::kVmdk, "vmdk"},
    {ImageFormat::kQcow2, "qcow2"},
    {ImageFormat::kRaw, "raw"},
    {ImageFormat::kIso, "iso"},
    {ImageFormat::kVhd, "vhd"},
    {ImageFormat::kVhdx, "vhdx"},
    {ImageFormat::kVdi, "vdi"},
    {ImageFormat::kOther, "other"},
}};

constexpr EnumNames<NicModel, 10> kNicModelNames = {{
    {NicModel::kUnspecified, "unspecified"},
    {NicModel::kE1000, "e1000"},
    {NicModel::kE1000e, "e1000e"},
    {NicModel::kVmxnet3, "vmxnet3"},
    {NicModel::kVmxnet2, "vmxnet2"},
    {NicModel::kVlance, "vlance"},
    {NicModel::kPcnet, "pcnet"},
    {NicModel::kVirtio, "virtio"},
    {NicModel::kRtl8139, "rtl8139"},
    {NicModel::kOther, "other"},
}};

}  // namespace

std::string Property::FullKey() const {
  std::string k;
  if (!class_id.empty()) k += class_id + ".";
  k += key;
  if (!instance_id.empty()) k += "." + instance_id;
  return k;
}

uint32_t VmSpec::Sockets() const {
  if (!vcpus || !cores_per_socket || *cores_per_socket == 0) return 1;
  uint32_t per_socket =
      *cores_per_socket * (threads_per_core ? *threads_per_core : 1);
  if (per_socket == 0 || *vcpus % per_socket != 0) return 1;
  return *vcpus / per_socket;
}

const Controller* VmSpec::FindController(std::string_view controller_id) const {
  for (const Controller& c : controllers) {
    if (c.id == controller_id) return &c;
  }
  return nullptr;
}

std::string_view ToString(Firmware v) { return NameOf(kFirmwareNames, v); }
std::string_view ToString(ControllerKind v) {
  return NameOf(kControllerKindNames, v);
}
std::string_view ToString(ControllerModel v) {
  return NameOf(kControllerModelNames, v);
}
std::string_view ToString(DiskDevice v) { return NameOf(kDiskDeviceNames, v); }
std::string_view ToString(ImageFormat v) {
  return NameOf(kImageFormatNames, v);
}
std::string_view ToString(NicModel v) { return NameOf(kNicModelNames, v); }

std::optional<Firmware> ParseFirmware(std::string_view s) {
  return ValueOf(kFirmwareNames, s);
}
std::optional<ControllerKind> ParseControllerKind(std::string_view s) {
  return ValueOf(kControllerKindNames, s);
}
std::optional<ControllerModel> ParseControllerModel(std::string_view s) {
  return ValueOf(kControllerModelNames, s);
}
std::optional<DiskDevice> ParseDiskDevice(std::string_view s) {
  return ValueOf(kDiskDeviceNames, s);
}
std::optional<ImageFormat> ParseImageFormat(std::string_view s) {
  return ValueOf(kImageFormatNames, s);
}
std::optional<NicModel> ParseNicModel(std::string_view s) {
  return ValueOf(kNicModelNames, s);
}

ControllerKind KindOfModel(ControllerModel model) {
  switch (model) {
    case ControllerModel::kPiix3:
    case ControllerModel::kPiix4:
    case ControllerModel::kIch6:
      return ControllerKind::kIde;
    case ControllerModel::kAhci:
      return ControllerKind::kSata;
    case ControllerModel::kLsiLogic:
    case ControllerModel::kLsiLogicSas:
    case ControllerModel::kBusLogic:
    case ControllerModel::kPvscsi:
    case ControllerModel::kVirtioScsi:
      return ControllerKind::kScsi;
    case ControllerModel::kNvme:
      return ControllerKind::kNvme;
    case ControllerModel::kUnspecified:
    case ControllerModel::kOther:
      return ControllerKind::kOther;
  }
  return ControllerKind::kOther;
}

}  // namespace ova2virt
