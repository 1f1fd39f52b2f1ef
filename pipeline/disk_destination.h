// Where a converted disk is written: a file in a directory (--storage-dir),
// a volume file written in place (a local pool), or a volume upload stream
// (a remote pool). Each is recorded in the import's Transaction as soon as
// it exists, so a failure or an interrupt removes it.
#ifndef OVA2VIRT_PIPELINE_DISK_DESTINATION_H_
#define OVA2VIRT_PIPELINE_DISK_DESTINATION_H_

#include <memory>
#include <string>

#include "core/byte_stream.h"
#include "core/diagnostics.h"
#include "core/status.h"
#include "virtdriver/connection.h"
#include "virtdriver/rollback.h"

namespace ova2virt {

class DiskDestination {
 public:
  virtual ~DiskDestination() = default;
  virtual BlockSink& sink() = 0;
  // Makes the output complete and durable under its final name.
  virtual Status Commit() = 0;
  // Where it lives ("/var/lib/libvirt/images/x.qcow2"); may be empty for a
  // remote volume.
  virtual std::string path() const = 0;
};

// A file `path` (mode 0600), written under a temporary name that Commit()
// renames; with `replace` an existing file of that name is replaced.
Result<std::unique_ptr<DiskDestination>> OpenFileDestination(
    const std::string& path, bool replace, Transaction& txn);

// A new volume `name` in `pool`. With `in_place` the volume's file is
// opened and written directly (a local pool: no stream in between); if that
// is not possible (warning import.upload-fallback in `diags`, if given), or
// without `in_place`, the bytes go through a virStorageVolUpload stream.
Result<std::unique_ptr<DiskDestination>> OpenVolumeDestination(
    Connection& conn, const std::string& pool, const std::string& name,
    uint64_t capacity, const std::string& format, bool in_place,
    Transaction& txn, Diagnostics* diags = nullptr);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_DISK_DESTINATION_H_
