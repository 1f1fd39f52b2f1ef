#include "ovf/ovf_write_items.h"

#include <set>

#include "ovf/ovf_format.h"

namespace ova2virt::ovf {
namespace {

// One RASD item. std::map keeps the fields sorted by name, which is the
// order the CIM schemas require (their elements are alphabetical).
struct Item {
  std::map<std::string, std::string> fields;
  KeyValues vmw_config;
  std::string cores_per_socket;
  bool required = true;
};

}  // namespace

std::string_view ControllerSubtype(const Controller& c) {
  if (!c.raw_model.empty()) {
    auto m = ControllerModelFromSubtype(c.raw_model);
    if (c.model == ControllerModel::kOther || (m && *m == c.model)) {
      return c.raw_model;
    }
  }
  switch (c.model) {
    case ControllerModel::kPiix3:
      return "PIIX3";
    case ControllerModel::kPiix4:
      return "PIIX4";
    case ControllerModel::kIch6:
      return "ICH6";
    case ControllerModel::kAhci:
      return "vmware.sata.ahci";
    case ControllerModel::kLsiLogic:
      return "lsilogic";
    case ControllerModel::kLsiLogicSas:
      return "lsilogicsas";
    case ControllerModel::kBusLogic:
      return "buslogic";
    case ControllerModel::kPvscsi:
      return "VirtualSCSI";
    case ControllerModel::kVirtioScsi:
      return "virtio";
    case ControllerModel::kNvme:
      return "vmware.nvme.controller";
    case ControllerModel::kUnspecified:
    case ControllerModel::kOther:
      break;
  }
  // A SATA or NVMe controller is only known as one by its subtype.
  if (c.kind == ControllerKind::kSata) return "vmware.sata.ahci";
  if (c.kind == ControllerKind::kNvme) return "vmware.nvme.controller";
  return {};
}

std::string_view NicSubtype(const Nic& n) {
  if (!n.raw_model.empty()) {
    auto m = NicModelFromSubtype(n.raw_model);
    if (n.model == NicModel::kOther || (m && *m == n.model)) return n.raw_model;
  }
  switch (n.model) {
    case NicModel::kE1000:
      return "E1000";
    case NicModel::kE1000e:
      return "E1000e";
    case NicModel::kVmxnet3:
      return "VmxNet3";
    case NicModel::kVmxnet2:
      return "VmxNet2";
    case NicModel::kVlance:
      return "vlance";
    case NicModel::kPcnet:
      return "PCNet32";
    case NicModel::kVirtio:
      return "virtio";
    case NicModel::kRtl8139:
      return "rtl8139";
    case NicModel::kUnspecified:
    case NicModel::kOther:
      return {};
  }
  return {};
}

namespace {

class HardwareWriter {
 public:
  HardwareWriter(const VmSpec& vm, const VmPlan& plan, Diagnostics* diag)
      : vm_(vm), plan_(plan), diag_(diag) {}

  void Write(XmlWriter& w) {
    w.Open("VirtualHardwareSection");
    if (!vm_.environment_transport.empty()) {
      w.Attr("ovf:transport", vm_.environment_transport);
    }
    w.Leaf("Info", "Virtual hardware requirements");
    w.Open("System")
        .Leaf("vssd:ElementName", "Virtual Hardware Family")
        .Leaf("vssd:InstanceID", "0")
        .Leaf("vssd:VirtualSystemIdentifier",
              vm_.name.empty() ? vm_.id : vm_.name)
        .Leaf("vssd:VirtualSystemType", vm_.system_type)
        .Close();
    Cpu();
    Memory();
    for (const Controller& c : vm_.controllers) ControllerItem(c);
    for (const Disk& d : vm_.disks) DiskItem(d);
    for (const Nic& n : vm_.nics) NicItem(n);
    for (const SerialPort& s : vm_.serial_ports) SerialItem(s);
    for (const UsbController& u : vm_.usb_controllers) UsbItem(u);
    for (const SoundCard& s : vm_.sound_cards) SoundItem(s);
    if (vm_.video) VideoItem(*vm_.video);
    if (vm_.tpm) TpmItem();
    for (const Item& i : items_) Emit(i, w);
    VmwConfig(w);
    w.Close();
  }

