// The manifest (`.mf`): one digest per package file.
//
//   SHA256(disk1.vmdk)= 3f2a...        (ovftool, VirtualBox)
//   SHA1 (disk1.vmdk) = 3f2a...        (older tools)
//
// SHA1, SHA256 and SHA512 are accepted, one algorithm per line, mixed in one
// file if a producer likes. Real files end lines with CRLF, leave blank
// lines, and are padded with spaces to a fixed size (VirtualBox's test
// OVAs): all of that is tolerated.
#ifndef OVA2VIRT_OVA_MANIFEST_H_
#define OVA2VIRT_OVA_MANIFEST_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace ova2virt {

struct ManifestEntry {
  std::string name;  // normalized member name (see ValidateMemberName)
  DigestAlgorithm algorithm;
  std::string digest;  // lower-case hex
  int line = 0;        // 1-based line in the manifest
};

struct Manifest {
  std::vector<ManifestEntry> entries;  // in file order

  // The entries for `name` (usually one).
  std::vector<const ManifestEntry*> Find(std::string_view name) const;
  // The distinct algorithms used, in kAllDigests order.
  std::vector<DigestAlgorithm> Algorithms() const;
  // The distinct algorithms the entries for `name` use.
  std::vector<DigestAlgorithm> AlgorithmsFor(std::string_view name) const;
};

// Parses manifest text. kCorrupt "line N: WHY" for a line that is not an
// entry, a digest of the wrong length or with non-hex characters, or a name
// that is unsafe (ValidateMemberName); kUnsupported "line N: digest
// algorithm 'MD5' is not supported"; kCorrupt "line L, column C: invalid
// UTF-8: ..." for text that is not UTF-8. An empty (or all-blank) manifest
// parses to no entries.
Result<Manifest> ParseManifest(std::string_view text);

// One line as ovftool writes it: "SHA256(name)= hex\n".
std::string FormatManifestLine(DigestAlgorithm algorithm, std::string_view name,
                               std::string_view hex_digest);

// The shared grammar of manifest lines and the `.cert` signature line:
// "ALGO(name)= hex" with optional blanks around '(' and '='. Returns false
// if `line` does not have that shape; the parts are not validated.
bool SplitDigestLine(std::string_view line, std::string_view* algorithm,
                     std::string_view* name, std::string_view* hex);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_MANIFEST_H_
