// A libvirt connection: pools, volumes and their streams, domains. Works the
// same on qemu:///system, qemu:///session, qemu+ssh://host/system,
// qemu:///embed?root=DIR and test:///default, because everything goes
// through the public API. libvirt's errors never reach stderr: each failing
// call becomes a one-line Status ("libvirt: ...").
//
// libvirt's headers stay in connection.cc (pimpl); callers see none.
#ifndef OVA2VIRT_VIRTDRIVER_CONNECTION_H_
#define OVA2VIRT_VIRTDRIVER_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "core/status.h"
#include "virtdriver/host_xml.h"

namespace ova2virt {

class Console;

// What the host can run (domain capabilities, or the plain capabilities
// where the driver has no domain capabilities, as test:/// does).
struct DomainCapabilities {
  bool kvm = false;                     // a kvm domain type is offered
  bool qemu = false;                    // tcg ("qemu" domain type)
  std::vector<std::string> machines;    // "pc-q35-7.2", "q35", ...
  bool efi = false;                     // firmware autoselection offers efi
  bool secure_boot = false;             // ... with secure boot
  std::vector<std::string> disk_buses;  // "ide", "sata", "scsi", "virtio"...
};

struct Pool {
  std::string name;
  std::string type;                      // "dir", "fs", "logical", "netfs", ...
  std::string target_path;               // where its volumes live
  uint64_t capacity = 0, available = 0;  // bytes
  bool active = false;
  bool autostart = false;  // libvirt starts it with the daemon
  bool is_local = false;   // the volumes are files this process can open
};

struct Volume {
  std::string pool, name;
  std::string path;  // target path ("/var/lib/libvirt/images/x.qcow2")
  std::string format;
  uint64_t capacity = 0, allocation = 0;  // bytes
  // The file's modification time, where the pool reports one (file-backed
  // pools do); batch export items tell a changed remote disk by it.
  std::optional<int64_t> mtime_ns;
};

enum class DomainState {
  kNoState,
  kRunning,
  kBlocked,
  kPaused,
  kShutdown,
  kShutoff,
  kCrashed,
  kSuspended,
  kOther
};
std::string_view ToString(DomainState s);

// True when a connection URI reaches this host: no host part and no
// transport other than unix ("qemu:///system", "qemu+unix:///system?...",
// "test:///default"); false for "qemu+ssh://host/system" and friends.
bool IsLocalUri(std::string_view uri);

// True when we are root and an embedded driver we prepare runs QEMU as
// root (only root may open /dev/kvm); false when QEMU runs as libvirt's
// default user (libvirt-qemu) and must be able to reach its files.
bool EmbeddedQemuRunsAsRoot();

// The calls the use cases (pipeline/) make on a libvirt host, as an
// interface (LevelDB's Env, ninja's DiskInterface): LibvirtConnection
// (connection_impl.h, internal to virtdriver) is the real one, made by
// Open() and OpenEmbedded(); unit tests substitute an in-memory fake that
// records each call (pipeline/fake_connection.h). The promises below hold
// for every implementation.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens `uri` ("" = libvirt's default: $LIBVIRT_DEFAULT_URI, ...), with
  // keepalive (5 s x 3) where the driver has it, through the process's
  // one libvirt event loop (started on first use). A connection may be
  // shared by threads (libvirt's are thread-safe); each upload or download
  // has its own stream. When no daemon answers, the one-line error names
  // the URI and the socket that failed and says how to start libvirt.
  static Result<std::unique_ptr<Connection>> Open(const std::string& uri);
  // The embedded QEMU driver rooted at `root_dir` (created if missing): no
  // daemon; domains live only as long as this process. Writes
  // root_dir/etc/qemu.conf (stdio_handler = "file", so no virtlogd) unless
  // one exists, and runs libvirt's event loop in a thread, as the driver
  // needs. Domains still running when the connection closes are destroyed.
  // As root, root_dir is made mode 0711 so QEMU (libvirt-qemu) reaches its
  // files; QEMU runs as root where only root may open /dev/kvm.
  static Result<std::unique_ptr<Connection>> OpenEmbedded(
      const std::string& root_dir);

  virtual std::string Uri() const = 0;
  // False once the connection is lost (the host stopped answering its
  // keepalive probes, or closed it).
  virtual bool IsAlive() const = 0;
  // True when the connection reaches this host (no remote transport).
  virtual bool IsLocal() const = 0;
  // True when the driver offers storage pools (the embedded one does not).
  virtual bool HasStorageDriver() = 0;
  virtual Result<DomainCapabilities> Capabilities() = 0;

