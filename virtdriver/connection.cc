#include "virtdriver/connection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/cancel.h"
#include "core/checked_math.h"
#include "core/file.h"
#include "core/xml.h"
#include "virtdriver/connection_impl.h"
#include "virtdriver/libvirt_faults.h"

namespace ova2virt {
namespace {

using virt::LastError;
using virt::LastErrorCode;
using virt::TakeString;

// Keepalive on remote connections: a probe every 5 s, dead after 3
// unanswered.
constexpr int kKeepAliveInterval = 5;
constexpr unsigned kKeepAliveCount = 3;
// A pool refresh refused for another volume's create in flight is retried
// every 250 ms for up to 2 minutes (a create of a large preallocated
// volume takes long).
constexpr int kRefreshRetries = 480;

// The embedded driver dispatches through libvirt's event loop, which must
// exist before the connection opens and run for the process's life.
void StartEventLoopOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    virEventRegisterDefaultImpl();
    std::thread([] {
      while (true) virEventRunDefaultImpl();
    }).detach();
  });
}

// The embedded driver's qemu.conf. stdio_handler = "file": without it the
// driver wants virtlogd's socket for QEMU's output. As root, where only
// root may open /dev/kvm (mode 0600), QEMU running as libvirt-qemu cannot
// use KVM although libvirt's capability probe saw it; libvirt then finds
// its cache stale and re-probes QEMU (seconds) on every call. Run QEMU as
// root there.
std::string EmbeddedQemuConf() {
  // remember_owner: the embedded driver's images are its own, made for this
  // run; remembering their owners in xattrs only yields stale-xattr
  // warnings later.
  std::string conf = "stdio_handler = \"file\"\nremember_owner = 0\n";
  if (geteuid() == 0 && EmbeddedQemuRunsAsRoot()) {
    conf += "user = \"root\"\ngroup = \"root\"\n";
  }
  return conf;
}

// Percent-encodes a path for a URI query value.
std::string UriEscape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '-' ||
                 c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Why virConnectOpen failed, in one line; when no daemon answered (its
// socket is missing or refuses), how to start one.
Status ConnectError(const std::string& uri) {
  int code = LastErrorCode();
  Status s = LastError("cannot connect to " +
                       Quote(uri.empty() ? "libvirt's default URI" : uri));
  const std::string& m = s.message();
  bool no_daemon = code == VIR_ERR_NO_CONNECT || code == VIR_ERR_SYSTEM_ERROR ||
                   code == VIR_ERR_OPERATION_FAILED;
  // libvirt: "Failed to connect socket to '/run/libvirt/...': ...".
  bool socket_failed = m.find("connect socket") != std::string::npos;
  if (!no_daemon || !socket_failed || !IsLocalUri(uri)) return s;
  bool session = uri.find("/session") != std::string::npos;
  return Status(s.code(),
                s.message() + " (is libvirt running? start it with " +
                    (session ? "'virtqemud --daemon' or 'libvirtd -d' as "
                               "yourself"
                             : "'systemctl start libvirtd', or 'libvirtd "
                               "-d' where there is no systemd") +
                    ")");
}

}  // namespace

