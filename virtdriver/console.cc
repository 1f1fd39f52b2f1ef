#include "virtdriver/console.h"

#include <libvirt/libvirt.h>

#include "virtdriver/connection.h"
#include "virtdriver/connection_impl.h"
#include "virtdriver/libvirt_util.h"

namespace ova2virt {
namespace {

class StreamConsole : public Console {
 public:
  StreamConsole(virt::StreamHandle stream, std::string domain)
      : stream_(std::move(stream)), domain_(std::move(domain)) {}
  ~StreamConsole() override {
    if (stream_ && !closed_) virStreamAbort(stream_.get());
  }

  Result<size_t> ReadAvailable(std::span<uint8_t> out) override {
    if (closed_) return size_t{0};
    int n = virStreamRecv(stream_.get(), reinterpret_cast<char*>(out.data()),
                          out.size());
    if (n == -2) return size_t{0};  // nothing now (non-blocking stream)
    if (n == 0) {                   // the other end closed: powered off
      closed_ = true;
      virStreamFinish(stream_.get());
      return size_t{0};
    }
    if (n < 0) {
      closed_ = true;
      return virt::LastError("console of domain " + Quote(domain_));
    }
    return static_cast<size_t>(n);
  }

  Status Write(std::span<const uint8_t> data) override {
    while (!data.empty() && !closed_) {
      int n = virStreamSend(stream_.get(),
                            reinterpret_cast<const char*>(data.data()),
                            data.size());
      if (n == -2) continue;  // the guest is not reading yet
      if (n < 0) return virt::LastError("console of domain " + Quote(domain_));
      data = data.subspan(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  bool closed() const override { return closed_; }

 private:
  virt::StreamHandle stream_;
  std::string domain_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Console>> LibvirtConnection::OpenConsole(
    const std::string& domain) {
  virConnectPtr c = impl_->conn();
  virt::DomainHandle d(virDomainLookupByName(c, domain.c_str()));
  if (!d) return virt::LastError("domain " + Quote(domain));
  virt::StreamHandle stream(virStreamNew(c, VIR_STREAM_NONBLOCK));
  if (!stream) return virt::LastError("console stream");
  if (virDomainOpenConsole(d.get(), nullptr, stream.get(),
                           VIR_DOMAIN_CONSOLE_FORCE) < 0) {
    return virt::LastError("cannot open the console of domain " +
                           Quote(domain));
  }
  return std::unique_ptr<Console>(
      std::make_unique<StreamConsole>(std::move(stream), domain));
}

}  // namespace ova2virt
