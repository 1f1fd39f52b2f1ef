#include "pipeline/describe.h"

#include <cctype>
#include <filesystem>
#include <set>

#include "ovf/vmx_reader.h"

namespace ova2virt {
namespace {

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(
            s[s.size() - suffix.size() + i])) != suffix[i])
      return false;
  }
  return true;
}

// Why an href would leave the folder of its descriptor; empty if it stays.
std::string_view OutsideReason(std::string_view href) {
  if (href.empty()) return {};
  if (href.front() == '/') return "is an absolute path";
  if (href.find('\\') != std::string_view::npos) return "contains a backslash";
  if (href.find("://") != std::string_view::npos ||
      href.substr(0, 5) == "file:") {
    return "is a URL";
  }
  if (href.size() >= 2 && href[1] == ':') return "names a drive";
  size_t start = 0;
  while (start <= href.size()) {
    size_t slash = href.find('/', start);
    std::string_view part = href.substr(start, slash == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : slash - start);
    if (part == "..") return "climbs out with '..'";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

}  // namespace

std::optional<DescriptorKind> GuessDescriptorKind(std::string_view file_name,
                                                  std::string_view text) {
  if (EndsWithIgnoreCase(file_name, ".ovf")) return DescriptorKind::kOvf;
  if (EndsWithIgnoreCase(file_name, ".vmx")) return DescriptorKind::kVmx;
  size_t i = 0;
  // A UTF-8 byte order mark may precede either.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  if (i < text.size() && text[i] == '<') return DescriptorKind::kOvf;
  size_t eol = text.find('\n', i);
  std::string_view first = text.substr(
      i, eol == std::string_view::npos ? std::string_view::npos : eol - i);
  if (first.find('=') != std::string_view::npos) return DescriptorKind::kVmx;
  return std::nullopt;
}

Result<ApplianceSpec> DescribeDescriptor(std::string_view text,
                                         DescriptorKind kind,
                                         const OvfReadOptions& options,
                                         Diagnostics* diagnostics) {
  switch (kind) {
    case DescriptorKind::kOvf:
      return ParseOvfDescriptor(text, options, diagnostics);
    case DescriptorKind::kVmx:
      if (!options.deployment.empty()) {
        return UsageError("a .vmx file has no deployment options");
      }
      return ParseVmx(text, diagnostics);
  }
  return UsageError("unknown descriptor kind");
}

namespace {
std::set<std::string> AllHrefs(const ApplianceSpec& appliance) {
  std::set<std::string> hrefs;
  for (const FileRef& f : appliance.files) hrefs.insert(f.href);
  for (const VmSpec& vm : appliance.systems) {
    for (const Disk& d : vm.disks) hrefs.insert(d.source.href);
    hrefs.insert(vm.nvram_href);
  }
  hrefs.erase("");
  return hrefs;
}
}  // namespace

int WarnAboutMissingFiles(const ApplianceSpec& appliance, std::string_view dir,
                          Diagnostics* diagnostics) {
  int count = 0;
  for (const std::string& href : AllHrefs(appliance)) {
    if (!OutsideReason(href).empty()) continue;
    std::error_code ec;
    std::filesystem::path path = std::filesystem::path(dir) / href;
    if (std::filesystem::is_regular_file(path, ec)) continue;
    // A chunked file is stored as NAME.000000000, NAME.000000001, ...
    if (std::filesystem::is_regular_file(path.string() + ".000000000", ec)) {
      continue;
    }
    ++count;
    if (diagnostics != nullptr) {
      diagnostics->Warn("ovf.file-missing", href,
                        "file " + Quote(href) +
                            " is not beside the descriptor (yet); inspect "
                            "shows the descriptor alone");
    }
  }
  return count;
}

int WarnAboutOutsideHrefs(const ApplianceSpec& appliance,
                          Diagnostics* diagnostics) {
  int count = 0;
  for (const std::string& href : AllHrefs(appliance)) {
    std::string_view why = OutsideReason(href);
    if (why.empty()) continue;
    ++count;
    if (diagnostics != nullptr) {
      diagnostics->Warn("ovf.href-outside-package", href,
                        "file reference " + Quote(href) + " " +
                            std::string(why) +
                            ": it does not name a file beside the descriptor, "
                            "and a package reader refuses it");
    }
  }
  return count;
}

}  // namespace ova2virt
