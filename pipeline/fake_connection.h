// FakeConnection: a Connection (virtdriver/connection.h) held in memory,
// for unit tests of the use cases without a libvirt daemon, as ninja tests
// its builder on a VirtualFileSystem and LevelDB its DB on an in-memory Env
// that fails on request. It keeps pools, volumes (with what was uploaded
// into them) and domains, records every call in order ("CreateVolume
// default/vm-disk1.qcow2"), and fails the Nth call of a kind when told to:
// before its effect (nothing happened) or after it (the effect is done and
// the reply is lost, as when a daemon acts and the connection drops).
//
// A kind is the method's name; the streams add "UploadWrite" (each WriteAt
// and SetSize of an upload), "UploadClose" and "DownloadRead". Header-only:
// no library code depends on it.
#ifndef OVA2VIRT_PIPELINE_FAKE_CONNECTION_H_
#define OVA2VIRT_PIPELINE_FAKE_CONNECTION_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "virtdriver/connection.h"
#include "virtdriver/console.h"

namespace ova2virt::testing {

class FakeConnection : public Connection {
 public:
  struct FakeVolume {
    Volume info;
    std::string data;        // what was written, from offset 0
    uint64_t size = 0;       // the stream's size (SetSize or the last write)
    int uploads_closed = 0;  // uploads finished with Close()
  };
  struct FakeDomain {
    std::string xml;  // as defined, with a <uuid> added if it had none
    bool running = false;
    bool paused = false;
  };
  // Volumes hold at most this many bytes of data (test disks are small).
  static constexpr uint64_t kMaxVolumeData = 64u << 20;

  // A host with one active local-looking pool "default" at /fake/images
  // (the pool is not local to this process: uploads go through streams),
  // the network "default" running, kvm and q35 on offer.
  FakeConnection() {
    Pool p;
    p.name = "default";
    p.type = "dir";
    p.target_path = "/fake/images";
    p.capacity = 100ull << 30;
    p.available = 50ull << 30;
    p.active = true;
    pools[p.name] = p;
    networks["default"] = true;
    capabilities.kvm = true;
    capabilities.qemu = true;
    capabilities.machines = {"pc-q35-8.2", "q35", "pc-i440fx-8.2", "pc"};
    capabilities.efi = true;
    capabilities.secure_boot = true;
    capabilities.disk_buses = {"ide", "fdc", "scsi", "virtio", "usb", "sata"};
  }

  // --- what the host holds; tests may set it up directly before a call.
  std::string uri = "fake:///system";
  bool local = false;  // IsLocal(): volumes are uploaded when false
  bool storage_driver = true;
  DomainCapabilities capabilities;
  std::optional<EmulatorIdentity> emulator;
  std::map<std::string, Pool> pools;
  std::map<std::pair<std::string, std::string>, FakeVolume> volumes;
  std::map<std::string, FakeDomain> domains;
  std::map<std::string, bool> networks;  // name -> active
  std::set<std::string> bridges;

