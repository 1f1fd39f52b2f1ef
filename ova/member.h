// What a package member is: its name, where its data lies, and its role.
#ifndef OVA2VIRT_OVA_MEMBER_H_
#define OVA2VIRT_OVA_MEMBER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ova2virt {

enum class MemberRole { kDescriptor, kManifest, kCertificate, kFile };

// "descriptor", "manifest", "certificate", "file".
std::string_view MemberRoleName(MemberRole role);

struct MemberInfo {
  std::string name;     // normalized (see ValidateMemberName)
  uint64_t offset = 0;  // of the data, in the uncompressed tar; 0 for files
  uint64_t size = 0;
  MemberRole role = MemberRole::kFile;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_MEMBER_H_
