// The VirtualHardwareSection: RASD items -> VmSpec devices.
#include <algorithm>
#include <cctype>
#include <map>

#include "core/checked_math.h"
#include "core/strings.h"
#include "ovf/ovf_format.h"
#include "ovf/ovf_read_context.h"
#include "ovf/rasd_item.h"
#include "ovf/units.h"

namespace ova2virt::ovf {
namespace {

class HardwareReader {
 public:
  HardwareReader(ReadContext& ctx, VmSpec* vm) : ctx_(ctx), vm_(vm) {}

  Status Read(const XmlElement& section) {
    if (auto t = OvfAttr(section, "transport")) {
      vm_->environment_transport = *t;
    }
    std::vector<RawItem> items;
    for (const XmlElement& c : section.children) {
      std::string name = OvfName(c);
      if (name == "System") {
        for (const XmlElement& s : c.children) {
          if (s.local == "VirtualSystemType") vm_->system_type = ctx_.Text(s);
        }
      } else if (name == "Item" || name == "StorageItem" ||
                 name == "EthernetPortItem") {
        if (items.size() >= kMaxItems) {
          return CorruptError(c.Where() + ": more than " +
                              std::to_string(kMaxItems) +
                              " items in one VirtualHardwareSection");
        }
        items.push_back(ParseItem(c, ctx_));
      } else if (IsVmwareNs(c.ns) && c.local == "Config") {
        ReadVmwConfig(c);
      } else if (IsVmwareNs(c.ns) && c.local == "ExtraConfig") {
        ReadExtraConfig(c);
      } else if (name == "Info") {
        // The section's Info is a human summary; nothing to keep.
      } else {
        vm_->unknown_items.push_back(
            RawElement(c, "hardware element at " + c.Where(), c.qname));
        ctx_.Warn("ovf.unknown-device", "element at " + c.Where(),
                  "hardware element " + Quote(c.qname) + " kept verbatim");
      }
    }
    items = SelectItems(std::move(items), ctx_);
    AssignIds(items);
    // Controllers first: items may name a Parent that comes later.
    for (RawItem& i : items) {
      if (IsController(i)) RETURN_IF_ERROR(ReadController(i));
    }
    for (RawItem& i : items) {
      if (!IsController(i)) RETURN_IF_ERROR(ReadDevice(i));
    }
    return OkStatus();
  }

 private:
  void AssignIds(std::vector<RawItem>& items) {
    std::set<std::string> seen;
    // Where to resume numbering duplicates of each id: a descriptor with
    // thousands of copies of one id must not cost a quadratic search.
    std::map<std::string, int> next_suffix;
    int n = 0;
    for (RawItem& i : items) {
      ++n;
      std::string id = i.Get("InstanceID");
      if (id.empty()) {
        id = "item" + std::to_string(n);
        ctx_.Warn("ovf.missing-instance-id", i.where,
                  "item without InstanceID; called " + Quote(id));
      }
      if (seen.count(id) != 0) {
        std::string fresh;
        int& k = next_suffix.try_emplace(id, 2).first->second;
        for (;; ++k) {
          fresh = id + "#" + std::to_string(k);
          if (seen.count(fresh) == 0) break;
        }
        ctx_.Warn("ovf.duplicate-instance-id", i.where,
                  "InstanceID " + Quote(id) + " is used twice; this item is " +
                      Quote(fresh));
        id = fresh;
      }
      seen.insert(id);
      i.id = id;
      i.type = SmallInt(i.Get("ResourceType"));
    }
  }

  static bool IsController(const RawItem& i) {
    if (!i.type) return false;
    if (*i.type == kRtIdeController || *i.type == kRtScsiController) {
      return true;
    }
    if (*i.type == kRtOtherStorage) {
      auto m = ControllerModelFromSubtype(i.Subtype());
      return m &&
             (*m == ControllerModel::kAhci || *m == ControllerModel::kNvme);
    }
    return false;
  }

