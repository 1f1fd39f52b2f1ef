#include "pipeline/guest_convert.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/xml.h"

extern char** environ;

namespace ova2virt {
namespace {

constexpr size_t kMaxMessages = 256 << 10;

// What to quote of the tool's output in an error: its last line saying
// "error:" (virt-v2v ends with boilerplate about reporting bugs), else its
// last `n` lines, on one line.
std::string ErrorSummary(const std::string& text, int n) {
  size_t error = text.rfind("error:");
  if (error != std::string::npos) {
    size_t begin = text.rfind('\n', error);
    begin = begin == std::string::npos ? 0 : begin + 1;
    size_t end = text.find('\n', error);
    return text.substr(begin, end == std::string::npos ? end : end - begin);
  }
  size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "no output";
  size_t begin = end;
  for (int lines = 0; begin > 0; --begin) {
    if (text[begin - 1] == '\n' && ++lines == n) break;
  }
  std::string tail = text.substr(begin, end + 1 - begin);
  for (char& c : tail) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return tail;
}

}  // namespace

Result<std::string> FindVirtV2vInPlace() {
  if (const char* env = std::getenv("OVA2VIRT_VIRT_V2V_IN_PLACE");
      env != nullptr && *env != '\0') {
    if (access(env, X_OK) != 0) {
      return NotFoundError("virt-v2v-in-place " + Quote(env) +
                           " ($OVA2VIRT_VIRT_V2V_IN_PLACE) is not executable");
    }
    return std::string(env);
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/virt-v2v-in-place";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = colon + 1;
  }
  return NotFoundError(
      "virt-v2v-in-place is not installed (Debian: the virt-v2v package, "
      "with nbdkit and libnbd-bin)");
}

Status CheckGuestConversion(bool local_files) {
  if (!local_files) {
    return UnsupportedError(
        "--convert-guest works on the disk files in place: it needs "
        "--storage-dir or a pool whose volumes are files on this host");
  }
  auto tool = FindVirtV2vInPlace();
  if (!tool.ok()) {
    return UnsupportedError("--convert-guest: " + tool.status().message());
  }
  return OkStatus();
}

std::string GuestConversionXml(const std::string& name, uint64_t memory_mib,
                               int vcpus, const std::vector<GuestDisk>& disks) {
  // Attributes in double quotes: XmlEscape() escapes '"', not '\''.
  std::string xml = "<domain type=\"kvm\">\n  <name>" + XmlEscape(name, false) +
                    "</name>\n  <memory unit=\"MiB\">" +
                    std::to_string(memory_mib) + "</memory>\n  <vcpu>" +
                    std::to_string(vcpus) +
                    "</vcpu>\n  <os>\n    <type arch=\"x86_64\">hvm</type>\n"
                    "  </os>\n  <devices>\n";
  char dev = 'a';
  for (const GuestDisk& d : disks) {
    xml +=
        "    <disk type=\"file\" device=\"disk\">\n"
        "      <driver name=\"qemu\" type=\"" +
        XmlEscape(d.format, true) + "\"/>\n      <source file=\"" +
        XmlEscape(d.path, true) + "\"/>\n      <target dev=\"vd" +
        std::string(1, dev) + "\" bus=\"virtio\"/>\n    </disk>\n";
    if (dev < 'z') ++dev;
  }
  xml += "  </devices>\n</domain>\n";
  return xml;
}

Result<GuestConversion> ConvertGuestInPlace(const std::string& tool,
                                            const std::string& xml,
                                            const std::string& work_dir,
                                            bool force_tcg) {
  GuestConversion out;
  out.tool = tool;
  std::string xml_path =
      work_dir + "/.ova2virt-v2v-" + std::to_string(getpid()) + ".xml";
  {
    std::ofstream f(xml_path, std::ios::binary | std::ios::trunc);
    f << xml;
    if (!f.flush()) return ErrnoError(xml_path, errno);
  }
  struct RemoveFile {
    std::string path;
    ~RemoveFile() { unlink(path.c_str()); }
  } remove_xml{xml_path};

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  if (std::getenv("LIBGUESTFS_BACKEND") == nullptr) {
    // No libvirt daemon needed for the appliance libguestfs starts.
    env_strings.emplace_back("LIBGUESTFS_BACKEND=direct");
  }
  if (force_tcg && std::getenv("LIBGUESTFS_BACKEND_SETTINGS") == nullptr) {
    env_strings.emplace_back("LIBGUESTFS_BACKEND_SETTINGS=force_tcg");
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {tool, "-i", "libvirtxml", xml_path};
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(),
                       envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return ErrnoError("cannot run " + Quote(tool), rc);
  }
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t room = kMaxMessages - std::min(kMaxMessages, out.messages.size());
    out.messages.append(buf, std::min(room, static_cast<size_t>(n)));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid", errno);
  }
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (WIFSIGNALED(status)) {
    return FailedError("guest conversion: " + Quote(tool) +
                       " was killed by signal " +
                       std::to_string(WTERMSIG(status)) + ": " +
                       ErrorSummary(out.messages, 3));
  }
  if (WEXITSTATUS(status) != 0) {
    return FailedError("guest conversion: " + Quote(tool) + " exited " +
                       std::to_string(WEXITSTATUS(status)) + ": " +
                       ErrorSummary(out.messages, 3));
  }
  return out;
}

}  // namespace ova2virt