 private:
  std::string NextId() {
    // Numbers for items the model gives no id (CPU, memory, USB...), never
    // clashing with ids the model's devices keep.
    for (;;) {
      std::string id = std::to_string(++counter_);
      if (!Taken(id)) return id;
    }
  }
  bool Taken(const std::string& id) {
    if (taken_.empty()) {
      for (const Controller& c : vm_.controllers) taken_.insert(c.id);
      for (const Disk& d : vm_.disks) taken_.insert(d.id);
      for (const Nic& n : vm_.nics) taken_.insert(n.id);
      taken_.insert("");  // marks the set as built
    }
    return taken_.count(id) != 0;
  }

  void Cpu() {
    if (!vm_.vcpus) return;
    Item i;
    i.fields["AllocationUnits"] = "hertz * 10^6";
    i.fields["Description"] = "Number of Virtual CPUs";
    i.fields["ElementName"] = std::to_string(*vm_.vcpus) + " virtual CPU(s)";
    i.fields["InstanceID"] = NextId();
    i.fields["ResourceType"] = std::to_string(kRtProcessor);
    i.fields["VirtualQuantity"] = std::to_string(*vm_.vcpus);
    if (vm_.cores_per_socket) {
      i.cores_per_socket = std::to_string(*vm_.cores_per_socket);
    }
    if (vm_.threads_per_core && *vm_.threads_per_core > 1 && diag_) {
      diag_->Warn("ovf.threads-not-written", "virtual system " + Quote(vm_.id),
                  std::to_string(*vm_.threads_per_core) +
                      " threads per core cannot be said in OVF; written as "
                      "cores");
    }
    items_.push_back(std::move(i));
  }

  void Memory() {
    if (!vm_.memory_bytes) return;
    Item i;
    uint64_t bytes = *vm_.memory_bytes;
    bool mib = bytes % (1ull << 20) == 0;
    i.fields["AllocationUnits"] = mib ? "byte * 2^20" : "byte";
    i.fields["Description"] = "Memory Size";
    i.fields["ElementName"] = mib ? std::to_string(bytes >> 20) + "MB of memory"
                                  : std::to_string(bytes) + " bytes of memory";
    i.fields["InstanceID"] = NextId();
    i.fields["ResourceType"] = std::to_string(kRtMemory);
    i.fields["VirtualQuantity"] = std::to_string(mib ? bytes >> 20 : bytes);
    items_.push_back(std::move(i));
  }

  void ControllerItem(const Controller& c) {
    Item i;
    int type = 0;
    std::string name;
    switch (c.kind) {
      case ControllerKind::kIde:
        type = kRtIdeController;
        name = "IDE Controller";
        break;
      case ControllerKind::kScsi:
        type = kRtScsiController;
        name = "SCSI Controller";
        break;
      case ControllerKind::kSata:
        type = kRtOtherStorage;
        name = "SATA Controller";
        break;
      case ControllerKind::kNvme:
        type = kRtOtherStorage;
        name = "NVMe Controller";
        break;
      case ControllerKind::kVirtio:
      case ControllerKind::kOther:
        if (diag_) {
          diag_->Warn("ovf.controller-not-written", "controller " + Quote(c.id),
                      std::string(ToString(c.kind)) +
                          " controllers have no OVF form; its disks are "
                          "written without a parent");
        }
        return;
    }
    std::string_view sub = ControllerSubtype(c);
    if (sub.empty() && c.kind == ControllerKind::kSata)
      sub = "vmware.sata.ahci";
    if (sub.empty() && c.kind == ControllerKind::kNvme) {
      sub = "vmware.nvme.controller";
    }
    i.fields["Address"] = std::to_string(c.bus);
    i.fields["Description"] = name;
    i.fields["ElementName"] = name + " " + std::to_string(c.bus);
    i.fields["InstanceID"] = c.id;
    if (!sub.empty()) i.fields["ResourceSubType"] = std::string(sub);
    i.fields["ResourceType"] = std::to_string(type);
    written_controllers_.insert(c.id);
    items_.push_back(std::move(i));
  }

