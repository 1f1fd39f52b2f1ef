#include "pipeline/verify.h"

#include "core/file.h"
#include "ova/references.h"

namespace ova2virt {
namespace {

// Trust anchors are certificates: a few KiB, a bundle at most a few MiB.
constexpr size_t kMaxCaFile = 4u << 20;

Status ExpectReferencedFiles(PackageReader& reader) {
  ASSIGN_OR_RETURN(std::vector<FileReference> refs,
                   ReadFileReferences(*reader.descriptor()));
  std::vector<std::string> names;
  for (const FileReference& ref : refs) {
    ASSIGN_OR_RETURN(std::vector<std::string> members,
                     ReferencedMemberNames(ref));
    names.insert(names.end(), members.begin(), members.end());
  }
  return reader.ExpectFiles(names);
}

Result<VerifyResult> Verify(const VerifyRequest& request) {
  VerifyOptions verify;
  verify.now = request.now;
  if (!request.ca_file.empty()) {
    ASSIGN_OR_RETURN(verify.ca_pem, ReadSmallFile(request.ca_file, kMaxCaFile));
    verify.ca_name = request.ca_file;
  }
  PackageReader::Options options;
  options.progress = request.progress;
  ASSIGN_OR_RETURN(std::unique_ptr<PackageReader> reader,
                   PackageReader::Open(request.input, options));
  VerifyResult result;
  result.input = request.input;
  result.kind = reader->kind();
  result.streamed = reader->streamed();
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> member, reader->Next());
    if (!member) break;
    // The descriptor says which files the package must hold. A VMX names
    // its disks in its own syntax; the ovf/ module reads that.
    if (member->role == MemberRole::kDescriptor &&
        reader->kind() != InputKind::kVmx) {
      Status expected = ExpectReferencedFiles(*reader);
      if (!expected.ok()) {
        if (expected.message().rfind("href ", 0) == 0) return expected;
        return expected.WithContext(
            (reader->kind() == InputKind::kOva ||
                     reader->kind() == InputKind::kOvaGzip
                 ? "member "
                 : "file ") +
            Quote(member->name));
      }
    }
  }
  ASSIGN_OR_RETURN(result.report, reader->Finish(verify));
  result.members = reader->members();
  result.descriptor_name = reader->descriptor_name();
  return result;
}

}  // namespace

std::string InputDisplayName(const std::string& input) {
  return input == "-" ? "stdin" : input;
}

Status VerifyResult::Verdict() const {
  return report.ToStatus().WithContext(InputDisplayName(input));
}

Result<VerifyResult> VerifyPackage(const VerifyRequest& request) {
  Result<VerifyResult> r = Verify(request);
  if (!r.ok()) return r.status().WithContext(InputDisplayName(request.input));
  return r;
}

}  // namespace ova2virt
