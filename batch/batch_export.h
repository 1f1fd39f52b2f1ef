// Export items of a batch (batch/batch.h): the identity of what an
// export reads, whether an output is still the one a run wrote, and what
// a dry run checks. batch/batch_libvirt.cc runs them; docs/batch.md
// explains the choices to the user.
//
// Deciding must not cost reading the disks. An export's result is fixed by
// the domain's definition, the bytes of the images it reads and the
// signing certificate, so the identity covers the inactive domain XML, a
// stamp (size and modification time) of every image, and the
// certificate. Where no stamp shows a change (a block device; a remote
// volume whose pool reports no time) nothing cheap is sound, and the item
// runs every time.
//
// An output is recognised by its size and its manifest's digest: the
// manifest names every file with its digest, so a package of the recorded
// size whose manifest is the one written is, short of deliberate forgery,
// the package written -- while copying or touching it changes nothing.
#ifndef OVA2VIRT_PIPELINE_BATCH_EXPORT_H_
#define OVA2VIRT_PIPELINE_BATCH_EXPORT_H_

#include <string>

#include "batch/batch.h"
#include "core/status.h"
#include "pipeline/export.h"

namespace ova2virt {

class Connection;

// The largest manifest read back (a manifest line is under 200 bytes).
inline constexpr uint64_t kMaxRecordedManifest = 16u << 20;

// The identity of `request`'s source over `conn`: a SHA-256 over the
// domain's inactive XML, each image the export would read (by the export
// policy: hard disks, and CD-ROM and floppy images unless --no-media) with
// its size and modification time -- stat'ed on this host where the export
// reads in place, else the volume's capacity, allocation and the time its
// pool reports -- and the signing certificate's bytes. An image whose
// changes no stamp shows makes the identity new on every call.
// descriptor_sha256 holds the XML's digest, size the images' bytes,
// mtime_ns the newest stamp. Errors name the domain: kNotFound for an
// unknown domain, the policy's kUnsupported, an image or certificate that
// cannot be stat'ed or read.
Result<SourceIdentity> IdentifyExportSource(Connection& conn,
                                            const ExportRequest& request);

// What `report` wrote, for the state: its files and the SHA-256 of its
// manifest, read back from the output. Errors name the output.
Result<RecordedOutput> RecordExportOutput(const ExportReport& report);

// True when `path` holds the output `recorded` describes: an .ova of the
// recorded size whose manifest (at its recorded offset) has the recorded
// digest, or a directory whose recorded files all have their sizes and
// whose manifest has its digest. False when anything is missing or
// different, and for a record ova2virt would not write (a file name with
// a folder, a manifest that is not one of the files or is larger than
// kMaxRecordedManifest). An error only when the output cannot be read
// (permissions, I/O), naming it.
Result<bool> ExportOutputIntact(const std::string& path,
                                const RecordedOutput& recorded);

// A dry run of the export: checks what it can without writing -- the
// domain exists and is shut off (or `live`), the policy accepts it, its
// images open, the signing files are there, the output does not exist --
// and says in words what the export would write. Errors as ExportDomain's.
Result<std::string> PlanExport(Connection& conn, const ExportRequest& request);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BATCH_EXPORT_H_