  void DiskItem(const Disk& d) {
    auto disk_id = plan_.disk_ids.find(d.id);
    // A parent image with no controller is only a DiskSection entry.
    if (d.controller_id.empty() && disk_id != plan_.disk_ids.end()) {
      for (const Disk& other : vm_.disks) {
        if (other.parent_id == d.id) return;
      }
    }
    Item i;
    int type = d.device == DiskDevice::kCdrom    ? kRtCdrom
               : d.device == DiskDevice::kFloppy ? kRtFloppy
                                                 : kRtDisk;
    i.required = d.device == DiskDevice::kDisk;
    if (d.unit) i.fields["AddressOnParent"] = std::to_string(*d.unit);
    i.fields["ElementName"] = !d.label.empty()                  ? d.label
                              : d.device == DiskDevice::kCdrom  ? "CD/DVD drive"
                              : d.device == DiskDevice::kFloppy ? "Floppy drive"
                                                                : "Hard disk";
    if (disk_id != plan_.disk_ids.end()) {
      i.fields["HostResource"] = "ovf:/disk/" + disk_id->second;
    } else if (auto f = plan_.file_ids.find(d.id); f != plan_.file_ids.end()) {
      i.fields["HostResource"] = "ovf:/file/" + f->second;
    } else if (d.device == DiskDevice::kDisk && d.capacity) {
      // A blank disk with no image: sized by the item itself.
      i.fields["AllocationUnits"] = "byte";
      i.fields["VirtualQuantity"] = std::to_string(*d.capacity);
    }
    if (d.device != DiskDevice::kDisk)
      i.fields["AutomaticAllocation"] = "false";
    i.fields["InstanceID"] = d.id;
    if (!d.controller_id.empty() &&
        written_controllers_.count(d.controller_id) != 0) {
      i.fields["Parent"] = d.controller_id;
    }
    i.fields["ResourceType"] = std::to_string(type);
    items_.push_back(std::move(i));
  }

  void NicItem(const Nic& n) {
    Item i;
    std::string_view sub = NicSubtype(n);
    if (!n.mac.empty()) i.fields["Address"] = n.mac;
    i.fields["AutomaticAllocation"] = n.connected ? "true" : "false";
    if (!n.network.empty()) i.fields["Connection"] = n.network;
    std::string sub_s(sub);
    i.fields["Description"] =
        (sub_s.empty() ? std::string("Ethernet") : sub_s) +
        " ethernet adapter" +
        (n.network.empty() ? std::string() : " on \"" + n.network + "\"");
    i.fields["ElementName"] = n.label.empty() ? "Network adapter" : n.label;
    i.fields["InstanceID"] = n.id;
    if (!sub.empty()) i.fields["ResourceSubType"] = sub_s;
    i.fields["ResourceType"] = std::to_string(kRtEthernet);
    items_.push_back(std::move(i));
  }

  void SerialItem(const SerialPort& s) {
    Item i;
    i.required = false;
    i.fields["ElementName"] = "Serial port " + std::to_string(s.index + 1);
    if (!s.target.empty()) i.fields["HostResource"] = s.target;
    i.fields["InstanceID"] = NextId();
    std::string type = s.type == "network" ? "uri" : s.type;
    if (!type.empty()) {
      bool vmware =
          type == "uri" || type == "device" || type == "pipe" || type == "file";
      i.fields["ResourceSubType"] = vmware ? "vmware.serialport." + type : type;
    }
    i.fields["ResourceType"] = std::to_string(kRtSerial);
    items_.push_back(std::move(i));
  }

  void UsbItem(const UsbController& u) {
    Item i;
    i.required = false;
    i.fields["ElementName"] = "USB controller";
    i.fields["InstanceID"] = NextId();
    if (u.model == "ehci" || u.model == "xhci" || u.model == "uhci") {
      i.fields["ResourceSubType"] = "vmware.usb." + u.model;
    } else if (!u.model.empty()) {
      i.fields["ResourceSubType"] = u.model;
    }
    i.fields["ResourceType"] = std::to_string(kRtUsb);
    items_.push_back(std::move(i));
  }

