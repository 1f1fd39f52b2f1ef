#include "ovf/vmx_reader.h"

#include <cctype>
#include <map>
#include <set>

#include "core/strings.h"
#include "core/utf8.h"
#include "ovf/os_table.h"
#include "ovf/ovf_format.h"
#include "ovf/units.h"

namespace ova2virt {
namespace {

constexpr size_t kMaxVmxBytes = 4u << 20;
constexpr size_t kMaxEntries = 100000;
constexpr uint64_t kMaxVcpus = 4096;
constexpr uint64_t kMaxMemoryMiB = 1ull << 26;  // 64 TiB
constexpr int kMaxControllerIndex = 64;
constexpr int kMaxUnit = 256;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// VMware writes characters that would break the line format as |XX (hex):
// "|0A" is a newline, "|22" a double quote.
std::string DecodeValue(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '|' && i + 2 < v.size() + 0 && HexDigit(v[i + 1]) >= 0 &&
        HexDigit(v[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(v[i + 1]) * 16 + HexDigit(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

// The value of the `.encoding` key, read before the text is known to be
// UTF-8 (the key and its value are ASCII in every encoding VMware writes);
// "" when there is none.
std::string DeclaredEncoding(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    if (Lower(Trim(line.substr(0, eq))) != ".encoding") continue;
    std::string_view value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return {};
}

struct Entry {
  std::string key;  // as written
  std::string value;
  int line = 0;
};

class VmxReader {
 public:
  explicit VmxReader(Diagnostics* diag) : diag_(diag) {}

  Result<ApplianceSpec> Read(std::string_view text) {
    RETURN_IF_ERROR(Tokenize(text));
    VmSpec vm;
    RETURN_IF_ERROR(ReadMachine(&vm));
    ReadControllersAndDisks(&vm);
    ReadNics(&vm);
    ReadOtherDevices(&vm);
    KeepTheRest(&vm);
    ApplianceSpec a;
    a.ovf_version = "vmx";
    a.name = vm.name;
    a.systems.push_back(std::move(vm));
    return a;
  }

 private:
  void Warn(std::string id, std::string where, std::string message) {
    if (diag_ != nullptr) {
      diag_->Warn(std::move(id), std::move(where), std::move(message));
    }
  }

  Status Tokenize(std::string_view text) {
    if (text.size() > kMaxVmxBytes) {
      return CorruptError("vmx file of " + std::to_string(text.size()) +
                          " bytes exceeds the limit of " +
                          std::to_string(kMaxVmxBytes));
    }
    // The file is UTF-8 unless `.encoding` names another encoding
    // (VMware Workstation on Windows wrote "windows-1252"; Japanese hosts
    // "Shift_JIS"): converted, so every value below is UTF-8.
    std::string converted;
    std::string encoding = DeclaredEncoding(text);
    if (!encoding.empty() && !IsUtf8EncodingName(encoding)) {
      ASSIGN_OR_RETURN(converted, ConvertToUtf8(text, encoding));
      text = converted;
    } else {
      RETURN_IF_ERROR(CheckUtf8(text));
    }
    int line_no = 0;
    size_t bad = 0;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      ++line_no;
      line = Trim(line);
      if (line.empty() || line.front() == '#') continue;
      size_t eq = line.find('=');
      if (eq == std::string_view::npos || Trim(line.substr(0, eq)).empty()) {
        if (++bad <= 3) {
          Warn("vmx.bad-line", "line " + std::to_string(line_no),
               "not a key = value line; ignored");
        }
        continue;
      }
      std::string_view key = Trim(line.substr(0, eq));
      std::string_view value = Trim(line.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (entries_.size() >= kMaxEntries) {
        return CorruptError("vmx file has more than " +
                            std::to_string(kMaxEntries) + " entries");
      }
      std::string decoded = DecodeValue(value);
      // |XX escapes can spell any byte.
      if (Status u = CheckUtf8(decoded); !u.ok()) {
        std::string why = u.message();
        why = why.substr(why.find("invalid UTF-8"));
        return CorruptError("line " + std::to_string(line_no) +
                            ": the value of " + Quote(key) +
                            ", its |XX escapes decoded, is " + why);
      }
      std::string lower = Lower(key);
      // A key given twice: the last one counts, as in VMware.
      auto it = index_.find(lower);
      if (it != index_.end()) {
        entries_[it->second] = {std::string(key), std::move(decoded), line_no};
      } else {
        index_[lower] = entries_.size();
        entries_.push_back({std::string(key), std::move(decoded), line_no});
      }
    }
    if (entries_.empty()) {
      return CorruptError(bad == 0 ? "the vmx file is empty"
                                   : "no key = value line: not a vmx file");
    }
    return OkStatus();
  }

  const std::string* Find(std::string_view key) {
    auto it = index_.find(Lower(key));
    if (it == index_.end()) return nullptr;
    used_.insert(it->first);
    return &entries_[it->second].value;
  }
  std::string Get(std::string_view key) {
    const std::string* v = Find(key);
    return v ? *v : std::string();
  }
  bool IsTrue(std::string_view key) {
    std::string v = Lower(Get(key));
    return v == "true" || v == "1" || v == "yes";
  }
  bool IsFalse(std::string_view key) {
    std::string v = Lower(Get(key));
    return v == "false" || v == "0" || v == "no";
  }
  // Marks every key under a device prefix ("ethernet0.") as read.
  void Consume(std::string_view prefix) {
    consumed_prefixes_.insert(Lower(prefix));
  }

  Status ReadMachine(VmSpec* vm) {
    vm->name = Get("displayName");
    vm->id = vm->name;
    vm->description = Get("annotation");
    if (std::string hw = Get("virtualHW.version"); !hw.empty()) {
      vm->system_type = "vmx-" + (hw.size() == 1 ? "0" + hw : hw);
    }
    // VMware's default is one vCPU when numvcpus is absent.
    uint64_t vcpus = 1;
    if (std::string v = Get("numvcpus"); !v.empty()) {
      auto n = ParseDecimal(v);
      if (!n || *n == 0 || *n > kMaxVcpus) {
        return CorruptError("numvcpus " + Quote(v) +
                            " is not a plausible vcpu count");
      }
      vcpus = *n;
    }
    vm->vcpus = static_cast<uint32_t>(vcpus);
    if (std::string c = Get("cpuid.coresPerSocket"); !c.empty()) {
      auto n = ParseDecimal(c);
      if (n && *n >= 1 && vcpus % *n == 0) {
        vm->cores_per_socket = static_cast<uint32_t>(*n);
      } else {
        Warn("vmx.bad-topology", "cpuid.coresPerSocket",
             "cores per socket " + Quote(c) +
                 " does not divide the vcpu count; ignored");
      }
    }
    if (std::string m = Get("memsize"); !m.empty()) {
      auto n = ParseDecimal(m);
      if (!n || *n == 0 || *n > kMaxMemoryMiB) {
        return CorruptError("memsize " + Quote(m) +
                            " is not a plausible memory size in MiB");
      }
      vm->memory_bytes = *n << 20;
    }
    // BIOS is VMware's default when firmware is absent.
    std::string fw = Lower(Get("firmware"));
    vm->firmware = fw == "efi" ? Firmware::kEfi : Firmware::kBios;
    if (!fw.empty() && fw != "efi" && fw != "bios") {
      Warn("vmx.unknown-firmware", "firmware",
           "firmware " + Quote(fw) + " is not bios or efi");
      vm->firmware = Firmware::kUnknown;
    }
    vm->secure_boot = IsTrue("uefi.secureBoot.enabled");
    vm->os.vmware_os_type = Get("guestOS");
    vm->os.libosinfo_id = std::string(LibosinfoFor(vm->os));
    vm->nvram_href = Get("nvram");
    vm->uuid = FormatUuid(Get("uuid.bios"));
    if (IsTrue("vtpm.present")) vm->tpm = Tpm{"2.0"};
    return OkStatus();
  }

  // "42 2c 17 6d 0b 31 4e 16-82 97 f0 b4 99 0b 86 09" ->
  // "422c176d-0b31-4e16-8297-f0b4990b8609".
  std::string FormatUuid(const std::string& raw) {
    std::string hex;
    for (char c : raw) {
      if (HexDigit(c) >= 0) {
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (c != ' ' && c != '-') {
        hex.clear();
        break;
      }
    }
    if (hex.size() != 32) {
      if (!raw.empty()) {
        Warn("vmx.bad-uuid", "uuid.bios", "uuid " + Quote(raw) + " ignored");
      }
      return {};
    }
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
           "-" + hex.substr(16, 4) + "-" + hex.substr(20);
  }

  // Parses "<bus><N>" or "<bus><N>:<M>" at the start of a lower-case key.
  static std::optional<std::pair<int, int>> DeviceIndex(std::string_view key,
                                                        std::string_view bus) {
    if (key.substr(0, bus.size()) != bus) return std::nullopt;
    key.remove_prefix(bus.size());
    size_t dot = key.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string_view id = key.substr(0, dot);
    size_t colon = id.find(':');
    auto n = ParseDecimal(id.substr(0, colon));
    if (!n || *n > kMaxControllerIndex) return std::nullopt;
    int unit = -1;
    if (colon != std::string_view::npos) {
      auto m = ParseDecimal(id.substr(colon + 1));
      if (!m || *m > kMaxUnit) return std::nullopt;
      unit = static_cast<int>(*m);
    }
    return std::make_pair(static_cast<int>(*n), unit);
  }

  void ReadControllersAndDisks(VmSpec* vm) {
    struct Bus {
      const char* name;
      ControllerKind kind;
    };
    static constexpr Bus kBuses[] = {{"ide", ControllerKind::kIde},
                                     {"scsi", ControllerKind::kScsi},
                                     {"sata", ControllerKind::kSata},
                                     {"nvme", ControllerKind::kNvme}};
    for (const Bus& bus : kBuses) {
      // Controllers and units named anywhere in the file, in order.
      std::set<int> controllers;
      std::set<std::pair<int, int>> units;
      for (const Entry& e : entries_) {
        auto idx = DeviceIndex(Lower(e.key), bus.name);
        if (!idx) continue;
        if (idx->second < 0) {
          controllers.insert(idx->first);
        } else {
          units.insert(*idx);
        }
      }
      for (int n : controllers) {
        std::string id = bus.name + std::to_string(n);
        if (!IsTrue(id + ".present")) {
          Consume(id + ".");
          continue;
        }
        AddController(vm, bus.kind, id, n);
      }
      for (const auto& [n, m] : units) {
        std::string cid = bus.name + std::to_string(n);
        std::string id = cid + ":" + std::to_string(m);
        Consume(id + ".");
        if (!IsTrue(id + ".present")) continue;
        if (vm->FindController(cid) == nullptr) {
          if (bus.kind != ControllerKind::kIde) {
            Warn("vmx.missing-controller", id,
                 "device on controller " + Quote(cid) +
                     ", which is not present; ignored");
            continue;
          }
          // IDE controllers exist without .present keys.
          AddController(vm, bus.kind, cid, n);
        }
        ReadDisk(vm, id, cid, m);
      }
    }
    // Floppies.
    for (int n = 0; n < 2; ++n) {
      std::string id = "floppy" + std::to_string(n);
      Consume(id + ".");
      // A floppy is present unless the file says otherwise (VMware's
      // default for its first drive); only keep one the file mentions.
      if (!Find(id + ".present") && !Find(id + ".fileName")) continue;
      if (IsFalse(id + ".present")) continue;
      Disk d;
      d.id = id;
      d.device = DiskDevice::kFloppy;
      if (Lower(Get(id + ".fileType")) == "file") {
        d.source.href = Get(id + ".fileName");
      }
      vm->disks.push_back(std::move(d));
    }
  }

  void AddController(VmSpec* vm, ControllerKind kind, const std::string& id,
                     int n) {
    Consume(id + ".");
    Controller c;
    c.id = id;
    c.kind = kind;
    c.bus = n;
    if (kind == ControllerKind::kSata) c.model = ControllerModel::kAhci;
    if (kind == ControllerKind::kNvme) c.model = ControllerModel::kNvme;
    std::string dev = Get(id + ".virtualDev");
    if (!dev.empty()) {
      c.raw_model = dev;
      if (auto m = ovf::ControllerModelFromSubtype(dev)) {
        c.model = *m;
      } else {
        c.model = ControllerModel::kOther;
        Warn("vmx.unknown-controller", id + ".virtualDev",
             "controller model " + Quote(dev) + " is unknown");
      }
    }
    vm->controllers.push_back(std::move(c));
  }

  void ReadDisk(VmSpec* vm, const std::string& id, const std::string& cid,
                int unit) {
    Disk d;
    d.id = id;
    d.controller_id = cid;
    d.unit = unit;
    std::string type = Lower(Get(id + ".deviceType"));
    std::string file = Get(id + ".fileName");
    if (type.find("cdrom") != std::string::npos) {
      d.device = DiskDevice::kCdrom;
      // cdrom-image names an ISO; atapi-cdrom and cdrom-raw a host drive.
      if (type == "cdrom-image" && !file.empty()) {
        d.source.href = file;
        d.source.format = ImageFormat::kIso;
      }
    } else if (type.empty() || type == "disk" || type.ends_with("harddisk") ||
               type == "plainDisk" || type == "rawdisk") {
      d.device = DiskDevice::kDisk;
      d.source.href = file;
      if (!file.empty()) d.source.format = ImageFormat::kVmdk;
    } else {
      Warn("vmx.unknown-device", id,
           "device type " + Quote(type) + " is unknown; kept as a disk");
      d.source.href = file;
    }
    d.read_only =
        Lower(Get(id + ".mode")).find("nonpersistent") != std::string::npos;
    vm->disks.push_back(std::move(d));
  }

  void ReadNics(VmSpec* vm) {
    for (int n = 0; n <= 9; ++n) {
      std::string id = "ethernet" + std::to_string(n);
      Consume(id + ".");
      if (!IsTrue(id + ".present")) continue;
      Nic nic;
      nic.id = id;
      nic.raw_model = Get(id + ".virtualDev");
      if (auto m = ovf::NicModelFromSubtype(nic.raw_model)) {
        nic.model = *m;
      } else if (!nic.raw_model.empty()) {
        nic.model = NicModel::kOther;
        Warn("vmx.unknown-nic-model", id,
             "network adapter model " + Quote(nic.raw_model) + " is unknown");
      }
      nic.network = Get(id + ".networkName");
      if (nic.network.empty()) nic.network = Get(id + ".connectionType");
      std::string mac = Get(id + ".address");
      if (mac.empty()) mac = Get(id + ".generatedAddress");
      if (!mac.empty()) {
        if (auto m = ovf::NormalizeMac(mac)) {
          nic.mac = *m;
        } else {
          Warn("vmx.bad-mac", id, "address " + Quote(mac) + " ignored");
        }
      }
      nic.connected = !IsFalse(id + ".startConnected");
      vm->nics.push_back(std::move(nic));
    }
  }

  void ReadOtherDevices(VmSpec* vm) {
    for (int n = 0; n <= 3; ++n) {
      std::string id = "serial" + std::to_string(n);
      Consume(id + ".");
      if (!IsTrue(id + ".present")) continue;
      SerialPort p;
      p.index = n;
      p.type = Lower(Get(id + ".fileType"));
      p.target = Get(id + ".fileName");
      vm->serial_ports.push_back(std::move(p));
    }
    // VMware's "usb" is a UHCI controller; EHCI and xHCI are separate.
    if (IsTrue("usb.present")) vm->usb_controllers.push_back({"uhci"});
    if (IsTrue("ehci.present")) vm->usb_controllers.push_back({"ehci"});
    if (IsTrue("usb_xhci.present")) vm->usb_controllers.push_back({"xhci"});
    for (const char* p : {"usb.", "ehci.", "usb_xhci."}) Consume(p);
    if (IsTrue("sound.present")) {
      std::string dev = Lower(Get("sound.virtualDev"));
      if (dev == "es1371") dev = "ensoniq1371";
      if (dev == "hdaudio") dev = "hda";
      vm->sound_cards.push_back({dev});
    }
    Consume("sound.");
    if (Find("svga.present") || Find("svga.vramSize")) {
      if (!IsFalse("svga.present")) {
        Video v;
        v.model = "vmvga";
        if (auto n = ParseDecimal(Get("svga.vramSize"))) v.vram_bytes = *n;
        if (auto h = ParseDecimal(Get("svga.numDisplays")); h && *h < 64) {
          v.heads = static_cast<int>(*h);
        }
        v.accel3d = IsTrue("mks.enable3d");
        vm->video = v;
      }
    }
    Consume("svga.");
    Consume("vtpm.");
  }

  // Whether a key belongs to a device read above: its part up to the first
  // dot ("ethernet0.", "scsi0:1.") was consumed, or it is a USB device.
  bool IsConsumed(const std::string& lower) const {
    size_t dot = lower.find('.');
    if (dot != std::string::npos &&
        consumed_prefixes_.count(lower.substr(0, dot + 1)) != 0) {
      return true;
    }
    for (const char* p : {"usb:", "ehci:", "usb_xhci:"}) {
      if (lower.rfind(p, 0) == 0) return true;
    }
    return false;
  }

  // Keys no field holds stay in extra_config, as written, in file order.
  void KeepTheRest(VmSpec* vm) {
    for (const Entry& e : entries_) {
      std::string lower = Lower(e.key);
      if (used_.count(lower) != 0) continue;
      if (IsConsumed(lower)) continue;
      vm->extra_config.emplace_back(e.key, e.value);
    }
  }

  Diagnostics* diag_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
  std::set<std::string> used_;
  std::set<std::string> consumed_prefixes_;
};

}  // namespace

Result<ApplianceSpec> ParseVmx(std::string_view text,
                               Diagnostics* diagnostics) {
  return VmxReader(diagnostics).Read(text);
}

}  // namespace ova2virt
