// Internal to virtdriver (includes libvirt): handles with RAII, and
// libvirt errors turned into Status. Never included by a public header.
#ifndef OVA2VIRT_VIRTDRIVER_LIBVIRT_UTIL_H_
#define OVA2VIRT_VIRTDRIVER_LIBVIRT_UTIL_H_

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ova2virt::virt {

template <typename T, int (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
using DomainHandle =
    std::unique_ptr<virDomain, Deleter<virDomain, virDomainFree>>;
using PoolHandle = std::unique_ptr<virStoragePool,
                                   Deleter<virStoragePool, virStoragePoolFree>>;
using VolHandle =
    std::unique_ptr<virStorageVol, Deleter<virStorageVol, virStorageVolFree>>;
using StreamHandle =
    std::unique_ptr<virStream, Deleter<virStream, virStreamFree>>;
using NetworkHandle =
    std::unique_ptr<virNetwork, Deleter<virNetwork, virNetworkFree>>;

// Once per process: virInitialize, and a no-op error handler so libvirt
// prints nothing.
void InitLibvirt();

// libvirt's last error on this thread as a one-line Status: "WHAT:
// libvirt message", with its code mapped (no domain/pool/volume/network ->
// kNotFound, not supported -> kUnsupported, ...). Resets the error.
Status LastError(std::string_view what);
// The last error's libvirt code (VIR_ERR_OK when none).
int LastErrorCode();

// A string libvirt allocated, freed here.
std::string TakeString(char* s);

}  // namespace ova2virt::virt

#endif  // OVA2VIRT_VIRTDRIVER_LIBVIRT_UTIL_H_
