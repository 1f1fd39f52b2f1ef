// The import plan: everything decided before a byte is copied. Pure: the
// model, the request and what is known about the storage go in; domains
// (policy applied, XML formatted), the files to convert and where each goes
// come out. CheckPlanOnHost() then holds it against the connection.
#ifndef OVA2VIRT_PIPELINE_IMPORT_PLAN_H_
#define OVA2VIRT_PIPELINE_IMPORT_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "core/vmspec.h"
#include "ova/references.h"
#include "pipeline/import.h"
#include "pipeline/import_choices.h"
#include "pipeline/policy.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

class Connection;

// Where converted disks go: files in a directory, or volumes in a pool.
struct StorageTarget {
  bool files = false;     // --storage-dir
  std::string dir;        // the directory, or the pool's target path
  std::string pool;       // the pool's name (volumes)
  bool in_place = false;  // a local pool: write volume files directly
  // The pool does not exist yet: `default`, to be created (as virt-install
  // does) at `pool_path` once the plan has passed its checks.
  bool create_pool = false;
  std::string pool_path;
};

// One output the import writes: a disk converted from the package, an image
// copied as it is (CD/DVD, floppy), a blank disk, or the OVF environment CD.
struct CopyJob {
  enum Kind { kConvert, kCopyImage, kBlank, kEnvironment } kind = kConvert;
  size_t domain = 0;  // index into ImportPlan::domains
  std::string disk_id;
  DiskDevice device = DiskDevice::kDisk;
  FileReference file;                // kConvert, kCopyImage
  std::vector<std::string> members;  // package members, in order
  std::optional<uint64_t> capacity;  // kBlank: from the descriptor
  std::string environment;           // kEnvironment: the ovf-env.xml text
  std::string name;                  // volume or file name
  std::string path;                  // where it lives, when known
  VolumeFormat format = VolumeFormat::kQcow2;
  // What the descriptor says the file is ("vmdk", "qcow2", "raw"), so
  // that a file that is something else is corrupt, not unsupported; empty
  // to probe.
  std::string input_format;
};

struct DomainPlan {
  std::string name;
  TargetPlan target;
  DomainOptions options;
  std::string xml;
};

struct ImportPlan {
  std::vector<DomainPlan> domains;
  std::vector<CopyJob> jobs;
};

// Chooses the systems (request.vsys), names the domains and their outputs,
// applies the policy, builds the OVF environment where asked for, binds
// every disk and formats the domain XML. Errors: kUsage for a request that
// does not fit the package (--name with several systems, an unknown
// --vsys, a property that does not validate); kCorrupt for an href leaving
// the package; kUnsupported for what ova2virt cannot import (delta disks,
// compression other than gzip, a file two disks share).
Result<ImportPlan> PlanImport(const ApplianceSpec& appliance,
                              const ImportRequest& request,
                              const StorageTarget& storage,
                              Diagnostics* diagnostics);

// Checks the plan against the host before anything is created: the pool is
// active (or the directory writable) and has room for at least the stored
// data; no domain, volume or file of the same name exists (unless --force);
// every network and bridge a NIC is bound to exists, and with --start every
// such network is active. On a local connection, the user QEMU runs as
// (the capabilities' DAC label) must be able to search every directory down
// to a local pool's target, or the domain could not open its disks.
// Without --start, an inactive network is a warning
// (import.network-inactive) in `diagnostics`, if given: defining needs it
// not.
Status CheckPlanOnHost(Connection& conn, const ImportPlan& plan,
                       const ImportRequest& request,
                       const StorageTarget& storage,
                       Diagnostics* diagnostics = nullptr);

// The plan in words, for --dry-run and -v.
std::string DescribePlan(const ImportPlan& plan, const StorageTarget& storage);

// A name safe as a file or volume name: letters, digits, '.', '_', '+',
// '-'; anything else becomes '-'; never empty, never starting with '.'.
std::string SafeFileName(std::string_view name);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_IMPORT_PLAN_H_