  Status ReadController(const RawItem& i) {
    Controller c;
    c.id = i.id;
    c.raw_model = i.Subtype();
    auto model = ControllerModelFromSubtype(c.raw_model);
    ControllerKind by_type = *i.type == kRtIdeController ? ControllerKind::kIde
                             : *i.type == kRtScsiController
                                 ? ControllerKind::kScsi
                                 : ControllerKind::kSata;
    if (model) {
      c.model = *model;
      c.kind = KindOfModel(*model);
      // "virtio" on an IDE item would be nonsense; the item type wins.
      if (by_type == ControllerKind::kIde && c.kind != ControllerKind::kIde) {
        c.kind = ControllerKind::kIde;
        c.model = ControllerModel::kOther;
      }
    } else {
      c.kind = by_type;
      if (!c.raw_model.empty()) {
        c.model = ControllerModel::kOther;
        ctx_.Warn("ovf.unknown-controller", i.where,
                  std::string(ToString(c.kind)) + " controller " + Quote(c.id) +
                      " of unknown model " + Quote(c.raw_model));
      }
    }
    int same_kind = 0;
    for (const Controller& o : vm_->controllers) {
      if (o.kind == c.kind) ++same_kind;
    }
    std::optional<int> bus = SmallInt(i.Get("Address"));
    if (!bus) bus = SmallInt(i.Get("BusNumber"));
    c.bus = bus.value_or(same_kind);
    vm_->controllers.push_back(std::move(c));
    return OkStatus();
  }

  Status ReadDevice(const RawItem& i) {
    int type = i.type.value_or(-1);
    std::string sub = Lower(i.Subtype());
    switch (type) {
      case kRtProcessor:
        return ReadCpu(i);
      case kRtMemory:
        return ReadMemory(i);
      case kRtEthernet:
        return ReadNic(i);
      case kRtFloppy:
        return ReadDisk(i, DiskDevice::kFloppy);
      case kRtCdrom:
      case kRtDvd:
        return ReadDisk(i, DiskDevice::kCdrom);
      case kRtDisk:
      case kRtLogicalDisk:
        return ReadDisk(i, DiskDevice::kDisk);
      case kRtSerial:
        ReadSerial(i);
        return OkStatus();
      case kRtUsb:
        vm_->usb_controllers.push_back({StripPrefix(sub, "vmware.usb.")});
        return OkStatus();
      case kRtGraphics:
        return ReadVideo(i);
      case kRtSound:
        ReadSound(i);
        return OkStatus();
      default:
        break;
    }
    if (i.element == "EthernetPortItem") return ReadNic(i);
    // XenServer writes its disks as storage extents (ResourceType 19)
    // backed by a DiskSection disk.
    if (type == kRtStorageExtent &&
        ParseHostResource(i.Get("HostResource")).kind == HostRef::kDisk) {
      return ReadDisk(i, DiskDevice::kDisk);
    }
    if (sub.rfind("vmware.soundcard.", 0) == 0) {
      ReadSound(i);
      return OkStatus();
    }
    if (type == kRtTpm || sub == "vmware.vtpm") {
      vm_->tpm = Tpm{"2.0"};
      return OkStatus();
    }
    KeepUnknown(i);
    return OkStatus();
  }

  void KeepUnknown(const RawItem& i) {
    UnknownItem u;
    u.where = "item " + i.id;
    std::string rt = i.Get("ResourceType");
    u.kind = rt.empty() ? "no ResourceType" : "ResourceType " + rt;
    if (!i.Subtype().empty()) u.kind += " " + i.Subtype();
    for (const auto& [k, v] : i.fields) {
      if (u.fields.size() >= kMaxUnknownFields) break;
      u.fields.emplace_back(k, v.substr(0, kMaxUnknownValueBytes));
    }
    for (const auto& [k, v] : i.vmw) {
      if (u.fields.size() >= kMaxUnknownFields) break;
      u.fields.emplace_back("vmw:Config " + k,
                            v.substr(0, kMaxUnknownValueBytes));
    }
    ctx_.Warn("ovf.unknown-device", i.where,
              "item " + Quote(i.id) + " (" + u.kind + ", " + Quote(i.Label()) +
                  ") is not a device ova2virt knows; kept "
                  "verbatim");
    vm_->unknown_items.push_back(std::move(u));
  }

