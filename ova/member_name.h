// Names that come from a package: tar member names, manifest entries and
// descriptor hrefs. Each is checked before it is compared with, let alone
// joined to, anything on the host: a package must never name a file outside
// itself.
#ifndef OVA2VIRT_OVA_MEMBER_NAME_H_
#define OVA2VIRT_OVA_MEMBER_NAME_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace ova2virt {

// Longest member name accepted (pax and GNU names are unbounded).
inline constexpr size_t kMaxMemberName = 1024;

// Checks a member name and returns it normalized: "./" prefixes, "."
// components and repeated slashes removed ("./disk1.vmdk" -> "disk1.vmdk").
// kCorrupt "member 'NAME': WHY" for an empty name, a name over
// kMaxMemberName bytes, control characters (NUL included), a backslash, an
// absolute path ("/x", "C:x") or a ".." component. A name that normalizes to
// nothing ("./") yields an empty string.
Result<std::string> ValidateMemberName(std::string_view name);

// Checks a descriptor href (a relative URI naming a file of the package) and
// returns the member name it stands for, normalized as above. kCorrupt
// "href 'HREF' leaves the package: WHY" for a URL with a scheme ("file:",
// "http:"), an absolute path, a ".." component, also when percent-encoded,
// or any of the member-name faults.
Result<std::string> ValidateHref(std::string_view href);

// True for macOS AppleDouble companions ("._disk1.vmdk", "dir/._x"), which
// macOS tar adds beside every file and which are not part of the package.
bool IsAppleDouble(std::string_view name);

// True if `name` ends with `extension` (".ovf"), ignoring ASCII case.
bool HasExtension(std::string_view name, std::string_view extension);

// The part of a name before its last '.', after its last '/'.
std::string_view BaseName(std::string_view name);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_MEMBER_NAME_H_