LibvirtConnection::Impl::~Impl() {
  if (embedded_) {
    // Embedded domains belong to this process: stop them rather than leave
    // QEMU processes nobody manages.
    virDomainPtr* domains = nullptr;
    int n = virConnectListAllDomains(conn_, &domains,
                                     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    for (int i = 0; i < n; ++i) {
      virDomainDestroy(domains[i]);
      virDomainFree(domains[i]);
    }
    free(domains);
    virResetLastError();
  }
  virConnectClose(conn_);
}

Result<virt::PoolHandle> LibvirtConnection::Impl::Pool(
    const std::string& name) {
  virt::PoolHandle p(virStoragePoolLookupByName(conn_, name.c_str()));
  if (!p) return LastError("pool " + Quote(name));
  return p;
}

Result<virt::VolHandle> LibvirtConnection::Impl::Vol(const std::string& pool,
                                                     const std::string& name) {
  ASSIGN_OR_RETURN(virt::PoolHandle p, Pool(pool));
  virt::VolHandle v(virStorageVolLookupByName(p.get(), name.c_str()));
  if (!v) return LastError("volume " + Quote(pool + "/" + name));
  return v;
}

Result<virt::DomainHandle> LibvirtConnection::Impl::Domain(
    const std::string& name) {
  virt::DomainHandle d(virDomainLookupByName(conn_, name.c_str()));
  if (!d) return LastError("domain " + Quote(name));
  return d;
}

LibvirtConnection::LibvirtConnection(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
LibvirtConnection::~LibvirtConnection() = default;

namespace {

// The embedded driver's root as `run` wants it: DIR/etc/qemu.conf written
// unless one exists (without it libvirt re-probes QEMU on every open: 101 s
// against 9.4 s for one import, issue 14), and, as root, DIR passable by
// the user QEMU runs as.
Status PrepareEmbeddedRoot(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::create_directories(root / "etc", ec);
  if (ec) return ErrnoError((root / "etc").string(), ec.value());
  std::string conf = (root / "etc" / "qemu.conf").string();
  if (!std::filesystem::exists(conf)) {
    ASSIGN_OR_RETURN(File f, File::CreateExclusive(conf, 0644));
    RETURN_IF_ERROR(f.WriteAll(AsBytes(EmbeddedQemuConf())));
    RETURN_IF_ERROR(f.Close());
  }
  // QEMU runs as libvirt-qemu when we are root: it must reach the root.
  if (geteuid() == 0) chmod(root.c_str(), 0711);
  return OkStatus();
}

// The root=DIR of "qemu:///embed?root=DIR[&...]", percent-decoded; empty
// when there is none.
std::string EmbedRootOf(std::string_view uri) {
  size_t q = uri.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = uri.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (part.substr(0, 5) == "root=") {
      std::string out;
      std::string_view v = part.substr(5);
      for (size_t i = 0; i < v.size(); ++i) {
        auto hex = [](char c) {
          return c >= '0' && c <= '9'   ? c - '0'
                 : c >= 'a' && c <= 'f' ? c - 'a' + 10
                 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : -1;
        };
        if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 &&
            hex(v[i + 2]) >= 0) {
          out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& uri) {
  virt::InitLibvirt();
  // One event loop per process (the embedded driver's too): the embedded
  // driver dispatches through it, and without it libvirt disables
  // keepalive on remote connections ("Failed to add event watch").
  StartEventLoopOnce();
  // An embedded driver named by URI gets its root prepared as OpenEmbedded
  // prepares it.
  bool embedded = uri.rfind("qemu:///embed", 0) == 0;
  if (embedded) {
    std::string root = EmbedRootOf(uri);
    if (!root.empty() && root[0] == '/') {
      RETURN_IF_ERROR(PrepareEmbeddedRoot(root));
    }
  }
  virConnectPtr c = virConnectOpen(uri.empty() ? nullptr : uri.c_str());
  if (!c) return ConnectError(uri);
  // A host that stops answering (daemon frozen or gone, TCP still up) is
  // noticed within about 5 s x 3 and its calls and streams fail, instead
  // of waiting for TCP's own timeout or forever. Drivers without keepalive
  // (test, embedded) refuse: nothing to do there.
  if (virConnectSetKeepAlive(c, kKeepAliveInterval, kKeepAliveCount) < 0) {
    virResetLastError();
  }
  return std::unique_ptr<Connection>(new LibvirtConnection(
      std::make_unique<LibvirtConnection::Impl>(c, embedded)));
}

bool EmbeddedQemuRunsAsRoot() {
  if (geteuid() != 0) return false;
  struct stat st;
  return stat("/dev/kvm", &st) == 0 && (st.st_mode & 0066) == 0;
}

Result<std::unique_ptr<Connection>> Connection::OpenEmbedded(
    const std::string& root_dir) {
  virt::InitLibvirt();
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(root_dir, ec);
  if (ec) return ErrnoError(root_dir, ec.value());
  RETURN_IF_ERROR(PrepareEmbeddedRoot(root));
  StartEventLoopOnce();
  std::string uri = "qemu:///embed?root=" + UriEscape(root.string());
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (!c) return LastError("cannot open the embedded qemu driver");
  return std::unique_ptr<Connection>(new LibvirtConnection(
      std::make_unique<LibvirtConnection::Impl>(c, true)));
}

std::string LibvirtConnection::Uri() const {
  return TakeString(virConnectGetURI(impl_->conn()));
}

bool IsLocalUri(std::string_view uri) {
  // "driver[+transport]://[user@]host/path": local when there is no host
  // and no transport but unix.
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return true;
  std::string_view scheme = uri.substr(0, scheme_end);
  size_t plus = scheme.find('+');
  if (plus != std::string_view::npos && scheme.substr(plus + 1) != "unix") {
    return false;
  }
  size_t host_start = scheme_end + 3;
  return host_start >= uri.size() || uri[host_start] == '/';
}

bool LibvirtConnection::IsAlive() const {
  int alive = virConnectIsAlive(impl_->conn());
  if (alive < 0) virResetLastError();
  return alive == 1;
}

bool LibvirtConnection::IsLocal() const {
  return impl_->embedded() || IsLocalUri(Uri());
}

bool LibvirtConnection::HasStorageDriver() {
  int n = virConnectNumOfStoragePools(impl_->conn());
  virResetLastError();
  return n >= 0;
}

Result<DomainCapabilities> LibvirtConnection::Capabilities() {
  DomainCapabilities caps;
  std::string xml = TakeString(virConnectGetCapabilities(impl_->conn()));
  if (xml.empty()) return LastError("capabilities");
  ASSIGN_OR_RETURN(HostGuestCaps guests, ParseHostGuestCaps(xml));
  caps.kvm = guests.kvm;
  caps.qemu = guests.qemu;
  caps.machines = std::move(guests.machines);
  // Firmware and buses come from domain capabilities, which test:/// lacks.
  const char* type = caps.kvm ? "kvm" : "qemu";
  std::string dxml = TakeString(virConnectGetDomainCapabilities(
      impl_->conn(), nullptr, "x86_64", "q35", type, 0));
  virResetLastError();
  if (dxml.empty()) return caps;
  ASSIGN_OR_RETURN(DomainCapsXml offered, ParseDomainCapsXml(dxml));
  caps.efi = offered.efi;
  caps.secure_boot = offered.secure_boot;
  caps.disk_buses = std::move(offered.disk_buses);
  return caps;
}

Result<bool> LibvirtConnection::NetworkIsActive(const std::string& name) {
  virt::NetworkHandle n(virNetworkLookupByName(impl_->conn(), name.c_str()));
  if (!n) return LastError("network " + Quote(name));
  int active = virNetworkIsActive(n.get());
  if (active < 0) return LastError("network " + Quote(name));
  return active == 1;
}

Result<std::optional<EmulatorIdentity>> LibvirtConnection::Emulator(
    const std::string& virt_type) {
  std::string xml = TakeString(virConnectGetCapabilities(impl_->conn()));
  if (xml.empty()) return LastError("capabilities");
  return ParseDacBaseLabel(xml, virt_type);
}

Result<bool> LibvirtConnection::NetworkExists(const std::string& name) {
  virt::NetworkHandle n(virNetworkLookupByName(impl_->conn(), name.c_str()));
  if (n) return true;
  if (LastErrorCode() == VIR_ERR_NO_NETWORK) {
    virResetLastError();
    return false;
  }
  return LastError("network " + Quote(name));
}

namespace {

// Frees libvirt's array of handles, keeping the names.
template <typename T, typename NameFn, typename FreeFn>
std::vector<std::string> TakeNames(T** items, int n, NameFn name,
                                   FreeFn free_fn) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const char* s = name(items[i]);
    if (s) out.push_back(s);
    free_fn(items[i]);
  }
  free(items);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::vector<std::string>> LibvirtConnection::ListNetworkNames() {
  virNetworkPtr* items = nullptr;
  int n = virConnectListAllNetworks(impl_->conn(), &items, 0);
  if (n < 0) return LastError("networks");
  return TakeNames(items, n, virNetworkGetName, virNetworkFree);
}

Result<std::vector<std::string>> LibvirtConnection::ListPoolNames() {
  virStoragePoolPtr* items = nullptr;
  int n = virConnectListAllStoragePools(impl_->conn(), &items, 0);
  if (n < 0) return LastError("pools");
  return TakeNames(items, n, virStoragePoolGetName, virStoragePoolFree);
}

Result<std::vector<std::string>> LibvirtConnection::ListDomainNames() {
  virDomainPtr* items = nullptr;
  int n = virConnectListAllDomains(impl_->conn(), &items, 0);
  if (n < 0) return LastError("domains");
  return TakeNames(items, n, virDomainGetName, virDomainFree);
}

Result<bool> LibvirtConnection::BridgeExists(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." ||
      name == "..") {
    return false;
  }
  if (IsLocal()) {
    return std::filesystem::exists("/sys/class/net/" + name + "/bridge");
  }
  virInterfacePtr i = virInterfaceLookupByName(impl_->conn(), name.c_str());
  if (i) {
    virInterfaceFree(i);
    return true;
  }
  int code = LastErrorCode();
  if (code == VIR_ERR_NO_INTERFACE) {
    virResetLastError();
    return false;
  }
  return LastError("bridge " + Quote(name));
}

// --- storage

Result<Pool> LibvirtConnection::LookupPool(const std::string& name) {
  ASSIGN_OR_RETURN(virt::PoolHandle p, impl_->Pool(name));
  Pool out;
  out.name = name;
  virStoragePoolInfo info;
  if (virStoragePoolGetInfo(p.get(), &info) < 0) {
    return LastError("pool " + Quote(name));
  }
  out.active = info.state == VIR_STORAGE_POOL_RUNNING ||
               info.state == VIR_STORAGE_POOL_DEGRADED;
  out.capacity = info.capacity;
  out.available = info.available;
  int autostart = 0;
  out.autostart =
      virStoragePoolGetAutostart(p.get(), &autostart) == 0 && autostart == 1;
  virResetLastError();
  std::string xml = TakeString(virStoragePoolGetXMLDesc(p.get(), 0));
  if (xml.empty()) return LastError("pool " + Quote(name));
  ASSIGN_OR_RETURN(PoolXml described, ParsePoolXml(xml));
  out.type = described.type;
  out.target_path = described.target_path;
  bool file_backed = out.type == "dir" || out.type == "fs" ||
                     out.type == "netfs" || out.type == "logical" ||
                     out.type == "disk";
  out.is_local = file_backed && IsLocal() && !out.target_path.empty();
  return out;
}

Result<Pool> LibvirtConnection::CreateDirPool(const std::string& name,
                                              const std::string& path,
                                              bool autostart) {
  XmlWriter w = XmlWriter::Fragment();
  w.Open("pool").Attr("type", "dir").Leaf("name", name);
  w.Open("target").Leaf("path", path).Close();
  std::string xml = w.Finish();
  std::string where = "pool " + Quote(name);
  virt::PoolHandle p(virStoragePoolDefineXML(impl_->conn(), xml.c_str(), 0));
  if (!p) return LastError(where);
  if (virStoragePoolBuild(p.get(), 0) < 0 ||
      virStoragePoolCreate(p.get(), 0) < 0 ||
      (autostart && virStoragePoolSetAutostart(p.get(), 1) < 0)) {
    Status s = LastError(where);
    if (virStoragePoolIsActive(p.get()) == 1) virStoragePoolDestroy(p.get());
    virStoragePoolUndefine(p.get());
    virResetLastError();
    return s;
  }
  return LookupPool(name);
}

Status LibvirtConnection::DestroyPool(const std::string& name) {
  ASSIGN_OR_RETURN(virt::PoolHandle p, impl_->Pool(name));
  if (virStoragePoolIsActive(p.get()) == 1 &&
      virStoragePoolDestroy(p.get()) < 0) {
    return LastError("pool " + Quote(name));
  }
  if (virStoragePoolIsPersistent(p.get()) == 1 &&
      virStoragePoolUndefine(p.get()) < 0) {
    return LastError("pool " + Quote(name));
  }
  return OkStatus();
}

Result<bool> LibvirtConnection::VolumeExists(const std::string& pool,
                                             const std::string& name) {
  ASSIGN_OR_RETURN(virt::PoolHandle p, impl_->Pool(pool));
  virt::VolHandle v(virStorageVolLookupByName(p.get(), name.c_str()));
  if (v) return true;
  if (LastErrorCode() == VIR_ERR_NO_STORAGE_VOL) {
    virResetLastError();
    return false;
  }
  return LastError("volume " + Quote(pool + "/" + name));
}

Result<Volume> LibvirtConnection::LookupVolume(const std::string& pool,
                                               const std::string& name) {
  ASSIGN_OR_RETURN(virt::VolHandle v, impl_->Vol(pool, name));
  std::string where = "volume " + Quote(pool + "/" + name);
  Volume out;
  out.pool = pool;
  out.name = name;
  out.path = TakeString(virStorageVolGetPath(v.get()));
  virStorageVolInfo info;
  if (virStorageVolGetInfo(v.get(), &info) < 0) return LastError(where);
  out.capacity = info.capacity;
  out.allocation = info.allocation;
  std::string xml = TakeString(virStorageVolGetXMLDesc(v.get(), 0));
  if (xml.empty()) return LastError(where);
  ASSIGN_OR_RETURN(VolumeXml described, ParseVolumeXml(xml));
  out.format = std::move(described.format);
  out.mtime_ns = described.mtime_ns;
  return out;
}

Result<Volume> LibvirtConnection::LookupVolumeByPath(const std::string& path) {
  virt::VolHandle v(virStorageVolLookupByPath(impl_->conn(), path.c_str()));
  if (!v) return LastError("no volume at " + Quote(path));
  virt::PoolHandle p(virStoragePoolLookupByVolume(v.get()));
  if (!p) return LastError("volume " + Quote(path));
  const char* pool = virStoragePoolGetName(p.get());
  const char* name = virStorageVolGetName(v.get());
  return LookupVolume(pool ? pool : "", name ? name : "");
}

Result<Volume> LibvirtConnection::CreateVolume(const std::string& pool,
                                               const std::string& name,
                                               uint64_t capacity,
                                               const std::string& format) {
  if (format != "raw" && format != "qcow2") {
    return UsageError("volume format " + Quote(format) +
                      " is not raw or qcow2");
  }
  ASSIGN_OR_RETURN(virt::PoolHandle p, impl_->Pool(pool));
  std::string where = "volume " + Quote(pool + "/" + name);
  {
    virt::VolHandle existing(virStorageVolLookupByName(p.get(), name.c_str()));
    virResetLastError();
    if (existing) return ExistsError(where + " already exists");
  }
  // A qcow2 image arrives whole (our writer makes it); an empty raw file
  // receives it, and libvirt probes the format on the refresh that follows
  // the upload. Creating a qcow2 here would leave libvirt's own header
  // bytes past the end of a shorter image.
  bool whole_image = format == "qcow2";
  XmlWriter w = XmlWriter::Fragment();
  w.Open("volume").Leaf("name", name);
  w.Open("capacity").Attr("unit", "bytes");
  w.Text(std::to_string(whole_image ? 0 : capacity)).Close();
  w.Open("allocation").Attr("unit", "bytes").Text("0").Close();
  w.Open("target");
  w.Open("format").Attr("type", "raw").Close();
  w.Open("permissions").Leaf("mode", "0600").Close();
  w.Close();
  std::string xml = w.Finish();
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kCreate, false, where));
  virt::VolHandle v(virStorageVolCreateXML(p.get(), xml.c_str(), 0));
  if (!v) return LastError(where);
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kCreate, true, where));
  Volume out;
  out.pool = pool;
  out.name = name;
  out.path = TakeString(virStorageVolGetPath(v.get()));
  out.format = format;
  out.capacity = capacity;
  return out;
}

