// VmSpec: the neutral model of a virtual machine, between every reader and
// every writer (OVF, VMX, libvirt domain XML). It describes the machine, not
// a format: sizes in bytes, optional for what a source may leave out, and
// enums with an "other" case that keeps the raw value. Readers parse
// faithfully into it; policy (pipeline/) decides what to do with it.
#ifndef OVA2VIRT_CORE_VMSPEC_H_
#define OVA2VIRT_CORE_VMSPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ova2virt {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

enum class Firmware { kUnknown, kBios, kEfi };

struct OsInfo {
  std::optional<int> cim_id;    // OVF OperatingSystemSection ovf:id (CIM)
  std::string cim_description;  // its Description
  std::string version;          // ovf:version on the section, if any
  std::string vmware_os_type;   // vmw:osType / .vmx guestOS ("ubuntu64Guest")
  std::string virtualbox_os_type;  // vbox:OSType ("Ubuntu_64")
  std::string libosinfo_id;        // short id where one maps ("ubuntu22.04")
};

enum class ControllerKind { kIde, kSata, kScsi, kNvme, kVirtio, kOther };

// Concrete controller models; kUnspecified when a source only names the kind.
enum class ControllerModel {
  kUnspecified,
  kPiix3,
  kPiix4,
  kIch6,
  kAhci,
  kLsiLogic,     // LSI Logic parallel (lsilogic)
  kLsiLogicSas,  // LSI Logic SAS 1068 (lsilogicsas)
  kBusLogic,
  kPvscsi,  // VMware paravirtual SCSI (VirtualSCSI)
  kVirtioScsi,
  kNvme,
  kOther,
};

struct Controller {
  std::string id;  // unique within the VM: OVF InstanceID, "scsi0", ...
  ControllerKind kind = ControllerKind::kOther;
  ControllerModel model = ControllerModel::kUnspecified;
  std::string raw_model;  // what the source said ("lsilogicsas", "PIIX4")
  int bus = 0;            // index among controllers of its kind
};

enum class DiskDevice { kDisk, kCdrom, kFloppy };

// What a disk image's bytes are.
enum class ImageFormat {
  kUnknown,
  kVmdkStreamOptimized,
  kVmdkMonolithicSparse,
  kVmdk,  // some other or unstated VMDK variant (descriptor decides)
  kQcow2,
  kRaw,
  kIso,
  kVhd,
  kVhdx,
  kVdi,
  kOther,
};

// Where a disk's content comes from, as the source describes it.
struct ImageSource {
  std::string disk_id;  // OVF DiskSection ovf:diskId, if any
  std::string file_id;  // OVF File ovf:id (References), if any
  std::string href;     // path in the package, relative; or a host path
  ImageFormat format = ImageFormat::kUnknown;
  std::string raw_format;              // OVF ovf:format URI, vmx/libvirt type
  std::optional<uint64_t> size;        // bytes of the file as stored
  std::string compression;             // "" or "gzip"
  std::optional<uint64_t> chunk_size;  // ovf:chunkSize: stored in pieces
  std::string pool;    // libvirt pool holding it (export), if any
  std::string volume;  // libvirt volume name (export), if any
};

struct Disk {
  std::string id;  // OVF diskId / item InstanceID, vmx "scsi0:0"
  DiskDevice device = DiskDevice::kDisk;
  std::string label;                       // ElementName
  std::optional<uint64_t> capacity;        // virtual size in bytes
  std::optional<uint64_t> populated_size;  // bytes in use, if stated
  std::string controller_id;               // Controller::id; empty: none
  std::optional<int> unit;                 // AddressOnParent
  std::optional<int> boot_order;           // 1 = first
  ImageSource source;     // empty href: an empty CD/floppy drive
  std::string parent_id;  // delta disk: Disk::id of its parent
  bool read_only = false;
};

enum class NicModel {
  kUnspecified,
  kE1000,
  kE1000e,
  kVmxnet3,
  kVmxnet2,
  kVlance,
  kPcnet,
  kVirtio,
  kRtl8139,
  kOther,
};

struct Nic {
  std::string id;
  std::string label;
  std::string network;  // source network name (OVF Connection, vmx)
  NicModel model = NicModel::kUnspecified;
  std::string raw_model;
  std::string mac;  // "00:50:56:aa:bb:cc" lower case; empty: generate
  bool connected = true;
};

struct SerialPort {
  int index = 0;
  std::string type;    // "file", "pipe", "network", "device", "pty", ...
  std::string target;  // path, URI or pipe name
};

struct UsbController {
  std::string model;  // "uhci", "ehci", "xhci", or what the source said
};

struct SoundCard {
  std::string model;  // "ensoniq1371", "hda", "ac97", "sb16", ...
};

struct Video {
  std::string model;  // "vmvga", "vga", "qxl", "virtio", ...
  std::optional<uint64_t> vram_bytes;
  std::optional<int> heads;
  bool accel3d = false;
};

struct Tpm {
  std::string version;  // "2.0"
};

