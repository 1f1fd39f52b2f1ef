// The export use case, import's mirror image: a libvirt domain to an OVA
// (or an OVF directory) that VMware and VirtualBox import.
//
//   1. read the domain's inactive definition; refuse a running domain
//      unless asked (--live); parse it and apply the export policy
//      (pipeline/export_policy.h); open every disk and image to learn its
//      size; validate the signing key -- any problem stops here, before a
//      byte is written;
//   2. write the package the way ovftool lays it out: descriptor, manifest
//      (SHA256), certificate, then the disks. The first three depend on
//      what follows (file sizes, digests), so in an OVA they are reserved
//      at sizes computed in advance and filled in place at the end;
//   3. each disk is read once, in place (a local file or volume) or through
//      libvirt's storage API (a remote connection), and written as a
//      streamOptimized VMDK straight into its tar member or file: no
//      temporary copy;
//   4. the output appears under its name only when complete; any failure
//      or interrupt leaves nothing.
#ifndef OVA2VIRT_PIPELINE_EXPORT_H_
#define OVA2VIRT_PIPELINE_EXPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convert/convert.h"
#include "core/diagnostics.h"
#include "core/digest.h"
#include "core/progress.h"
#include "core/status.h"
#include "pipeline/export_policy.h"
#include "pipeline/phase_timer.h"

namespace ova2virt {

class Connection;

struct ExportRequest {
  std::string domain;
  // Exactly one of these; both empty: "<domain>.ova" in the current
  // directory.
  std::string output;   // -o OUT.ova
  std::string ovf_dir;  // --ovf-dir DIR: the same files in a new directory
  int ovf_version = 1;  // 1 (DSP8023 1.1) or 2 (DSP8023 2.0)
  DigestAlgorithm digest = DigestAlgorithm::kSha256;
  // --sign KEY.pem --cert CERT.pem: a .cert member as ovftool writes it.
  std::string sign_key, sign_cert;
  bool live = false;      // export a running domain anyway (loudly)
  bool download = false;  // read disks through libvirt even when local
  ExportPolicy policy;
  int threads = 0;  // deflate workers; 0 = one per core
  Progress* progress = nullptr;
};

// One file of the package, in package order.
struct ExportedFile {
  std::string name;
  std::string role;     // descriptor, manifest, certificate, disk, image
  uint64_t offset = 0;  // of its data in the OVA; 0 in a directory
  uint64_t size = 0;
  std::string digest;  // hex, with the manifest's algorithm
};

// One drive's image as exported.
struct ExportedDisk {
  std::string target;      // libvirt's name: "vda", "sdb"
  std::string device;      // disk, cdrom, floppy
  std::string source;      // host path, or "pool/volume"
  std::string read;        // "in place" or "download"
  std::string format;      // what was read: qcow2, raw, vmdk
  std::string file;        // its file in the package
  uint64_t capacity = 0;   // virtual size
  uint64_t populated = 0;  // guest bytes holding data (ovf:populatedSize)
  uint64_t size = 0;       // bytes of the package file
  std::string digest;
  ConvertStats stats;  // hard disks only
};

struct ExportReport {
  std::string domain;
  std::string output;  // the .ova, or the directory
  bool directory = false;
  int ovf_version = 1;
  std::string digest_algorithm;  // "SHA256"
  bool is_signed = false;
  bool live = false;
  std::vector<ExportedDisk> disks;
  std::vector<ExportedFile> files;
  uint64_t bytes = 0;  // the package's size
  Diagnostics warnings;
  PhaseTimer phases;
};

// Exports `request.domain` from `conn`. Errors say what and where in one
// line; by then nothing of the output exists. kNotFound for an unknown
// domain, kFailed for a running one without `live`, kExists when the
// output exists, kUsage for bad options or a key that does not match its
// certificate, kUnsupported for disks the policy cannot export.
Result<ExportReport> ExportDomain(Connection& conn,
                                  const ExportRequest& request);
// The same on a connection opened to `uri` ("" = libvirt's default); a
// connection that cannot be opened is its error, as it is.
Result<ExportReport> ExportDomain(const std::string& uri,
                                  const ExportRequest& request);

// The stem of the package's file names from the domain's name: what is not
// a letter, digit, '.', '_', '+' or '-' becomes '_' ("my vm" -> "my_vm");
// the default output is this plus ".ova".
std::string ExportPackageStem(std::string_view name);

// How --ovf-version N is named to users: the ovf:version the descriptor
// states ("1.1", "2.0"), as `inspect` shows it.
std::string_view OvfVersionName(int ovf_version);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_EXPORT_H_