  Status ReadCpu(const RawItem& i) {
    std::string q = i.Get("VirtualQuantity");
    std::optional<uint64_t> count;
    if (!q.empty()) {
      ASSIGN_OR_RETURN(count, ReadNumber(ctx_, q, "vcpu count", i.where));
    } else if (!i.Get("num_of_sockets").empty()) {
      // oVirt writes the topology instead of a count.
      auto s = ParseDecimal(i.Get("num_of_sockets"));
      auto c = ParseDecimal(i.Get("cpu_per_socket"));
      if (s && c && *s <= kMaxVcpus && *c <= kMaxVcpus) {
        count = *s * *c;
        vm_->cores_per_socket = static_cast<uint32_t>(*c);
      }
    }
    if (count) {
      if (*count == 0 || *count > kMaxVcpus) {
        return CorruptError(i.where + ": " + std::to_string(*count) +
                            " virtual cpus is not a plausible count (1 to " +
                            std::to_string(kMaxVcpus) + ")");
      }
      vm_->vcpus = static_cast<uint32_t>(*count);
    }
    if (!i.cores_per_socket.empty()) {
      auto cores = ParseDecimal(i.cores_per_socket);
      if (cores && *cores >= 1 && *cores <= kMaxVcpus &&
          (!vm_->vcpus || *vm_->vcpus % *cores == 0)) {
        vm_->cores_per_socket = static_cast<uint32_t>(*cores);
      } else {
        ctx_.Warn("ovf.bad-topology", i.where,
                  "cores per socket " + Quote(i.cores_per_socket) +
                      " does not divide the vcpu count; ignored");
      }
    }
    return OkStatus();
  }

  Status ReadMemory(const RawItem& i) {
    std::string q = i.Get("VirtualQuantity");
    if (q.empty()) return OkStatus();
    std::string units = i.Get("AllocationUnits");
    if (units.empty()) {
      // The CIM default would be bytes, but every producer that leaves the
      // units out (VirtualBox, old ovftool) means megabytes.
      units = "byte * 2^20";
      ctx_.Warn("ovf.memory-units-assumed", i.where,
                "memory item has no AllocationUnits; read as megabytes");
    }
    ASSIGN_OR_RETURN(auto n, ReadNumber(ctx_, q, "memory quantity", i.where));
    if (!n) return OkStatus();
    ASSIGN_OR_RETURN(uint64_t bytes, ScaleToBytes(std::to_string(*n), units,
                                                  i.where + ": memory"));
    if (bytes == 0 || bytes > kMaxMemoryBytes) {
      return CorruptError(i.where + ": memory of " + std::to_string(bytes) +
                          " bytes (" + Quote(q) + " x " + Quote(units) +
                          ") is not plausible");
    }
    vm_->memory_bytes = bytes;
    return OkStatus();
  }

  Status ReadNic(const RawItem& i) {
    Nic n;
    n.id = i.id;
    n.label = i.Label();
    n.network = i.Get("Connection");
    n.raw_model = i.Subtype();
    if (auto m = NicModelFromSubtype(n.raw_model)) {
      n.model = *m;
    } else if (!n.raw_model.empty()) {
      n.model = NicModel::kOther;
      ctx_.Warn("ovf.unknown-nic-model", i.where,
                "network adapter " + Quote(n.id) + " of unknown model " +
                    Quote(n.raw_model));
    }
    std::string mac = i.Get("Address");
    if (mac.empty()) mac = i.Get("MACAddress");  // oVirt
    if (!mac.empty()) {
      if (auto m = NormalizeMac(mac)) {
        n.mac = *m;
      } else {
        ctx_.Warn("ovf.bad-mac", i.where,
                  "network adapter address " + Quote(mac) +
                      " is not a MAC address; ignored");
      }
    }
    if (EqualsIgnoreCase(i.Get("AutomaticAllocation"), "false")) {
      n.connected = false;
    }
    vm_->nics.push_back(std::move(n));
    return OkStatus();
  }

