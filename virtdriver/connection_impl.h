// Internal to virtdriver: the libvirt side of Connection (LibvirtConnection),
// shared by connection.cc (pools, domains) and volume_stream.cc (uploads,
// downloads).
#ifndef OVA2VIRT_VIRTDRIVER_CONNECTION_IMPL_H_
#define OVA2VIRT_VIRTDRIVER_CONNECTION_IMPL_H_

#include <memory>
#include <string>

#include "core/byte_stream.h"
#include "virtdriver/connection.h"
#include "virtdriver/libvirt_util.h"

namespace ova2virt {

// The libvirt implementation of Connection (the only one outside tests),
// made by Connection::Open() and Connection::OpenEmbedded().
class LibvirtConnection final : public Connection {
 public:
  class Impl;
  explicit LibvirtConnection(std::unique_ptr<Impl> impl);
  ~LibvirtConnection() override;

  std::string Uri() const override;
  bool IsAlive() const override;
  bool IsLocal() const override;
  bool HasStorageDriver() override;
  Result<DomainCapabilities> Capabilities() override;
  Result<bool> NetworkExists(const std::string& name) override;
  Result<bool> NetworkIsActive(const std::string& name) override;
  Result<std::optional<EmulatorIdentity>> Emulator(
      const std::string& virt_type) override;
  Result<std::vector<std::string>> ListNetworkNames() override;
  Result<std::vector<std::string>> ListPoolNames() override;
  Result<std::vector<std::string>> ListDomainNames() override;
  Result<bool> BridgeExists(const std::string& name) override;
  Result<Pool> LookupPool(const std::string& name) override;
  Result<Pool> CreateDirPool(const std::string& name, const std::string& path,
                             bool autostart) override;
  Status DestroyPool(const std::string& name) override;
  Result<bool> VolumeExists(const std::string& pool,
                            const std::string& name) override;
  Result<Volume> LookupVolume(const std::string& pool,
                              const std::string& name) override;
  Result<Volume> LookupVolumeByPath(const std::string& path) override;
  Result<Volume> CreateVolume(const std::string& pool, const std::string& name,
                              uint64_t capacity,
                              const std::string& format) override;
  Status DeleteVolume(const std::string& pool,
                      const std::string& name) override;
  Status RefreshPool(const std::string& pool) override;
  Result<std::unique_ptr<BlockSink>> OpenUpload(const std::string& pool,
                                                const std::string& name,
                                                UploadHoles holes) override;
  Result<std::unique_ptr<RandomAccessSource>> OpenDownload(
      const std::string& pool, const std::string& name) override;
  Result<bool> DomainExists(const std::string& name) override;
  Result<std::string> DefineDomain(const std::string& xml) override;
  Status StartDomain(const std::string& name, bool paused) override;
  Status ResumeDomain(const std::string& name) override;
  Status DestroyDomain(const std::string& name) override;
  Status UndefineDomain(const std::string& name) override;
  Result<DomainState> GetDomainState(const std::string& name) override;
  Result<std::string> GetDomainXml(const std::string& name,
                                   bool inactive) override;
  Status WaitForShutoff(const std::string& name,
                        std::chrono::milliseconds timeout) override;
  Result<std::unique_ptr<Console>> OpenConsole(
      const std::string& domain) override;

 private:
  std::unique_ptr<Impl> impl_;
};

class LibvirtConnection::Impl {
 public:
  Impl(virConnectPtr conn, bool embedded) : conn_(conn), embedded_(embedded) {}
  ~Impl();

  virConnectPtr conn() const { return conn_; }
  bool embedded() const { return embedded_; }

  Result<virt::PoolHandle> Pool(const std::string& name);
  Result<virt::VolHandle> Vol(const std::string& pool, const std::string& name);
  Result<virt::DomainHandle> Domain(const std::string& name);

 private:
  virConnectPtr conn_;
  bool embedded_;
};

// Stream adapters (volume_stream.cc). They keep their own reference to the
// volume; the connection must outlive them.
Result<std::unique_ptr<BlockSink>> MakeUploadSink(virConnectPtr conn,
                                                  virt::VolHandle vol,
                                                  std::string where,
                                                  bool sparse);
Result<std::unique_ptr<RandomAccessSource>> MakeDownloadSource(
    virConnectPtr conn, virt::VolHandle vol, std::string where);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_CONNECTION_IMPL_H_
