// The import use case: one pass from a package to defined libvirt domains.
//
//   1. open the package; read and parse the descriptor;
//   2. plan before touching anything: policy, domain XML, volume names and
//      formats, network mapping; check them against the connection (pool,
//      room, free names, networks) -- any problem stops here;
//   3. stream each disk once: hash -> decode (VMDK, gzip, chunks) -> write
//      qcow2/raw into its volume or file; no temporary copy, no extraction;
//   4. at the end of the package check every digest and the signature;
//      only then define the domains (and start them).
// Any failure or interrupt removes what was created (volumes, files,
// domains): nothing half-made is left behind.
#ifndef OVA2VIRT_PIPELINE_IMPORT_H_
#define OVA2VIRT_PIPELINE_IMPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "core/diagnostics.h"
#include "core/progress.h"
#include "core/status.h"
#include "ova/verification.h"
#include "pipeline/guest_convert.h"
#include "pipeline/import_choices.h"
#include "pipeline/phase_timer.h"
#include "pipeline/policy.h"

namespace ova2virt {

class Connection;

struct ImportRequest {
  std::string input;  // a path, or "-" for stdin
  std::string name;   // --name: the domain (one system only)
  std::string pool = "default";
  // The pool was named (--pool, a batch item's "pool"): a missing one is an
  // error. Otherwise a missing `default` pool is created as virt-install
  // does (a dir pool at DefaultPoolPath(), started and autostarted; warning
  // import.created-default-pool), after the plan's checks pass and never on
  // a dry run; like virt-install's, it stays if the import then fails.
  bool pool_named = false;
  std::string storage_dir;  // --storage-dir: files here, not volumes
  // --upload: the disks go through virStorageVolUpload streams even when
  // the pool's files could be written in place (a local pool). Not with
  // storage_dir (kUsage).
  bool upload = false;
  VolumeFormat format = VolumeFormat::kQcow2;
  ImportPolicy policy;     // disk bus, NIC model, networks, virt type
  std::string vsys;        // --vsys: index (0-based), id or name
  std::string deployment;  // --deployment
  std::vector<std::pair<std::string, std::string>> properties;  // --prop
  bool dry_run = false;
  bool start = false;
  bool force = false;
  bool verify = true;  // false: --no-verify
  // --convert-guest: virt-v2v-in-place on the written disks before the
  // define (pipeline/guest_convert.h); the domain gets virtio disk and NIC.
  bool convert_guest = false;
  std::string ca_file;
  int threads = 0;  // conversion workers; 0 = one per core
  Progress* progress = nullptr;
  // For `run`: each domain's first serial port to DIR/<domain>.serial, and
  // no display.
  std::string serial_log_dir;
  bool serial_interactive = false;  // keep the port a pty, logged to the file
  bool headless = false;
  // Extra <metadata> entries (batch records its source digest here).
  KeyValues metadata;
  // Where the import journal goes (virtdriver/journal.h); empty:
  // DefaultJournalDir(). A real import keeps one, records its id in the
  // domain's <metadata> ("import-id"), and first cleans up the journals of
  // killed imports on the same connection (warning import.cleaned-leftovers).
  std::string journal_dir;
  // When set and the import fails, the warnings it had gathered by then are
  // appended here (`run` shows them with the error).
  Diagnostics* warnings_on_failure = nullptr;
};

struct ImportedVolume {
  std::string disk_id;
  DiskDevice device = DiskDevice::kDisk;
  std::string pool;  // empty for --storage-dir files
  std::string name;
  std::string path;
  VolumeFormat format = VolumeFormat::kQcow2;
  std::string source;  // the package member it came from; empty if none
  uint64_t capacity = 0;
  uint64_t allocation = 0;  // bytes written
  ConvertStats stats;
};

struct ImportedDomain {
  std::string name;
  std::string serial_log;  // where its serial console goes, if to a file
  std::string uuid;        // empty on a dry run
  std::string machine, virt_type;
  std::string xml;
  std::vector<ImportedVolume> volumes;
  bool started = false;
};

struct ImportReport {
  std::string input;
  bool dry_run = false;
  std::vector<ImportedDomain> domains;
  std::optional<VerificationReport> verification;  // unset on a dry run
  bool verified = false;  // every digest and the signature checked ok
  Diagnostics warnings;
  PhaseTimer phases;
  // --convert-guest: one per domain converted, in domain order.
  std::vector<GuestConversion> guest_conversions;
  // The plan in words (dry runs print it).
  std::string plan_text;
};

// Imports `request.input` into `conn`. Errors name the input and what went
// wrong; by then everything created has been removed (a warning
// rollback.leftover in the error's wake is impossible to return, so a
// leftover makes the error say so).
Result<ImportReport> ImportAppliance(Connection& conn,
                                     const ImportRequest& request);
// The same on a connection opened to `uri` ("" = libvirt's default).
Result<ImportReport> ImportAppliance(const std::string& uri,
                                     const ImportRequest& request);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_IMPORT_H_