  Status ReadDisk(const RawItem& i, DiskDevice device) {
    Disk d;
    d.id = i.id;
    d.device = device;
    d.label = i.Label();
    std::string parent = i.Get("Parent");
    if (!parent.empty()) {
      if (vm_->FindController(parent) != nullptr) {
        d.controller_id = parent;
      } else {
        ctx_.Warn("ovf.unknown-parent", i.where,
                  "item " + Quote(d.id) + " names controller " + Quote(parent) +
                      ", which does not exist");
      }
    }
    d.unit = SmallInt(i.Get("AddressOnParent"));
    HostRef ref = ParseHostResource(i.Get("HostResource"));
    if (ref.kind == HostRef::kOther) {
      // oVirt names the disk by its file path; others by a bare disk id.
      for (const auto& [id, def] : ctx_.disks) {
        if (id == ref.id || def.file_id == ref.id) {
          ref = {HostRef::kDisk, id};
          break;
        }
      }
    }
    if (ref.kind == HostRef::kDisk) {
      auto it = ctx_.disks.find(ref.id);
      if (it == ctx_.disks.end()) {
        ctx_.Warn("ovf.unresolved-disk", i.where,
                  "item " + Quote(d.id) + " refers to disk " + Quote(ref.id) +
                      ", which the DiskSection does not list");
      } else {
        RETURN_IF_ERROR(ApplyDiskDef(it->second, &d, 0));
      }
    } else if (ref.kind == HostRef::kFile) {
      ApplyFile(ref.id, i.where, &d.source);
      if (d.source.format == ImageFormat::kUnknown &&
          Lower(d.source.href).ends_with(".iso")) {
        d.source.format = ImageFormat::kIso;
      }
    } else if (ref.kind == HostRef::kOther) {
      ctx_.Warn("ovf.unresolved-disk", i.where,
                "item " + Quote(d.id) + " has host resource " + Quote(ref.id) +
                    ", which names no disk or file");
    } else if (device == DiskDevice::kDisk &&
               !i.Get("VirtualQuantity").empty()) {
      // A blank disk given by size (OVF 2 StorageItem, ResourceType 31).
      std::string units = i.Get("AllocationUnits");
      ASSIGN_OR_RETURN(auto n, ReadNumber(ctx_, i.Get("VirtualQuantity"),
                                          "disk size", i.where));
      if (n) {
        ASSIGN_OR_RETURN(
            d.capacity,
            ScaleToBytes(std::to_string(*n), units.empty() ? "byte" : units,
                         i.where + ": disk size"));
      }
    }
    vm_->disks.push_back(std::move(d));
    return OkStatus();
  }

  void ApplyFile(const std::string& file_id, const std::string& where,
                 ImageSource* s) {
    if (file_id.empty()) return;
    auto it = ctx_.files.find(file_id);
    if (it == ctx_.files.end()) {
      ctx_.Warn(
          "ovf.unresolved-file", where,
          "file reference " + Quote(file_id) + " names no File in References");
      return;
    }
    s->file_id = file_id;
    s->href = it->second.href;
    s->size = it->second.size;
    s->compression = it->second.compression;
    s->chunk_size = it->second.chunk_size;
  }

  Result<std::optional<uint64_t>> ResolveCapacity(const DiskDef& def) {
    std::string text = def.capacity;
    if (text.size() > 3 && text.substr(0, 2) == "${" && text.back() == '}') {
      std::string key = text.substr(2, text.size() - 3);
      std::optional<std::string> value = FindPropertyDefault(key);
      if (!value || value->empty()) {
        ctx_.Warn("ovf.unresolved-property", def.where,
                  "disk " + Quote(def.id) + " capacity names property " +
                      Quote(key) + ", which has no value; capacity unknown");
        return std::optional<uint64_t>();
      }
      ctx_.Warn("ovf.capacity-from-property", def.where,
                "disk " + Quote(def.id) + " capacity " + Quote(*value) +
                    " comes from property " + Quote(key));
      text = *value;
    }
    ASSIGN_OR_RETURN(auto n,
                     ReadNumber(ctx_, text, "disk capacity", def.where));
    if (!n) return std::optional<uint64_t>();
    ASSIGN_OR_RETURN(
        uint64_t bytes,
        ScaleToBytes(std::to_string(*n),
                     def.capacity_units.empty()
                         ? "byte"
                         : std::string_view(def.capacity_units),
                     def.where + ": capacity of disk " + Quote(def.id)));
    if (bytes > kMaxCapacityBytes) {
      return CorruptError(def.where + ": capacity of disk " + Quote(def.id) +
                          " (" + std::to_string(bytes) +
                          " bytes) is not plausible");
    }
    return std::optional<uint64_t>(bytes);
  }

  std::optional<std::string> FindPropertyDefault(std::string_view key) const {
    auto search = [&](const std::vector<ProductInfo>& products)
        -> std::optional<std::string> {
      for (const ProductInfo& p : products) {
        for (const Property& prop : p.properties) {
          if (prop.key == key || prop.FullKey() == key) {
            return prop.default_value;
          }
        }
      }
      return std::nullopt;
    };
    if (auto v = search(vm_->products)) return v;
    for (auto it = ctx_.outer_products.rbegin();
         it != ctx_.outer_products.rend(); ++it) {
      if (auto v = search(**it)) return v;
    }
    return std::nullopt;
  }

