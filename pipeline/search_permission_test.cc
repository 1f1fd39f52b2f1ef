#include "pipeline/search_permission.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

// A file system of directories given by path, recording what was looked at.
struct FakeTree {
  std::map<std::string, DirectoryOwnership> dirs;
  std::vector<std::string> looked_at;
  StatDirectory Stat() {
    return [this](const std::string& p) -> std::optional<DirectoryOwnership> {
      looked_at.push_back(p);
      auto it = dirs.find(p);
      if (it == dirs.end()) return std::nullopt;
      return it->second;
    };
  }
};

const SearchingUser kQemu{64055, {64055, 107}, "libvirt-qemu"};

FakeTree DebianTree() {
  FakeTree t;
  t.dirs["/"] = {0755, 0, 0};
  t.dirs["/var"] = {0755, 0, 0};
  t.dirs["/var/lib"] = {0755, 0, 0};
  t.dirs["/var/lib/libvirt"] = {0755, 0, 0};
  t.dirs["/var/lib/libvirt/images"] = {0711, 0, 0};
  t.dirs["/tmp"] = {01777, 0, 0};
  t.dirs["/tmp/tmp.x"] = {0700, 0, 0};  // mktemp -d as root
  t.dirs["/tmp/tmp.x/pool"] = {0755, 0, 0};
  t.dirs["/home"] = {0755, 0, 0};
  t.dirs["/home/u"] = {0750, 1000, 107};  // group kvm may search
  t.dirs["/home/u/vms"] = {0700, 64055, 64055};
  t.dirs["/srv"] = {0705, 0, 107};  // the group bits decide: none
  return t;
}

TEST_CASE("search permission: every directory from / is walked") {
  FakeTree t = DebianTree();
  CHECK_FALSE(
      FirstUnsearchableDirectory("/var/lib/libvirt/images", kQemu, t.Stat()));
  CHECK(t.looked_at == std::vector<std::string>{"/", "/var", "/var/lib",
                                                "/var/lib/libvirt",
                                                "/var/lib/libvirt/images"});
}

TEST_CASE("search permission: a 0700 directory of another user blocks") {
  FakeTree t = DebianTree();
  CHECK(FirstUnsearchableDirectory("/tmp/tmp.x/pool", kQemu, t.Stat()) ==
        "/tmp/tmp.x");
  // The target itself counts.
  CHECK(FirstUnsearchableDirectory("/tmp/tmp.x", kQemu, t.Stat()) ==
        "/tmp/tmp.x");
  // A QEMU running as root reaches everything, even another user's 0700.
  t.dirs["/tmp/tmp.x"] = {0700, 65534, 65534};
  SearchingUser root{0, {0}, "root"};
  t.looked_at.clear();
  CHECK_FALSE(FirstUnsearchableDirectory("/tmp/tmp.x/pool", root, t.Stat()));
  CHECK(t.looked_at.empty());
}

TEST_CASE("search permission: owner, group and other bits, in that order") {
  FakeTree t = DebianTree();
  // Group kvm (a supplementary group) may search /home/u; the owner bits
  // of /home/u/vms are the user's own.
  CHECK_FALSE(FirstUnsearchableDirectory("/home/u/vms", kQemu, t.Stat()));
  SearchingUser other{1001, {1001}, "other"};
  CHECK(FirstUnsearchableDirectory("/home/u/vms", other, t.Stat()) ==
        "/home/u");
  // In the group, the group bits decide, even where "other" may search.
  CHECK(FirstUnsearchableDirectory("/srv/images", kQemu, t.Stat()) == "/srv");
  CHECK_FALSE(FirstUnsearchableDirectory("/srv/images", other, t.Stat()));
}

TEST_CASE("search permission: the walk stops where the path ends on disk") {
  FakeTree t = DebianTree();
  t.looked_at.clear();
  CHECK_FALSE(
      FirstUnsearchableDirectory("/var/lib/nothing/images", kQemu, t.Stat()));
  CHECK(t.looked_at.back() == "/var/lib/nothing");
  // Doubled and trailing slashes and "." name the same directories.
  CHECK(FirstUnsearchableDirectory("//tmp/./tmp.x//pool/", kQemu, t.Stat()) ==
        "/tmp/tmp.x");
  CHECK_FALSE(FirstUnsearchableDirectory("relative/path", kQemu, t.Stat()));
}

TEST_CASE("search permission: the message names directory, user and fix") {
  FakeTree t = DebianTree();
  Status s =
      CheckSearchable("/tmp/tmp.x/pool", kQemu, "pool 'p' target", t.Stat());
  CHECK(s.code() == ErrorCode::kFailed);
  CHECK(s.message() ==
        "pool 'p' target '/tmp/tmp.x/pool': QEMU runs as 'libvirt-qemu', "
        "which cannot search directory '/tmp/tmp.x' (mode 0700, owner uid "
        "0), so the domain could not open its disks; give it search "
        "permission (chmod o+x /tmp/tmp.x) or choose another --pool");
  CHECK_OK(CheckSearchable("/var/lib/libvirt/images", kQemu, "pool", t.Stat()));
}

TEST_CASE("search permission: the real file system and user database") {
  testing::TempDir tmp;
  std::string blocked = tmp.path() + "/private";
  std::filesystem::create_directories(blocked + "/pool");
  REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
  REQUIRE(chmod(blocked.c_str(), 0700) == 0);
  uid_t me = geteuid();
  SearchingUser self = LocalUser(me, getegid());
  CHECK(self.uid == me);
  CHECK_FALSE(self.name.empty());
  CHECK_OK(CheckSearchable(blocked + "/pool", self, "pool"));
  // Someone else: nobody, or any uid that is not ours.
  SearchingUser stranger = LocalUser(me == 65534 ? 65533 : 65534, 65534);
  Status s = CheckSearchable(blocked + "/pool", stranger, "pool");
  CHECK(s.code() == ErrorCode::kFailed);
  CHECK(s.message().find("directory '" + blocked + "' (mode 0700") !=
        std::string::npos);
  // An unknown uid still has a name for the message.
  CHECK(LocalUser(4000000000u, 4000000000u).name == "uid 4000000000");
}

}  // namespace
}  // namespace ova2virt
