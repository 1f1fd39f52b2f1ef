// The files an OVF descriptor references (its References section): the
// bridge between the descriptor and the package members. Only this narrow
// part of the descriptor is read here; the ovf/ module reads the rest.
#ifndef OVA2VIRT_OVA_REFERENCES_H_
#define OVA2VIRT_OVA_REFERENCES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ova2virt {

struct FileReference {
  std::string id;
  std::string href;  // as written
  std::optional<uint64_t> size;
  std::string compression;  // "gzip", or empty
  std::optional<uint64_t> chunk_size;
};

// Reads /Envelope/References/File (any OVF namespace, 0.9 to 2.x).
// kCorrupt for malformed XML ("line L, column C: ...") or a File without an
// href, a size or chunk size that is not a number, more than 4096 files, or
// more than 100000 member names (chunks counted) in all. hrefs are not
// validated here (see ValidateHref).
Result<std::vector<FileReference>> ReadFileReferences(
    std::string_view descriptor);

// The member names a reference stands for: its href, or for a chunked file
// (ovf:chunkSize) "href.000000000", "href.000000001"... as many as the size
// needs. kCorrupt when the href leaves the package or the chunk count would
// exceed 100000.
Result<std::vector<std::string>> ReferencedMemberNames(
    const FileReference& reference);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_REFERENCES_H_
