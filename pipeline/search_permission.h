// Can the emulator reach a directory? QEMU opens its disks as the user the
// qemu driver runs it as (libvirt-qemu on Debian), so every directory from
// / down to a pool's target must grant that user search (x) permission, or
// the domain defines fine and fails only at start ("cannot access storage
// file"). virt-install checks the same before it creates anything.
#ifndef OVA2VIRT_PIPELINE_SEARCH_PERMISSION_H_
#define OVA2VIRT_PIPELINE_SEARCH_PERMISSION_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace ova2virt {

// Who is asking: a uid, its groups (primary first), and a name for
// messages ("libvirt-qemu").
struct SearchingUser {
  uint32_t uid = 0;
  std::vector<uint32_t> gids;
  std::string name;
};

// A directory's owner and permission bits, as stat(2) reports them.
struct DirectoryOwnership {
  uint32_t mode = 0;  // st_mode & 07777
  uint32_t uid = 0, gid = 0;
};
// Looks up one absolute path; nullopt when it does not exist.
using StatDirectory =
    std::function<std::optional<DirectoryOwnership>(const std::string&)>;

// The first directory on the way from / to `path` (itself included) that
// `user` may not search, judged by the permission bits alone: owner bits
// for its owner, group bits for one of its groups, other bits otherwise.
// uid 0 (qemu.conf user = "root") may search everything: a QEMU run as
// root opens a disk under another user's 0700 directory (libvirt 9.0,
// tested in fresh_host_daemon.sh), and virt-install skips the check for
// root as well. The walk stops at the first component that does
// not exist (libvirt creates the rest when it builds the pool). nullopt
// when every directory can be searched. `path` must be absolute.
std::optional<std::string> FirstUnsearchableDirectory(
    const std::string& path, const SearchingUser& user,
    const StatDirectory& stat_directory);

// stat(2) on this host's file system.
std::optional<DirectoryOwnership> StatLocalDirectory(const std::string& path);

// The user `uid` with primary group `gid` and the supplementary groups the
// passwd/group databases give it (as libvirt sets them for QEMU), named by
// its passwd entry or "uid N".
SearchingUser LocalUser(uint32_t uid, uint32_t gid);

// kFailed, naming the blocking directory, the user and the fix, when
// `user` cannot reach `path` on this host; `what` names the path
// ("pool 'default' target").
Status CheckSearchable(
    const std::string& path, const SearchingUser& user, const std::string& what,
    const StatDirectory& stat_directory = StatLocalDirectory);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_SEARCH_PERMISSION_H_
