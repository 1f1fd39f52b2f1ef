#include "pipeline/inspect.h"

#include <filesystem>

#include "core/file.h"
#include "pipeline/describe.h"
#include "pipeline/verify.h"

namespace ova2virt {
namespace {

bool IsLoneDescriptorFile(const std::string& input) {
  std::error_code ec;
  if (input == "-" || !std::filesystem::is_regular_file(input, ec)) {
    return false;
  }
  return GuessDescriptorKind(input, "").has_value();
}

std::string FolderOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Lists a lone descriptor the package reader refused (a reference leaving
// its folder): the descriptor alone.
Result<PackageListing> ListLoneDescriptor(const std::string& input) {
  PackageListing listing;
  listing.input = input;
  listing.kind = GuessDescriptorKind(input, "") == DescriptorKind::kVmx
                     ? InputKind::kVmx
                     : InputKind::kOvfFile;
  ASSIGN_OR_RETURN(listing.descriptor, ReadSmallFile(input, 32u << 20));
  listing.descriptor_name = std::filesystem::path(input).filename().string();
  listing.members.push_back({listing.descriptor_name, 0,
                             listing.descriptor.size(),
                             MemberRole::kDescriptor});
  return listing;
}

}  // namespace

Result<InspectReport> InspectInput(const std::string& input,
                                   const OvfReadOptions& options) {
  InspectReport report;
  Result<PackageListing> listing = ListPackage(input);
  Status refusal;
  if (!listing.ok()) {
    if (listing.status().code() != ErrorCode::kCorrupt ||
        !IsLoneDescriptorFile(input)) {
      return listing.status();
    }
    refusal = listing.status();
    listing = ListLoneDescriptor(input);
    if (!listing.ok()) return listing.status();
  }
  report.package = std::move(listing).value();
  report.warnings.Append(report.package.warnings);

  const PackageListing& p = report.package;
  std::optional<DescriptorKind> kind =
      GuessDescriptorKind(p.descriptor_name, p.descriptor);
  std::string where =
      (p.kind == InputKind::kOva || p.kind == InputKind::kOvaGzip ? "member "
                                                                  : "file ") +
      Quote(p.descriptor_name);
  if (!kind) {
    return CorruptError(where + ": neither an OVF descriptor nor a .vmx file")
        .WithContext(InputDisplayName(input));
  }
  Result<ApplianceSpec> appliance =
      DescribeDescriptor(p.descriptor, *kind, options, &report.warnings);
  if (!appliance.ok()) {
    return appliance.status().WithContext(where).WithContext(
        InputDisplayName(input));
  }
  report.appliance = std::move(appliance).value();
  if (p.kind == InputKind::kOvfFile || p.kind == InputKind::kVmx) {
    int outside = WarnAboutOutsideHrefs(report.appliance, &report.warnings);
    if (!refusal.ok() && outside == 0) {
      report.warnings.Warn(
          "inspect.package-refused", "",
          "only the descriptor is shown: " + refusal.message());
    }
    if (p.kind == InputKind::kVmx) {
      WarnAboutMissingFiles(report.appliance, FolderOf(input),
                            &report.warnings);
    }
  }
  return report;
}

}  // namespace ova2virt
