// ASCII text helpers shared by every reader: descriptors, manifests and
// VMX files are ASCII where these are used (keys, names, enum words), so
// case folding and trimming never look at the locale or at UTF-8.
#ifndef OVA2VIRT_CORE_STRINGS_H_
#define OVA2VIRT_CORE_STRINGS_H_

#include <string>
#include <string_view>

namespace ova2virt {

// The blanks isspace() knows in the C locale: space, \t, \n, \v, \f, \r.
inline constexpr std::string_view kAsciiSpace = " \t\n\v\f\r";

// `s` with A-Z turned into a-z; every other byte (UTF-8 included) kept.
std::string Lower(std::string_view s);

// True when `a` and `b` are the same once A-Z are folded to a-z.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` without the leading and trailing bytes found in `blanks`. A view of
// `s`: it lives no longer than the text it looks at.
std::string_view Trim(std::string_view s,
                      std::string_view blanks = kAsciiSpace);

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_STRINGS_H_