  Status ApplyDiskDef(const DiskDef& def, Disk* d, int depth) {
    ctx_.used_disks.insert(def.id);
    ImageSource& s = d->source;
    s.disk_id = def.id;
    s.raw_format = def.format;
    s.format = FormatFromUri(def.format);
    if (s.format == ImageFormat::kOther) {
      ctx_.Warn("ovf.unknown-disk-format", def.where,
                "disk " + Quote(def.id) + " has format " + Quote(def.format));
    }
    ASSIGN_OR_RETURN(d->capacity, ResolveCapacity(def));
    d->populated_size = def.populated_size;
    ApplyFile(def.file_id, def.where, &s);
    if (def.parent_ref.empty()) return OkStatus();
    // A delta disk: its parent joins the machine as a disk with no
    // controller, which other disks name as their parent.
    auto it = ctx_.disks.find(def.parent_ref);
    if (it == ctx_.disks.end() || depth > 16) {
      ctx_.Warn("ovf.unresolved-disk", def.where,
                "disk " + Quote(def.id) + " has parent " +
                    Quote(def.parent_ref) + ", which is not usable");
      return OkStatus();
    }
    for (const Disk& other : vm_->disks) {
      if (other.source.disk_id == def.parent_ref &&
          other.controller_id.empty()) {
        d->parent_id = other.id;
        return OkStatus();
      }
    }
    Disk parent;
    parent.id = UniqueDiskId(def.parent_ref);
    parent.device = DiskDevice::kDisk;
    RETURN_IF_ERROR(ApplyDiskDef(it->second, &parent, depth + 1));
    d->parent_id = parent.id;
    vm_->disks.push_back(std::move(parent));
    return OkStatus();
  }

  std::string UniqueDiskId(const std::string& want) {
    auto taken = [&](const std::string& id) {
      for (const Disk& d : vm_->disks) {
        if (d.id == id) return true;
      }
      for (const Controller& c : vm_->controllers) {
        if (c.id == id) return true;
      }
      return false;
    };
    std::string id = want;
    for (int k = 2; taken(id); ++k) id = want + "#" + std::to_string(k);
    return id;
  }

  void ReadSerial(const RawItem& i) {
    SerialPort p;
    p.index = static_cast<int>(vm_->serial_ports.size());
    std::string sub = StripPrefix(i.Subtype(), "vmware.serialport.");
    if (sub == "uri") sub = "network";
    p.type = sub;
    p.target = i.Get("HostResource");
    vm_->serial_ports.push_back(std::move(p));
  }

  void ReadSound(const RawItem& i) {
    std::string model = StripPrefix(i.Subtype(), "vmware.soundcard.");
    if (model == "hdaudio") model = "hda";
    vm_->sound_cards.push_back({model});
  }

  Status ReadVideo(const RawItem& i) {
    Video v;
    v.model = i.Subtype();
    if (const std::string* kb = i.Config("videoRamSizeInKB")) {
      auto n = ParseDecimal(*kb);
      if (n && *n <= (kMaxMemoryBytes >> 10)) v.vram_bytes = *n * 1024;
    }
    if (const std::string* heads = i.Config("numDisplays")) {
      v.heads = SmallInt(*heads);
    }
    if (const std::string* a = i.Config("enable3DSupport")) {
      v.accel3d = *a == "true";
    }
    vm_->video = v;
    return OkStatus();
  }

  void ReadVmwConfig(const XmlElement& c) {
    std::string key = VmwAttr(c, "key").value_or("");
    std::string value = VmwAttr(c, "value").value_or("");
    if (key == "firmware" && (value == "efi" || value == "bios")) {
      vm_->firmware = value == "efi" ? Firmware::kEfi : Firmware::kBios;
    } else if (key == "bootOptions.efiSecureBootEnabled") {
      vm_->secure_boot = value == "true";
    } else if (!key.empty()) {
      vm_->vmware_config.emplace_back(key, value);
    }
  }

  void ReadExtraConfig(const XmlElement& c) {
    std::string key = VmwAttr(c, "key").value_or("");
    std::string value = VmwAttr(c, "value").value_or("");
    if (key == "nvram") {
      HostRef ref = ParseHostResource(value);
      if (ref.kind == HostRef::kFile) {
        auto it = ctx_.files.find(ref.id);
        if (it != ctx_.files.end()) {
          vm_->nvram_href = it->second.href;
          return;
        }
      }
      ctx_.Warn("ovf.unresolved-file", "element at " + c.Where(),
                "nvram " + Quote(value) + " names no File in References");
    }
    if (!key.empty()) vm_->extra_config.emplace_back(key, value);
  }

  ReadContext& ctx_;
  VmSpec* vm_;
};

}  // namespace

Status ReadVirtualHardware(const XmlElement& section, ReadContext& ctx,
                           VmSpec* vm) {
  return HardwareReader(ctx, vm).Read(section);
}

}  // namespace ova2virt::ovf
