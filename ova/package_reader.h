// PackageReader: one streaming pass over any package input.
//
// Inputs: an .ova (ustar, pax or GNU tar; or a gzip-compressed tar), an .ovf
// with its files beside it, a directory holding one .ovf, a VMware .vmx with
// its files beside it, or "-" (stdin, a pipe: no seeking, still one pass).
//
// Members come out of Next() in package order (for a tar, archive order; for
// files on disk, descriptor, manifest, certificate, then the files the
// descriptor references and the manifest lists). Every member is checked as
// it appears -- a hostile one is kCorrupt naming it -- and every byte that
// passes is hashed for the manifest: with the manifest's algorithm when the
// manifest has been seen, otherwise (on a pipe) with every algorithm, or (on
// a seekable tar) after reading the manifest ahead by skipping from header to
// header. Nothing is ever written.
//
//   ASSIGN_OR_RETURN(auto reader, PackageReader::Open(path, {}));
//   while (true) {
//     ASSIGN_OR_RETURN(auto member, reader->Next());
//     if (!member) break;
//     if (member->role == MemberRole::kDescriptor) {
//       ...parse *reader->descriptor(), then
//       RETURN_IF_ERROR(reader->ExpectFiles(hrefs));
//     } else if (member->role == MemberRole::kFile) {
//       ...read reader->Data() (or reader->InPlace())
//     }
//   }
//   ASSIGN_OR_RETURN(VerificationReport report, reader->Finish({}));
//   RETURN_IF_ERROR(report.ToStatus());
#ifndef OVA2VIRT_OVA_PACKAGE_READER_H_
#define OVA2VIRT_OVA_PACKAGE_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "core/diagnostics.h"
#include "core/progress.h"
#include "core/status.h"
#include "ova/manifest.h"
#include "ova/member.h"
#include "ova/verification.h"

namespace ova2virt {

enum class InputKind {
  kOva,           // a tar (from a file or a pipe)
  kOvaGzip,       // a gzip-compressed tar (from a file or a pipe)
  kOvfFile,       // an .ovf with its files beside it
  kOvfDirectory,  // a directory holding one .ovf
  kVmx,           // a VMware .vmx with its files beside it
};

// "ova", "ova+gzip", "ovf", "ovf-directory", "vmx".
std::string_view InputKindName(InputKind kind);

class PackageReader {
 public:
  struct Options {
    // The reader reads these members itself, into memory.
    size_t max_descriptor_bytes = 32u << 20;
    size_t max_manifest_bytes = 4u << 20;  // manifest and certificate
    // False: compute no digests (members nobody reads are skipped by seeking
    // where the input allows); Finish() then checks everything but the
    // digests of members other than the descriptor, manifest and
    // certificate (those are read and hashed anyway), which it reports as
    // FileStatus::kUnchecked.
    bool hash = true;
    // Seekable uncompressed tar whose manifest comes after the data: find
    // the manifest first by skipping from header to header, so each member
    // is hashed with the one algorithm it needs. False: hash with all.
    bool read_manifest_ahead = true;
    // Told about the bytes Next() drains through the hashes itself.
    Progress* progress = nullptr;
  };

  // Opens `input` ("-" for stdin). kNotFound if it does not exist; kCorrupt
  // "not a tar archive" (and the like) for a file that is no package;
  // kUnsupported for a compression other than gzip, or a zip file; kUsage
  // for a directory with several descriptors.
  static Result<std::unique_ptr<PackageReader>> Open(const std::string& input,
                                                     const Options& options);
  virtual ~PackageReader();

  InputKind kind() const;
  // True when the input is a pipe (stdin, a FIFO).
  bool streamed() const;

  // Advances to the next member, first consuming (and hashing) what is left
  // of the current one. kCorrupt naming the member for an absolute path, a
  // ".." component, a link, a device or fifo, a duplicate name, control
  // characters, a descriptor or manifest over its cap, a size beyond the end
  // of the file, or a truncated archive. nullopt at the end. AppleDouble
  // ("._x") members and directories are skipped with a warning.
  Result<std::optional<MemberInfo>> Next();

  // The current member's bytes from where reading stopped; everything read
  // through it is hashed. Valid until the next call to Next().
  ByteSource& Data();
  // The current member read in place, when the input is a seekable,
  // uncompressed file; nullptr for pipes and compressed tars. Reading it does
  // not hash (Next() does, reading the member once more if nobody read
  // Data()).
  RandomAccessSource* InPlace();
  // Reads the rest of the current member through the hashes, without
  // copying it anywhere. Next() does this by itself.
  Status DrainMember();

  // The descriptor's text once Next() has passed it (nullptr until then),
  // and its member name.
  const std::string* descriptor() const;
  const std::string& descriptor_name() const;
  // The parsed manifest once seen (nullptr until then, or without one).
  const Manifest* manifest() const;
  const std::string& manifest_name() const;
  const std::string& certificate_name() const;

  // The files the descriptor references, as hrefs. Each is validated: one
  // that leaves the package ("../x", "/etc/passwd", "file://", "http://") is
  // kCorrupt naming it. For files on disk this also decides which files
  // Next() yields after the descriptor, manifest and certificate, in this
  // order, followed by any further ones the manifest lists. Missing ones are
  // reported by Finish().
  Status ExpectFiles(const std::vector<std::string>& hrefs);

  // Reads to the end (if the caller stopped early), then checks every digest
  // against the manifest (see Options::hash) and the signature against the
  // certificate.
  // kCorrupt when the package holds no descriptor; a failed check is not an
  // error here but in the report (report.ToStatus()).
  Result<VerificationReport> Finish(const VerifyOptions& options);

  // Everything noticed so far that is not an error.
  const Diagnostics& warnings() const;
  // Members seen so far, in order.
  const std::vector<MemberInfo>& members() const;

  struct State;

 protected:
  explicit PackageReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_PACKAGE_READER_H_
