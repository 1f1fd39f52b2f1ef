#include "pipeline/search_permission.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ova2virt {
namespace {

bool MaySearch(const DirectoryOwnership& d, const SearchingUser& user) {
  if (d.uid == user.uid) return (d.mode & S_IXUSR) != 0;
  bool in_group =
      std::find(user.gids.begin(), user.gids.end(), d.gid) != user.gids.end();
  if (in_group) return (d.mode & S_IXGRP) != 0;
  return (d.mode & S_IXOTH) != 0;
}

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

}  // namespace

std::optional<std::string> FirstUnsearchableDirectory(
    const std::string& path, const SearchingUser& user,
    const StatDirectory& stat_directory) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  // A QEMU running as root reaches everything (tried: a domain on a disk
  // under a 0700 directory of another user starts), as virt-install judges.
  if (user.uid == 0) return std::nullopt;
  std::string prefix = "/";
  size_t pos = 1;
  while (true) {
    std::optional<DirectoryOwnership> d = stat_directory(prefix);
    if (!d) return std::nullopt;  // libvirt makes the rest
    if (!MaySearch(*d, user)) return prefix;
    if (pos >= path.size()) return std::nullopt;
    size_t next = path.find('/', pos);
    std::string part = path.substr(
        pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? path.size() : next + 1;
    if (part.empty() || part == ".") continue;
    if (prefix.back() != '/') prefix += '/';
    prefix += part;
  }
}

std::optional<DirectoryOwnership> StatLocalDirectory(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return DirectoryOwnership{static_cast<uint32_t>(st.st_mode & 07777),
                            static_cast<uint32_t>(st.st_uid),
                            static_cast<uint32_t>(st.st_gid)};
}

SearchingUser LocalUser(uint32_t uid, uint32_t gid) {
  SearchingUser user;
  user.uid = uid;
  user.gids.push_back(gid);
  user.name = "uid " + std::to_string(uid);
  std::vector<char> buf(16384);
  struct passwd pw, *found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return user;
  }
  user.name = found->pw_name;
  std::vector<gid_t> groups(64);
  int n = static_cast<int>(groups.size());
  if (getgrouplist(found->pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (getgrouplist(found->pw_name, gid, groups.data(), &n) < 0) n = 0;
  }
  for (int i = 0; i < n; ++i) {
    uint32_t g = static_cast<uint32_t>(groups[static_cast<size_t>(i)]);
    if (std::find(user.gids.begin(), user.gids.end(), g) == user.gids.end()) {
      user.gids.push_back(g);
    }
  }
  return user;
}

Status CheckSearchable(const std::string& path, const SearchingUser& user,
                       const std::string& what,
                       const StatDirectory& stat_directory) {
  std::optional<std::string> blocked =
      FirstUnsearchableDirectory(path, user, stat_directory);
  if (!blocked) return OkStatus();
  std::optional<DirectoryOwnership> d = stat_directory(*blocked);
  std::string mode = d ? " (mode " + Octal(d->mode) + ", owner uid " +
                             std::to_string(d->uid) + ")"
                       : "";
  return FailedError(what + " " + Quote(path) + ": QEMU runs as " +
                     Quote(user.name) + ", which cannot search directory " +
                     Quote(*blocked) + mode +
                     ", so the domain could not open its disks; give it "
                     "search permission (chmod o+x " +
                     *blocked + ") or choose another --pool");
}

}  // namespace ova2virt