  // --- the call log and the faults
  // Every call, in order: "KIND" plus its arguments.
  std::vector<std::string> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // The calls of one kind made so far.
  int CountOf(const std::string& kind) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(kind);
    return it == counts_.end() ? 0 : it->second;
  }
  // Fails the `nth` (1-based) call of `kind` from now on (counts are not
  // reset) with `code` and "KIND: libvirt: injected failure (call N)";
  // `after`: the call's effect is done first (a lost reply).
  void FailNth(const std::string& kind, int nth, bool after = false,
               ErrorCode code = ErrorCode::kFailed) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({kind, nth, after, code});
  }
  // Forgets the calls, counts and faults (the host's state stays).
  void ResetCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
    counts_.clear();
    faults_.clear();
  }
  bool HasVolume(const std::string& pool, const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    return volumes.count({pool, name}) != 0;
  }

  // --- Connection
  std::string Uri() const override { return uri; }
  bool IsAlive() const override { return true; }
  bool IsLocal() const override { return local; }
  bool HasStorageDriver() override { return storage_driver; }
  Result<DomainCapabilities> Capabilities() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("Capabilities", ""));
    RETURN_IF_ERROR(After("Capabilities"));  // no effect to keep
    return capabilities;
  }
  Result<bool> NetworkExists(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("NetworkExists", name));
    RETURN_IF_ERROR(After("NetworkExists"));  // no effect to keep
    return networks.count(name) != 0;
  }
  Result<bool> NetworkIsActive(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("NetworkIsActive", name));
    RETURN_IF_ERROR(After("NetworkIsActive"));  // no effect to keep
    auto it = networks.find(name);
    if (it == networks.end()) return NotFound("network", name);
    return it->second;
  }
  Result<std::optional<EmulatorIdentity>> Emulator(
      const std::string& virt_type) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("Emulator", virt_type));
    RETURN_IF_ERROR(After("Emulator"));  // no effect to keep
    return emulator;
  }
  Result<std::vector<std::string>> ListNetworkNames() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("ListNetworkNames", ""));
    RETURN_IF_ERROR(After("ListNetworkNames"));  // no effect to keep
    return Keys(networks);
  }
  Result<std::vector<std::string>> ListPoolNames() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("ListPoolNames", ""));
    RETURN_IF_ERROR(After("ListPoolNames"));  // no effect to keep
    return Keys(pools);
  }
  Result<std::vector<std::string>> ListDomainNames() override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("ListDomainNames", ""));
    RETURN_IF_ERROR(After("ListDomainNames"));  // no effect to keep
    return Keys(domains);
  }
  Result<bool> BridgeExists(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("BridgeExists", name));
    RETURN_IF_ERROR(After("BridgeExists"));  // no effect to keep
    return bridges.count(name) != 0;
  }

  Result<Pool> LookupPool(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("LookupPool", name));
    RETURN_IF_ERROR(After("LookupPool"));  // no effect to keep
    auto it = pools.find(name);
    if (it == pools.end()) return NotFound("pool", name);
    return it->second;
  }
  Result<Pool> CreateDirPool(const std::string& name, const std::string& path,
                             bool autostart) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("CreateDirPool", name + " " + path));
    if (pools.count(name)) return Exists("pool", name);
    Pool p;
    p.name = name;
    p.type = "dir";
    p.target_path = path;
    p.capacity = 100ull << 30;
    p.available = 50ull << 30;
    p.active = true;
    p.autostart = autostart;
    pools[name] = p;
    RETURN_IF_ERROR(After("CreateDirPool"));
    return p;
  }
  Status DestroyPool(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("DestroyPool", name));
    if (!pools.erase(name)) return NotFound("pool", name);
    return After("DestroyPool");
  }
  Result<bool> VolumeExists(const std::string& pool,
                            const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("VolumeExists", pool + "/" + name));
    RETURN_IF_ERROR(After("VolumeExists"));  // no effect to keep
    if (!pools.count(pool)) return NotFound("pool", pool);
    return volumes.count({pool, name}) != 0;
  }
  Result<Volume> LookupVolume(const std::string& pool,
                              const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("LookupVolume", pool + "/" + name));
    RETURN_IF_ERROR(After("LookupVolume"));  // no effect to keep
    auto it = volumes.find({pool, name});
    if (it == volumes.end()) return NotFound("volume", pool + "/" + name);
    return it->second.info;
  }
  Result<Volume> LookupVolumeByPath(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("LookupVolumeByPath", path));
    RETURN_IF_ERROR(After("LookupVolumeByPath"));  // no effect to keep
    for (const auto& [key, v] : volumes) {
      if (v.info.path == path) return v.info;
    }
    return NotFound("volume", path);
  }
  Result<Volume> CreateVolume(const std::string& pool, const std::string& name,
                              uint64_t capacity,
                              const std::string& format) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("CreateVolume", pool + "/" + name));
    auto p = pools.find(pool);
    if (p == pools.end()) return NotFound("pool", pool);
    if (volumes.count({pool, name})) return Exists("volume", pool + "/" + name);
    FakeVolume v;
    v.info.pool = pool;
    v.info.name = name;
    v.info.path = p->second.target_path + "/" + name;
    v.info.format = format;
    v.info.capacity = capacity;
    // A pool whose target is a real directory (a test's) gets the volume's
    // empty file there, as a dir pool's daemon makes it.
    std::error_code ec;
    if (std::filesystem::is_directory(p->second.target_path, ec)) {
      std::ofstream(v.info.path, std::ios::binary);
    }
    volumes[{pool, name}] = v;
    RETURN_IF_ERROR(After("CreateVolume"));
    return v.info;
  }
  Status DeleteVolume(const std::string& pool,
                      const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("DeleteVolume", pool + "/" + name));
    auto v = volumes.find({pool, name});
    if (v == volumes.end()) return NotFound("volume", pool + "/" + name);
    std::error_code ec;
    std::filesystem::remove(v->second.info.path, ec);
    volumes.erase(v);
    return After("DeleteVolume");
  }
  Status RefreshPool(const std::string& pool) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("RefreshPool", pool));
    if (!pools.count(pool)) return NotFound("pool", pool);
    for (auto& [key, v] : volumes) {
      if (key.first == pool) v.info.allocation = v.data.size();
    }
    return After("RefreshPool");
  }
  Result<std::unique_ptr<BlockSink>> OpenUpload(const std::string& pool,
                                                const std::string& name,
                                                UploadHoles) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("OpenUpload", pool + "/" + name));
    RETURN_IF_ERROR(After("OpenUpload"));  // no effect to keep
    if (!volumes.count({pool, name})) {
      return NotFound("volume", pool + "/" + name);
    }
    return std::unique_ptr<BlockSink>(
        std::make_unique<Upload>(*this, std::make_pair(pool, name)));
  }
  Result<std::unique_ptr<RandomAccessSource>> OpenDownload(
      const std::string& pool, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("OpenDownload", pool + "/" + name));
    RETURN_IF_ERROR(After("OpenDownload"));  // no effect to keep
    if (!volumes.count({pool, name})) {
      return NotFound("volume", pool + "/" + name);
    }
    return std::unique_ptr<RandomAccessSource>(
        std::make_unique<Download>(*this, std::make_pair(pool, name)));
  }

  Result<bool> DomainExists(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("DomainExists", name));
    RETURN_IF_ERROR(After("DomainExists"));  // no effect to keep
    return domains.count(name) != 0;
  }
  Result<std::string> DefineDomain(const std::string& xml) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string name = Element(xml, "name");
    RETURN_IF_ERROR(Before("DefineDomain", name));
    if (name.empty()) return FailedError("libvirt: domain XML has no name");
    FakeDomain d;
    d.xml = xml;
    if (Element(xml, "uuid").empty()) {
      // libvirt completes the definition with a uuid of its own.
      size_t at = xml.find("</name>");
      if (at != std::string::npos) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d",
                      ++defines_);
        d.xml.insert(at + 7, std::string("<uuid>") + uuid + "</uuid>");
      }
    }
    auto it = domains.find(name);
    if (it != domains.end()) d.running = it->second.running;
    domains[name] = d;
    RETURN_IF_ERROR(After("DefineDomain"));
    return name;
  }
  Status StartDomain(const std::string& name, bool paused) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("StartDomain", name));
    auto it = domains.find(name);
    if (it == domains.end()) return NotFound("domain", name);
    if (it->second.running) {
      return FailedError("cannot start domain '" + name +
                         "': libvirt: domain is already running");
    }
    it->second.running = true;
    it->second.paused = paused;
    return After("StartDomain");
  }
  Status ResumeDomain(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("ResumeDomain", name));
    auto it = domains.find(name);
    if (it == domains.end()) return NotFound("domain", name);
    it->second.paused = false;
    return After("ResumeDomain");
  }
  Status DestroyDomain(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("DestroyDomain", name));
    auto it = domains.find(name);
    if (it == domains.end()) return NotFound("domain", name);
    it->second.running = it->second.paused = false;
    return After("DestroyDomain");
  }
  Status UndefineDomain(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("UndefineDomain", name));
    domains.erase(name);  // ok if already gone, as libvirt's wrapper says
    return After("UndefineDomain");
  }
  Result<DomainState> GetDomainState(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("GetDomainState", name));
    RETURN_IF_ERROR(After("GetDomainState"));  // no effect to keep
    auto it = domains.find(name);
    if (it == domains.end()) return NotFound("domain", name);
    if (!it->second.running) return DomainState::kShutoff;
    return it->second.paused ? DomainState::kPaused : DomainState::kRunning;
  }
  Result<std::string> GetDomainXml(const std::string& name,
                                   bool inactive) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(
        Before("GetDomainXml", name + (inactive ? " inactive" : "")));
    RETURN_IF_ERROR(After("GetDomainXml"));  // no effect to keep
    auto it = domains.find(name);
    if (it == domains.end()) return NotFound("domain", name);
    return it->second.xml;
  }
  Status WaitForShutoff(const std::string& name,
                        std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("WaitForShutoff", name));
    RETURN_IF_ERROR(After("WaitForShutoff"));  // no effect to keep
    auto it = domains.find(name);
    if (it != domains.end() && it->second.running) {
      return FailedError("domain '" + name + "' is still running");
    }
    return OkStatus();
  }
  Result<std::unique_ptr<Console>> OpenConsole(
      const std::string& domain) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Before("OpenConsole", domain));
    RETURN_IF_ERROR(After("OpenConsole"));  // no effect to keep
    return UnsupportedError("fake connection: no consoles");
  }

 private:
  using VolumeKey = std::pair<std::string, std::string>;
  struct Fault {
    std::string kind;
    int nth;
    bool after;
    ErrorCode code;
  };

  // Called with mu_ held.
  Status Before(const std::string& kind, const std::string& detail) {
    calls_.push_back(detail.empty() ? kind : kind + " " + detail);
    int n = ++counts_[kind];
    return Injected(kind, n, false);
  }
  Status After(const std::string& kind) {
    return Injected(kind, counts_[kind], true);
  }
  Status Injected(const std::string& kind, int n, bool after) const {
    for (const Fault& f : faults_) {
      if (f.kind == kind && f.nth == n && f.after == after) {
        return Status(f.code, kind + ": libvirt: injected failure (call " +
                                  std::to_string(n) + ")");
      }
    }
    return OkStatus();
  }
  static Status NotFound(const std::string& what, const std::string& name) {
    return NotFoundError(what + " '" + name + "': libvirt: no such " + what);
  }
  static Status Exists(const std::string& what, const std::string& name) {
    return ExistsError(what + " '" + name + "': libvirt: already exists");
  }
  template <typename Map>
  static std::vector<std::string> Keys(const Map& m) {
    std::vector<std::string> out;
    for (const auto& [k, v] : m) out.push_back(k);
    return out;
  }
  // The text of the first <tag> (the domain's own name and uuid come
  // first in the XML we define).
  static std::string Element(const std::string& xml, const std::string& tag) {
    size_t b = xml.find("<" + tag + ">");
    if (b == std::string::npos) return "";
    b += tag.size() + 2;
    size_t e = xml.find("</" + tag + ">", b);
    return e == std::string::npos ? "" : xml.substr(b, e - b);
  }

  class Upload : public BlockSink {
   public:
    Upload(FakeConnection& c, VolumeKey key) : c_(c), key_(std::move(key)) {}
    Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
      std::lock_guard<std::mutex> lock(c_.mu_);
      RETURN_IF_ERROR(c_.Before(
          "UploadWrite",
          key_.first + "/" + key_.second + " @" + std::to_string(offset)));
      auto it = c_.volumes.find(key_);
      if (it == c_.volumes.end()) return NotFound("volume", key_.second);
      FakeVolume& v = it->second;
      uint64_t end = offset + data.size();
      if (end > kMaxVolumeData) {
        return FailedError("fake volume: more data than a test should write");
      }
      if (v.data.size() < end) v.data.resize(end);
      if (!data.empty()) std::memcpy(&v.data[offset], data.data(), data.size());
      v.size = std::max(v.size, end);
      return c_.After("UploadWrite");
    }
    Status SetSize(uint64_t size) override {
      std::lock_guard<std::mutex> lock(c_.mu_);
      RETURN_IF_ERROR(c_.Before(
          "UploadWrite",
          key_.first + "/" + key_.second + " size " + std::to_string(size)));
      auto it = c_.volumes.find(key_);
      if (it == c_.volumes.end()) return NotFound("volume", key_.second);
      it->second.size = std::max(it->second.size, size);
      return c_.After("UploadWrite");
    }
    Status Close() override {
      std::lock_guard<std::mutex> lock(c_.mu_);
      RETURN_IF_ERROR(c_.Before("UploadClose", key_.first + "/" + key_.second));
      auto it = c_.volumes.find(key_);
      if (it == c_.volumes.end()) return NotFound("volume", key_.second);
      ++it->second.uploads_closed;
      return c_.After("UploadClose");
    }

   private:
    FakeConnection& c_;
    VolumeKey key_;
  };

  class Download : public RandomAccessSource {
   public:
    Download(FakeConnection& c, VolumeKey key) : c_(c), key_(std::move(key)) {
      const FakeVolume& v = c_.volumes.at(key_);
      size_ = std::max<uint64_t>(v.size, v.data.size());
    }
    uint64_t size() const override { return size_; }
    Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
      std::lock_guard<std::mutex> lock(c_.mu_);
      RETURN_IF_ERROR(c_.Before(
          "DownloadRead",
          key_.first + "/" + key_.second + " @" + std::to_string(offset)));
      auto it = c_.volumes.find(key_);
      if (it == c_.volumes.end()) return NotFound("volume", key_.second);
      if (offset >= size_) return size_t{0};
      size_t n =
          static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
      const std::string& data = it->second.data;
      for (size_t i = 0; i < n; ++i) {
        out[i] = offset + i < data.size()
                     ? static_cast<uint8_t>(data[offset + i])
                     : uint8_t{0};
      }
      RETURN_IF_ERROR(c_.After("DownloadRead"));
      return n;
    }

   private:
    FakeConnection& c_;
    VolumeKey key_;
    uint64_t size_ = 0;
  };

  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  std::map<std::string, int> counts_;
  std::vector<Fault> faults_;
  int defines_ = 0;
};

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_PIPELINE_FAKE_CONNECTION_H_
