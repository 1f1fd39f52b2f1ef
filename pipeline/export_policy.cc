#include "pipeline/export_policy.h"

#include <map>
#include <set>
#include <vector>

#include "core/checked_math.h"
#include "core/strings.h"
#include "pipeline/export_os.h"
#include "pipeline/export_storage.h"

namespace ova2virt {
namespace {

constexpr uint64_t kMemoryGranule = 4u << 20;  // VMware: a multiple of 4 MiB

// --- the other devices --------------------------------------------------

NicModel ChooseNicModel(const Nic& n, const OsInfo& os, Diagnostics* diags) {
  NicModel to = n.model;
  std::string why;
  switch (n.model) {
    case NicModel::kE1000:
    case NicModel::kE1000e:
    case NicModel::kVmxnet3:
    case NicModel::kPcnet:
      return n.model;
    case NicModel::kVirtio:
      if (IsWindowsGuest(os)) {
        to = NicModel::kE1000e;
        why =
            "Windows has an e1000e driver of its own (since 8 and 2012); "
            "vmxnet3 would need VMware Tools";
      } else if (HasVmxnet3Driver(os)) {
        to = NicModel::kVmxnet3;
        why =
            "VMware's paravirtual nic, whose driver this guest's kernel "
            "carries";
      } else {
        to = NicModel::kE1000;
        why =
            "the guest is not known to carry a vmxnet3 driver; every "
            "system has one for the e1000";
      }
      break;
    default:
      to = NicModel::kE1000;
      why =
          "VMware has no such nic; the e1000 is the one every system has a "
          "driver for";
      break;
  }
  diags->Warn(
      "export.nic-model-changed", n.id,
      "nic " + Quote(n.mac.empty() ? n.id : n.mac) + " (" +
          (n.raw_model.empty() ? std::string("no model") : Quote(n.raw_model)) +
          ") becomes " + std::string(ToString(to)) + ": " + why);
  return to;
}

std::string UsbFor(const std::string& libvirt_model, Diagnostics* diags) {
  std::string m = Lower(libvirt_model);
  if (m.find("xhci") != std::string::npos) return "xhci";
  if (m.find("ehci") != std::string::npos) return "ehci";
  if (m.find("uhci") != std::string::npos) return "uhci";
  diags->Warn("export.usb-substituted", libvirt_model,
              "usb controller " + Quote(libvirt_model) +
                  " becomes VMware's ehci (usb 2)");
  return "ehci";
}

std::optional<std::string> SoundFor(const std::string& libvirt_model,
                                    Diagnostics* diags) {
  std::string m = Lower(libvirt_model);
  if (m == "ich6" || m == "ich7" || m == "ich9" || m == "hda") return "hda";
  if (m == "es1370") {
    diags->Warn("export.sound-substituted", libvirt_model,
                "sound card 'es1370' becomes VMware's ensoniq1371, its "
                "successor");
    return "ensoniq1371";
  }
  if (m == "sb16") return "sb16";
  diags->Warn(
      "export.sound-substituted", libvirt_model,
      "sound card " + Quote(libvirt_model) + " becomes VMware's hd audio");
  return "hda";
}

void RenumberItems(VmSpec* vm) {
  // Items the writer numbers itself (cpu, memory) take 1 and 2; then
  // controllers, drives and nics in that order.
  int next = 3;
  std::map<std::string, std::string> controller_ids;
  for (Controller& c : vm->controllers) {
    controller_ids[c.id] = std::to_string(next++);
    c.id = controller_ids[c.id];
  }
  for (Disk& d : vm->disks) {
    d.id = std::to_string(next++);
    if (!d.controller_id.empty())
      d.controller_id = controller_ids[d.controller_id];
  }
  for (Nic& n : vm->nics) n.id = std::to_string(next++);
}

}  // namespace

Result<ExportMachine> ApplyExportPolicy(const ParsedDomain& domain,
                                        const ExportPolicy& policy,
                                        Diagnostics* diags) {
  // The OVF environment CD the import made is not the appliance's media:
  // the next import makes it again from the properties (and the transport),
  // which the descriptor carries.
  VmSpec without_env;
  const std::string& env_cd = domain.options.environment_disk_id;
  if (!env_cd.empty()) {
    without_env = domain.spec;
    std::erase_if(without_env.disks,
                  [&](const Disk& d) { return d.id == env_cd; });
    diags->Warn("export.environment-cd-dropped", env_cd,
                "CD/DVD drive " + Quote(env_cd) +
                    " holds the OVF environment the import made; it is not "
                    "exported (the next import makes it from the properties)");
  }
  const VmSpec& src = env_cd.empty() ? domain.spec : without_env;
  ExportMachine out;
  VmSpec& vm = out.spec;
  vm.id = vm.name = domain.options.name;
  vm.description = src.description;
  vm.vcpus = src.vcpus;
  vm.cores_per_socket = src.cores_per_socket;
  if (src.threads_per_core && *src.threads_per_core > 1) {
    // VMware has sockets and cores only: threads become cores, so the
    // socket count stays what the guest saw.
    auto cores = CheckedMul<uint32_t>(src.cores_per_socket.value_or(1),
                                      *src.threads_per_core);
    if (!cores) return CorruptError("cpu topology overflows");
    vm.cores_per_socket = *cores;
    diags->Warn("export.threads-as-cores", vm.name,
                std::to_string(*src.threads_per_core) +
                    " threads per core are written as " +
                    std::to_string(*cores) +
                    " cores per socket (VMware has no threads)");
  }
  if (src.memory_bytes) {
    auto rounded = CheckedMul<uint64_t>(
        DivRoundUp(*src.memory_bytes, kMemoryGranule), kMemoryGranule);
    if (!rounded) return CorruptError("memory size overflows");
    vm.memory_bytes = *rounded;
    if (*rounded != *src.memory_bytes) {
      diags->Warn("export.memory-rounded", vm.name,
                  "memory of " + std::to_string(*src.memory_bytes) +
                      " bytes rounds up to " + std::to_string(*rounded) +
                      " (VMware wants a multiple of 4 MiB)");
    }
  }
  vm.firmware =
      src.firmware == Firmware::kEfi ? Firmware::kEfi : Firmware::kBios;
  vm.secure_boot = src.secure_boot && vm.firmware == Firmware::kEfi;
  if (vm.firmware == Firmware::kEfi) {
    diags->Warn("export.nvram-not-exported", vm.name,
                "the uefi variables (boot entries) are not exported; the "
                "firmware boots the disk's default loader "
                "(\\EFI\\BOOT\\BOOTX64.EFI) or asks");
  }
  vm.os = src.os;
  vm.products = src.products;
  vm.environment_transport = src.environment_transport;
  NameExportOs(domain, &vm, diags);

  // Drives: placement first, then what each reads.
  RETURN_IF_ERROR(PlaceExportDrives(src, &vm, diags));
  std::map<std::string, const DiskBinding*> bindings;
  for (const DiskBinding& b : domain.options.disks) bindings[b.disk_id] = &b;
  std::map<DiskDevice, int> counts;
  for (Disk& d : vm.disks) {
    const std::string target = d.id;
    d.label = (d.device == DiskDevice::kDisk    ? "Hard disk "
               : d.device == DiskDevice::kCdrom ? "CD/DVD drive "
                                                : "Floppy drive ") +
              std::to_string(++counts[d.device]);
    if (d.read_only) {
      diags->Warn("export.readonly-dropped", target,
                  "disk " + Quote(target) +
                      " is read-only here; OVF cannot say so, and it is "
                      "exported writable");
      d.read_only = false;
    }
    d.boot_order.reset();
    auto b = bindings.find(target);
    ExportSource s;
    s.target = target;
    s.device = d.device;
    if (b != bindings.end()) {
      s.path = b->second->path;
      s.pool = b->second->pool;
      s.volume = b->second->volume;
      s.format = b->second->format;
    }
    d.source = ImageSource();
    bool has_image = !s.path.empty() || !s.volume.empty();
    if (d.device == DiskDevice::kDisk) {
      if (!has_image) {
        return UnsupportedError("disk " + Quote(target) +
                                " has no source ova2virt can read (a "
                                "network disk?)");
      }
      if (s.format.empty()) s.format = "raw";  // libvirt's reading too
      if (s.format != "qcow2" && s.format != "raw" && s.format != "vmdk") {
        return UnsupportedError("disk " + Quote(target) + ": format " +
                                Quote(s.format) +
                                " cannot be exported (qcow2, raw or vmdk)");
      }
    } else {
      if (!has_image) continue;  // an empty drive stays empty
      if (!policy.include_media) {
        diags->Warn("export.media-dropped", target,
                    DeviceNoun(d.device) + " " + Quote(target) +
                        " is exported empty (--no-media)");
        continue;
      }
      if (!s.format.empty() && s.format != "raw") {
        return UnsupportedError(DeviceNoun(d.device) + " " + Quote(target) +
                                ": a " + Quote(s.format) +
                                " image cannot be exported (raw only)");
      }
      s.format = "raw";
    }
    out.sources.push_back(std::move(s));
    out.sources.back().disk_id = target;  // renumbered below
  }

  // NICs.
  std::set<std::string> networks;
  int nic_count = 0;
  for (const Nic& n : src.nics) {
    Nic nic = n;
    nic.model = ChooseNicModel(n, vm.os, diags);
    nic.raw_model.clear();
    nic.label = "Network adapter " + std::to_string(++nic_count);
    if (nic.network.empty()) nic.network = "VM Network";
    networks.insert(nic.network);
    vm.nics.push_back(std::move(nic));
  }
  for (const std::string& n : networks) {
    out.networks.push_back({n, "The " + n + " network"});
  }

  // Serial ports keep their number; their host side is this host's.
  for (const SerialPort& p : src.serial_ports) {
    if (!p.type.empty() && p.type != "pty") {
      diags->Warn("export.serial-host-dropped",
                  "serial port " + std::to_string(p.index),
                  "its host side (" + p.type +
                      (p.target.empty() ? "" : " " + Quote(p.target)) +
                      ") is this host's and is not exported");
    }
    vm.serial_ports.push_back({p.index, "", ""});
  }
  for (const UsbController& u : src.usb_controllers) {
    vm.usb_controllers.push_back({UsbFor(u.model, diags)});
  }
  for (const SoundCard& s : src.sound_cards) {
    if (auto m = SoundFor(s.model, diags)) vm.sound_cards.push_back({*m});
  }
  if (src.video) {
    // VMware has one display adapter (its SVGA), and VirtualBox its own;
    // ovftool writes the item without a subtype.
    Video v = *src.video;
    std::string m = Lower(v.model);
    if (!m.empty() && m != "vga" && m != "vmvga" && m != "cirrus" &&
        m != "bochs") {
      diags->Warn("export.video-generic", v.model,
                  "video " + Quote(v.model) +
                      " becomes the hypervisor's own display adapter");
    }
    v.model.clear();
    vm.video = v;
  }
  if (src.tpm) {
    vm.tpm = Tpm{"2.0"};
    diags->Warn("export.tpm-state-not-exported", vm.name,
                "the virtual tpm is exported empty: its keys (BitLocker, "
                "measured boot) stay here");
  }
  // Hardware version 10 (ESXi 5.5, Workstation 10) is the first with
  // SATA, and has vmxnet3, pvscsi, e1000e and EFI: the oldest that holds
  // every device this policy writes. Secure boot and vTPM need 14.
  vm.system_type = vm.secure_boot || vm.tpm ? "vmx-14" : "vmx-10";

  std::map<std::string, std::string> old_ids;
  std::vector<std::string> targets;
  for (const Disk& d : vm.disks) targets.push_back(d.id);
  RenumberItems(&vm);
  for (size_t i = 0; i < vm.disks.size(); ++i)
    old_ids[targets[i]] = vm.disks[i].id;
  for (ExportSource& s : out.sources) s.disk_id = old_ids[s.target];
  return out;
}

}  // namespace ova2virt