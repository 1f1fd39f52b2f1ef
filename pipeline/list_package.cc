#include "pipeline/list_package.h"

#include <algorithm>

#include "ova/references.h"
#include "pipeline/verify.h"

namespace ova2virt {
namespace {

Result<PackageListing> List(const std::string& input) {
  PackageReader::Options options;
  options.hash = false;
  ASSIGN_OR_RETURN(std::unique_ptr<PackageReader> reader,
                   PackageReader::Open(input, options));
  PackageListing listing;
  listing.input = input;
  listing.kind = reader->kind();
  listing.streamed = reader->streamed();
  const bool tar =
      listing.kind == InputKind::kOva || listing.kind == InputKind::kOvaGzip;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> member, reader->Next());
    if (!member) break;
    if (member->role != MemberRole::kDescriptor ||
        listing.kind == InputKind::kVmx) {
      continue;
    }
    auto refs = ReadFileReferences(*reader->descriptor());
    if (!refs.ok()) {
      return refs.status().WithContext((tar ? "member " : "file ") +
                                       Quote(member->name));
    }
    for (const FileReference& ref : *refs) {
      ASSIGN_OR_RETURN(std::vector<std::string> names,
                       ReferencedMemberNames(ref));
      listing.referenced.insert(listing.referenced.end(), names.begin(),
                                names.end());
    }
    RETURN_IF_ERROR(reader->ExpectFiles(listing.referenced));
  }
  if (reader->descriptor() == nullptr) {
    return CorruptError(std::string("no ovf descriptor (.ovf ") +
                        (tar ? "member" : "file") + ") in the package");
  }
  listing.members = reader->members();
  listing.descriptor_name = reader->descriptor_name();
  listing.descriptor = *reader->descriptor();
  listing.manifest_name = reader->manifest_name();
  listing.certificate_name = reader->certificate_name();
  listing.warnings = reader->warnings();
  for (const std::string& name : listing.referenced) {
    bool present =
        std::any_of(listing.members.begin(), listing.members.end(),
                    [&](const MemberInfo& m) { return m.name == name; });
    if (!present) {
      listing.warnings.Warn("ova.referenced-missing", name,
                            "referenced by the descriptor but not in the "
                            "package");
    }
  }
  return listing;
}

}  // namespace

Result<PackageListing> ListPackage(const std::string& input) {
  Result<PackageListing> r = List(input);
  if (!r.ok()) return r.status().WithContext(InputDisplayName(input));
  return r;
}

}  // namespace ova2virt