  void SoundItem(const SoundCard& s) {
    Item i;
    i.required = false;
    i.fields["ElementName"] = "Sound card";
    i.fields["InstanceID"] = NextId();
    // VMware's own form: an "other" device with its soundcard subtype.
    std::string vmw = s.model == "hda" ? "hdaudio" : s.model;
    if (vmw == "hdaudio" || vmw == "ensoniq1371" || vmw == "sb16") {
      i.fields["ResourceSubType"] = "vmware.soundcard." + vmw;
      i.fields["ResourceType"] = std::to_string(kRtOther);
    } else {
      if (!s.model.empty()) i.fields["ResourceSubType"] = s.model;
      i.fields["ResourceType"] = std::to_string(kRtSound);
    }
    items_.push_back(std::move(i));
  }

  void VideoItem(const Video& v) {
    Item i;
    i.required = false;
    i.fields["ElementName"] = "Video card";
    i.fields["InstanceID"] = NextId();
    if (!v.model.empty()) i.fields["ResourceSubType"] = v.model;
    i.fields["ResourceType"] = std::to_string(kRtGraphics);
    i.vmw_config.emplace_back("enable3DSupport", v.accel3d ? "true" : "false");
    if (v.vram_bytes) {
      i.vmw_config.emplace_back("videoRamSizeInKB",
                                std::to_string(*v.vram_bytes / 1024));
    }
    if (v.heads)
      i.vmw_config.emplace_back("numDisplays", std::to_string(*v.heads));
    items_.push_back(std::move(i));
  }

  void TpmItem() {
    Item i;
    i.required = false;
    i.fields["ElementName"] = "Virtual TPM";
    i.fields["InstanceID"] = NextId();
    i.fields["ResourceSubType"] = "vmware.vtpm";
    i.fields["ResourceType"] = std::to_string(kRtTpm);
    items_.push_back(std::move(i));
  }

  void Emit(const Item& i, XmlWriter& w) {
    w.Open("Item");
    if (!i.required) w.Attr("ovf:required", "false");
    for (const auto& [k, v] : i.fields) w.Leaf("rasd:" + k, v);
    if (!i.cores_per_socket.empty()) {
      w.Open("vmw:CoresPerSocket").Attr("ovf:required", "false");
      w.Text(i.cores_per_socket).Close();
    }
    for (const auto& [k, v] : i.vmw_config) {
      w.Open("vmw:Config")
          .Attr("ovf:required", "false")
          .Attr("vmw:key", k)
          .Attr("vmw:value", v)
          .Close();
    }
    w.Close();
  }

  void VmwConfig(XmlWriter& w) {
    auto config = [&](const char* element, std::string_view k,
                      std::string_view v) {
      w.Open(element)
          .Attr("ovf:required", "false")
          .Attr("vmw:key", k)
          .Attr("vmw:value", v)
          .Close();
    };
    if (vm_.firmware != Firmware::kUnknown) {
      config("vmw:Config", "firmware", ToString(vm_.firmware));
    }
    if (vm_.secure_boot) {
      config("vmw:Config", "bootOptions.efiSecureBootEnabled", "true");
    }
    for (const auto& [k, v] : vm_.vmware_config) config("vmw:Config", k, v);
    if (!plan_.nvram_file_id.empty()) {
      config("vmw:ExtraConfig", "nvram", "ovf:/file/" + plan_.nvram_file_id);
    }
    for (const auto& [k, v] : vm_.extra_config) config("vmw:ExtraConfig", k, v);
  }

  const VmSpec& vm_;
  const VmPlan& plan_;
  Diagnostics* diag_;
  std::vector<Item> items_;
  std::set<std::string> written_controllers_;
  std::set<std::string> taken_;
  int counter_ = 0;
};

}  // namespace

void WriteVirtualHardware(const VmSpec& vm, const VmPlan& plan, XmlWriter& w,
                          Diagnostics* diag) {
  HardwareWriter(vm, plan, diag).Write(w);
}

}  // namespace ova2virt::ovf