Status LibvirtConnection::DeleteVolume(const std::string& pool,
                                       const std::string& name) {
  ASSIGN_OR_RETURN(virt::VolHandle v, impl_->Vol(pool, name));
  std::string where = "volume " + Quote(pool + "/" + name);
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kDelete, false, where));
  if (virStorageVolDelete(v.get(), 0) < 0) return LastError(where);
  return InjectedLibvirtFault(LibvirtStep::kDelete, true, where);
}

Status LibvirtConnection::RefreshPool(const std::string& pool) {
  ASSIGN_OR_RETURN(virt::PoolHandle p, impl_->Pool(pool));
  std::string where = "pool " + Quote(pool);
  RETURN_IF_ERROR(InjectedLibvirtFault(LibvirtStep::kRefresh, false, where));
  // libvirt refuses to refresh a pool while a volume of it is being
  // created ("has asynchronous jobs running"): another import into the
  // same pool. Wait for it, a bounded time (issue 15).
  for (int attempt = 0;; ++attempt) {
    if (virStoragePoolRefresh(p.get(), 0) == 0) break;
    Status s = LastError(where);
    if (s.message().find("asynchronous jobs running") == std::string::npos ||
        attempt >= kRefreshRetries) {
      return s;
    }
    RETURN_IF_ERROR(CheckCancelled());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return InjectedLibvirtFault(LibvirtStep::kRefresh, true, where);
}

Result<std::unique_ptr<BlockSink>> LibvirtConnection::OpenUpload(
    const std::string& pool, const std::string& name, UploadHoles holes) {
  ASSIGN_OR_RETURN(virt::VolHandle v, impl_->Vol(pool, name));
  return MakeUploadSink(impl_->conn(), std::move(v),
                        "volume " + Quote(pool + "/" + name),
                        holes == UploadHoles::kSparse);
}

Result<std::unique_ptr<RandomAccessSource>> LibvirtConnection::OpenDownload(
    const std::string& pool, const std::string& name) {
  ASSIGN_OR_RETURN(virt::VolHandle v, impl_->Vol(pool, name));
  return MakeDownloadSource(impl_->conn(), std::move(v),
                            "volume " + Quote(pool + "/" + name));
}

}  // namespace ova2virt
