// Internal to virtdriver: the libvirt side of Connection, shared by
// connection.cc (pools, domains) and volume_stream.cc (uploads,
// downloads).
#ifndef OVA2VIRT_VIRTDRIVER_CONNECTION_IMPL_H_
#define OVA2VIRT_VIRTDRIVER_CONNECTION_IMPL_H_

#include <memory>
#include <string>

#include "core/byte_stream.h"
#include "virtdriver/connection.h"
#include "virtdriver/libvirt_util.h"

namespace ova2virt {

class Connection::Impl {
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