struct Property {
  std::string key;          // ovf:key
  std::string class_id;     // ProductSection ovf:class
  std::string instance_id;  // ProductSection ovf:instance
  std::string type;         // "string", "boolean", "uint16", "real"...
  std::string qualifiers;   // "MinLen(1) MaxLen(64)", "ValueMap{...}"
  std::optional<std::string> default_value;
  bool user_configurable = false;
  bool password = false;
  std::string label;
  std::string description;
  std::string category;
  // "class.key.instance" as the OVF environment names it.
  std::string FullKey() const;
};

struct ProductInfo {
  std::string class_id;
  std::string instance_id;
  std::string info;
  std::string product;
  std::string vendor;
  std::string version;
  std::string full_version;
  std::string product_url;
  std::string vendor_url;
  std::string app_url;
  std::vector<Property> properties;
};

// Anything a reader did not understand, kept verbatim (and warned about).
struct UnknownItem {
  std::string where;  // "VirtualHardwareSection item 7", "vmx key foo"
  std::string kind;   // ResourceType, section name, ...
  KeyValues fields;
};

struct VmSpec {
  std::string id;           // OVF VirtualSystem ovf:id
  std::string name;         // Name element, vmx displayName, domain name
  std::string description;  // annotation
  std::string info;
  std::string uuid;         // source UUID, if stated
  std::string system_type;  // vssd:VirtualSystemType: "vmx-10 vmx-13"

  std::optional<uint32_t> vcpus;
  std::optional<uint32_t> cores_per_socket;
  std::optional<uint32_t> threads_per_core;
  std::optional<uint64_t> memory_bytes;

  Firmware firmware = Firmware::kUnknown;
  bool secure_boot = false;
  OsInfo os;

  std::vector<Controller> controllers;
  std::vector<Disk> disks;  // hard disks, CD/DVD drives, floppies
  std::vector<Nic> nics;
  std::vector<SerialPort> serial_ports;
  std::vector<UsbController> usb_controllers;
  std::vector<SoundCard> sound_cards;
  std::optional<Video> video;
  std::string nvram_href;  // NVRAM file in the package, if any
  std::optional<Tpm> tpm;

  std::vector<ProductInfo> products;
  std::vector<std::string> eulas;
  std::string
      environment_transport;  // ovf:transport: "iso", "com.vmware.guestInfo"
  KeyValues extra_config;     // vmw:ExtraConfig, vmx keys we keep as-is
  // VMware virtual-machine settings (vmw:Config on the hardware section,
  // such as "cpuHotAddEnabled") that no field above holds.
  KeyValues vmware_config;
  std::vector<UnknownItem> unknown_items;

  // The sockets implied by vCPUs and cores per socket (1 if unknown).
  uint32_t Sockets() const;
  const Controller* FindController(std::string_view id) const;
};

// A package-level file reference (OVF References/File).
struct FileRef {
  std::string id;
  std::string href;
  std::optional<uint64_t> size;
  std::string compression;
  std::optional<uint64_t> chunk_size;
};

struct NetworkDef {
  std::string name;
  std::string description;
};

struct DeploymentOption {
  std::string id;
  std::string label;
  std::string description;
  bool is_default = false;
};

struct StartupEntry {
  std::string id;  // VirtualSystem id
  std::optional<int> order;
  std::optional<int> start_delay;
  std::optional<int> stop_delay;
  bool wait_for_guest = false;
  std::string start_action;
  std::string stop_action;
};

// Everything one descriptor describes: one VirtualSystem or a collection.
struct ApplianceSpec {
  std::string ovf_version;  // "0.9", "1.0", "2.0"; "vmx" for a .vmx
  std::string name;         // the collection's, or the single system's
  std::vector<FileRef> files;
  std::vector<NetworkDef> networks;
  std::vector<DeploymentOption> deployment_options;
  std::string deployment;  // the option whose items were applied
  std::vector<StartupEntry> startup;
  std::vector<ProductInfo> products;  // on the collection itself
  std::vector<std::string> eulas;     // on the collection itself
  std::string annotation;             // on the collection itself
  // Envelope- and collection-level sections no field holds, kept verbatim.
  std::vector<UnknownItem> unknown_sections;
  std::vector<VmSpec> systems;
};

// One name table per enum: the stable lower-case spelling used in dumps,
// JSON and docs, and its parser (nullopt for an unknown name).
std::string_view ToString(Firmware v);
std::string_view ToString(ControllerKind v);
std::string_view ToString(ControllerModel v);
std::string_view ToString(DiskDevice v);
std::string_view ToString(ImageFormat v);
std::string_view ToString(NicModel v);
std::optional<Firmware> ParseFirmware(std::string_view s);
std::optional<ControllerKind> ParseControllerKind(std::string_view s);
std::optional<ControllerModel> ParseControllerModel(std::string_view s);
std::optional<DiskDevice> ParseDiskDevice(std::string_view s);
std::optional<ImageFormat> ParseImageFormat(std::string_view s);
std::optional<NicModel> ParseNicModel(std::string_view s);

// The controller kind a model belongs to (kOther for unspecified/other).
ControllerKind KindOfModel(ControllerModel model);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_VMSPEC_H_
