#include "ova/references.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/checked_math.h"
#include "core/xml.h"
#include "ova/member_name.h"

namespace ova2virt {
namespace {

constexpr uint64_t kMaxChunks = 100000;
// As the OVF reader's limit: real packages reference a handful of files.
constexpr size_t kMaxFiles = 4096;

Result<std::optional<uint64_t>> NumberAttribute(const XmlElement& file,
                                                std::string_view attribute) {
  auto text = file.Attribute(kAnyNs, attribute);
  if (!text) return std::optional<uint64_t>();
  uint64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text->empty()) {
    return CorruptError("File " + file.Where() + ": " + std::string(attribute) +
                        " " + Quote(*text) + " is not a number");
  }
  return std::optional<uint64_t>(value);
}

}  // namespace

Result<std::vector<FileReference>> ReadFileReferences(
    std::string_view descriptor) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(descriptor));
  std::vector<FileReference> out;
  const XmlElement* refs = root.Child(kAnyNs, "References");
  if (refs == nullptr) return out;
  uint64_t names = 0;  // member names the references stand for, chunks too
  for (const XmlElement* file : refs->Children(kAnyNs, "File")) {
    if (out.size() == kMaxFiles) {
      return CorruptError("File " + file->Where() + ": more than " +
                          std::to_string(kMaxFiles) + " files");
    }
    FileReference ref;
    auto href = file->Attribute(kAnyNs, "href");
    if (!href) {
      return CorruptError("File " + file->Where() + " has no href");
    }
    ref.href = *href;
    ref.id = file->Attribute(kAnyNs, "id").value_or("");
    ref.compression = file->Attribute(kAnyNs, "compression").value_or("");
    ASSIGN_OR_RETURN(ref.size, NumberAttribute(*file, "size"));
    ASSIGN_OR_RETURN(ref.chunk_size, NumberAttribute(*file, "chunkSize"));
    // Every chunk becomes a name to look for: bound them all together (a
    // reference with too many chunks on its own is refused, by name, in
    // ReferencedMemberNames).
    uint64_t count = 1;
    if (ref.chunk_size && *ref.chunk_size > 0 && ref.size) {
      count = std::max<uint64_t>(1, DivRoundUp(*ref.size, *ref.chunk_size));
    }
    if (count <= kMaxChunks) {
      names += count;
      if (names > kMaxChunks) {
        return CorruptError("File " + file->Where() +
                            ": the references name more than " +
                            std::to_string(kMaxChunks) + " files and chunks");
      }
    }
    out.push_back(std::move(ref));
  }
  return out;
}

Result<std::vector<std::string>> ReferencedMemberNames(
    const FileReference& reference) {
  ASSIGN_OR_RETURN(std::string name, ValidateHref(reference.href));
  if (!reference.chunk_size) return std::vector<std::string>{name};
  if (*reference.chunk_size == 0) {
    return CorruptError("href " + Quote(reference.href) + ": chunk size 0");
  }
  // Without a size only the first chunk is certain.
  uint64_t count =
      reference.size ? DivRoundUp(*reference.size, *reference.chunk_size) : 1;
  if (count == 0) count = 1;
  if (count > kMaxChunks) {
    return CorruptError("href " + Quote(reference.href) + ": " +
                        std::to_string(count) + " chunks exceed " +
                        std::to_string(kMaxChunks));
  }
  std::vector<std::string> names;
  for (uint64_t i = 0; i < count; ++i) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".%09llu",
                  static_cast<unsigned long long>(i));
    names.push_back(name + suffix);
  }
  return names;
}

}  // namespace ova2virt