  virtual Result<bool> NetworkExists(const std::string& name) = 0;
  // Whether the network is running; kNotFound when there is none.
  virtual Result<bool> NetworkIsActive(const std::string& name) = 0;
  // The user and group the driver runs QEMU as for domain type `virt_type`
  // (capabilities: the DAC base label); nullopt when the driver reports
  // none (test:///).
  virtual Result<std::optional<EmulatorIdentity>> Emulator(
      const std::string& virt_type) = 0;
  // Names, sorted, for completion and listings: every network, pool, or
  // domain (active or not).
  virtual Result<std::vector<std::string>> ListNetworkNames() = 0;
  virtual Result<std::vector<std::string>> ListPoolNames() = 0;
  virtual Result<std::vector<std::string>> ListDomainNames() = 0;
  // Host bridges are not always libvirt objects: on a local connection
  // this checks /sys/class/net/NAME/bridge, remotely libvirt's interfaces.
  virtual Result<bool> BridgeExists(const std::string& name) = 0;

  // --- storage
  virtual Result<Pool> LookupPool(const std::string& name) = 0;
  // Defines, builds (makes the directory) and starts a directory pool;
  // with `autostart`, libvirt starts it with the daemon too (as
  // virt-install makes `default`). On failure the definition is removed.
  virtual Result<Pool> CreateDirPool(const std::string& name,
                                     const std::string& path,
                                     bool autostart = false) = 0;
  virtual Status DestroyPool(const std::string& name) = 0;  // stop and undefine
  virtual Result<bool> VolumeExists(const std::string& pool,
                                    const std::string& name) = 0;
  virtual Result<Volume> LookupVolume(const std::string& pool,
                                      const std::string& name) = 0;
  // The volume whose target is `path` (a disk path from domain XML), so
  // that export can stream it from a remote host; kNotFound when no pool
  // holds it.
  virtual Result<Volume> LookupVolumeByPath(const std::string& path) = 0;
  // Creates a volume, mode 0600. "raw": a sparse file of `capacity` bytes.
  // "qcow2": an empty file meant to receive a whole qcow2 image by upload
  // or in-place write (libvirt learns format and size from the image on
  // the refresh after the upload). kExists if the name is taken.
  virtual Result<Volume> CreateVolume(const std::string& pool,
                                      const std::string& name,
                                      uint64_t capacity,
                                      const std::string& format) = 0;
  virtual Status DeleteVolume(const std::string& pool,
                              const std::string& name) = 0;
  virtual Status RefreshPool(const std::string& pool) = 0;
  // A BlockSink writing into the volume through virStorageVolUpload
  // streams. Sequential writes stream; a gap is sent as a hole (sparse
  // streams) or zeros; a write behind the stream position finishes the
  // upload and starts another at that offset. Close() finishes it; without
  // Close() the stream is aborted.
  // `holes`: kSparse sends gaps with VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM
  // (falling back to zeros on a daemon without it); kZeros always sends
  // zeros. SetSize() can extend the volume, not shrink it.
  enum class UploadHoles { kSparse, kZeros };
  virtual Result<std::unique_ptr<BlockSink>> OpenUpload(
      const std::string& pool, const std::string& name,
      UploadHoles holes = UploadHoles::kSparse) = 0;
  // A RandomAccessSource over a volume through virStorageVolDownload (for
  // export from a remote host); sequential reads stream, a seek starts a
  // new download at that offset.
  virtual Result<std::unique_ptr<RandomAccessSource>> OpenDownload(
      const std::string& pool, const std::string& name) = 0;

  // --- domains
  virtual Result<bool> DomainExists(const std::string& name) = 0;
  // Defines (persistently) with VIR_DOMAIN_DEFINE_VALIDATE where the driver
  // supports it. Returns the domain's name.
  virtual Result<std::string> DefineDomain(const std::string& xml) = 0;
  // Starts a defined domain; `paused`: with its CPUs stopped until
  // ResumeDomain() (so a console can be attached before it prints).
  virtual Status StartDomain(const std::string& name, bool paused = false) = 0;
  virtual Status ResumeDomain(const std::string& name) = 0;
  virtual Status DestroyDomain(
      const std::string& name) = 0;  // ok if not running
  // Undefines, with its NVRAM and managed save; ok if already gone.
  virtual Status UndefineDomain(const std::string& name) = 0;
  virtual Result<DomainState> GetDomainState(const std::string& name) = 0;
  // The domain XML (inactive with `inactive`), as libvirt completed it.
  virtual Result<std::string> GetDomainXml(const std::string& name,
                                           bool inactive) = 0;
  // Polls until the domain is shut off (or, transient, gone). kFailed
  // naming its state after `timeout`; kCancelled when interrupted.
  virtual Status WaitForShutoff(const std::string& name,
                                std::chrono::milliseconds timeout) = 0;

  // The first serial console of a running domain, both ways (console.h).
  virtual Result<std::unique_ptr<Console>> OpenConsole(
      const std::string& domain) = 0;

 protected:
  Connection() = default;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_CONNECTION_H_
