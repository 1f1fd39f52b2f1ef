#include "virtdriver/domain_names.h"

#include <array>
#include <utility>

#include "core/strings.h"

namespace ova2virt::domain_names {
namespace {

constexpr std::array<std::pair<ControllerModel, std::string_view>, 4>
    kScsiModels = {{
        {ControllerModel::kLsiLogic, "lsilogic"},
        {ControllerModel::kLsiLogicSas, "lsisas1068"},
        {ControllerModel::kPvscsi, "vmpvscsi"},
        {ControllerModel::kVirtioScsi, "virtio-scsi"},
    }};

constexpr std::array<std::pair<NicModel, std::string_view>, 6> kNicModels = {{
    {NicModel::kE1000, "e1000"},
    {NicModel::kE1000e, "e1000e"},
    {NicModel::kVmxnet3, "vmxnet3"},
    {NicModel::kVirtio, "virtio"},
    {NicModel::kRtl8139, "rtl8139"},
    {NicModel::kPcnet, "pcnet"},
}};

constexpr std::array<std::pair<ImageFormat, std::string_view>, 6> kDriverTypes =
    {{
        {ImageFormat::kQcow2, "qcow2"},
        {ImageFormat::kRaw, "raw"},
        {ImageFormat::kVmdk, "vmdk"},
        {ImageFormat::kVhd, "vpc"},
        {ImageFormat::kVhdx, "vhdx"},
        {ImageFormat::kVdi, "vdi"},
    }};

// libvirt model names accepted as they are.
constexpr std::array<std::string_view, 13> kLibvirtUsb = {
    "piix3-uhci", "piix4-uhci", "ehci",          "ich9-ehci1", "ich9-uhci1",
    "ich9-uhci2", "ich9-uhci3", "pci-ohci",      "nec-xhci",   "qemu-xhci",
    "qusb1",      "qusb2",      "vt82c686b-uhci"};
constexpr std::array<std::string_view, 7> kLibvirtSound = {
    "es1370", "sb16", "ac97", "ich6", "ich7", "ich9", "usb"};
constexpr std::array<std::string_view, 7> kLibvirtVideo = {
    "vga", "cirrus", "vmvga", "qxl", "virtio", "bochs", "ramfb"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& a, std::string_view s) {
  for (std::string_view x : a) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string_view> ScsiModelName(ControllerModel model) {
  if (model == ControllerModel::kUnspecified) return std::string_view();
  for (const auto& [m, name] : kScsiModels) {
    if (m == model) return name;
  }
  return std::nullopt;
}

ControllerModel ScsiModelFromName(std::string_view name) {
  if (name.empty()) return ControllerModel::kUnspecified;
  for (const auto& [m, n] : kScsiModels) {
    if (n == name) return m;
  }
  if (name == "buslogic") return ControllerModel::kBusLogic;
  return ControllerModel::kOther;
}

std::optional<std::string_view> NicModelName(NicModel model) {
  if (model == NicModel::kUnspecified) return std::string_view();
  for (const auto& [m, name] : kNicModels) {
    if (m == model) return name;
  }
  return std::nullopt;
}

NicModel NicModelFromName(std::string_view name) {
  if (name.empty()) return NicModel::kUnspecified;
  for (const auto& [m, n] : kNicModels) {
    if (n == name) return m;
  }
  return NicModel::kOther;
}

std::string_view DriverTypeName(ImageFormat format) {
  for (const auto& [f, name] : kDriverTypes) {
    if (f == format) return name;
  }
  return "";
}

ImageFormat ImageFormatFromDriverType(std::string_view type) {
  if (type.empty()) return ImageFormat::kUnknown;
  for (const auto& [f, n] : kDriverTypes) {
    if (n == type) return f;
  }
  return ImageFormat::kOther;
}

MappedName UsbModel(std::string_view source) {
  std::string s = Lower(source);
  if (Contains(kLibvirtUsb, s)) return {s, true};
  if (s == "uhci" || s == "usb1" || s == "usb 1.1") return {"piix3-uhci", true};
  if (s == "ohci") return {"pci-ohci", true};
  if (s == "ehci" || s == "usb2" || s == "usb 2.0") return {"ehci", true};
  if (s == "xhci" || s == "usb3" || s == "usb 3.0" || s == "vmusb3") {
    return {"qemu-xhci", true};
  }
  return {"qemu-xhci", false};
}

MappedName SoundModel(std::string_view source, bool q35) {
  std::string s = Lower(source);
  std::string hda = q35 ? "ich9" : "ich6";
  if (Contains(kLibvirtSound, s)) return {s, true};
  if (s == "hda" || s == "hdaudio" || s == "intel-hda") return {hda, true};
  // VMware's default is an Ensoniq ES1371; QEMU emulates its sibling, the
  // ES1370, which the same guest drivers (snd-ens1370/1371) do not share.
  if (s == "ensoniq1371" || s == "es1371") return {"es1370", false};
  if (s == "sb16" || s == "soundblaster16") return {"sb16", true};
  return {hda, false};
}

MappedName VideoModel(std::string_view source) {
  std::string s = Lower(source);
  if (Contains(kLibvirtVideo, s)) return {s, true};
  if (s == "vmsvga" || s == "svga" || s == "vmware") return {"vmvga", true};
  if (s == "vboxvga" || s == "vboxsvga" || s == "std") return {"vga", false};
  return {"vga", false};
}

bool IsPlainToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string WritableText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' ||
        c == '\r') {
      out += c;
    }
  }
  return out;
}

}  // namespace ova2virt::domain_names
