#include "batch/batch_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "ova/package_reader.h"
#include "ova/references.h"
#include "pipeline/verify.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;

// A folder of loose files is stat'ed, never read; beyond this many entries
// it is not a package folder anyone meant.
constexpr size_t kMaxFolderEntries = 100000;

struct Stamp {
  std::string name;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

Result<Stamp> StampOf(const std::string& path, std::string name) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(path, errno);
  Stamp s;
  s.name = std::move(name);
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

// Every regular file of the folder holding a descriptor: a disk there may
// name extent files that neither the descriptor nor a manifest lists, so
// all of them count. Logs (a VMware folder's vmware.log) change without
// changing the machine and are left out.
Result<std::vector<Stamp>> FolderStamps(const std::string& dir) {
  std::vector<Stamp> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return ErrnoError(dir, ec.value());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoError(dir, ec.value());
    if (out.size() >= kMaxFolderEntries) {
      return UnsupportedError("folder " + Quote(dir) + " holds more than " +
                              std::to_string(kMaxFolderEntries) + " files");
    }
    std::string name = it->path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    ASSIGN_OR_RETURN(Stamp s, StampOf(it->path().string(), name));
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const Stamp& a, const Stamp& b) { return a.name < b.name; });
  return out;
}

// The manifest's entries in a canonical spelling: what it says, not how
// it is laid out (CRLF, padding).
std::string CanonicalManifest(const Manifest& m) {
  std::string out;
  for (const ManifestEntry& e : m.entries) {
    out += FormatManifestLine(e.algorithm, e.name, e.digest);
  }
  return out;
}

// True when the manifest has an entry for every member the descriptor
// references (so that, verified, it pins them all).
bool PinsEveryReference(const Manifest& manifest,
                        const std::string& descriptor) {
  auto refs = ReadFileReferences(descriptor);
  if (!refs.ok()) return false;
  for (const FileReference& ref : *refs) {
    auto names = ReferencedMemberNames(ref);
    if (!names.ok()) return false;
    for (const std::string& n : *names) {
      if (manifest.Find(n).empty()) return false;
    }
  }
  return true;
}

// Length-prefixed, so that no name can make two lists hash alike.
void AddStamp(std::string& text, const Stamp& s) {
  text += "file " + std::to_string(s.size) + " " + std::to_string(s.mtime_ns) +
          " " + std::to_string(s.name.size()) + ":" + s.name + "\n";
}

Result<SourceIdentity> Identify(const std::string& input, bool trust_manifest) {
  // A FIFO or device would be consumed by looking at it.
  std::error_code ec;
  fs::file_status st = fs::status(input, ec);
  if (!ec && !fs::is_regular_file(st) && !fs::is_directory(st)) {
    return UsageError("a batch item's input must be a file or a directory");
  }
  PackageReader::Options options;
  options.hash = false;
  ASSIGN_OR_RETURN(std::unique_ptr<PackageReader> reader,
                   PackageReader::Open(input, options));
  const InputKind kind = reader->kind();
  const bool tar = kind == InputKind::kOva || kind == InputKind::kOvaGzip;
  // Skipping a member of a compressed tar means inflating it: stop at the
  // first disk once the descriptor is known, manifest or not.
  const bool cheap_skips = kind != InputKind::kOvaGzip;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader->Next());
    if (!m) break;
    if (m->role != MemberRole::kFile) continue;
    if (!cheap_skips && reader->descriptor() != nullptr) break;
    if (!tar) break;  // loose files: the descriptor and its .mf come first
  }
  if (reader->descriptor() == nullptr) {
    return CorruptError(std::string("no ovf descriptor (.ovf ") +
                        (tar ? "member" : "file") + ") in the package");
  }
  SourceIdentity id;
  const std::string& descriptor = *reader->descriptor();
  id.descriptor_sha256 =
      DigestHex(DigestAlgorithm::kSha256, AsBytes(descriptor));
  const Manifest* manifest = reader->manifest();
  std::string text = "ova2virt batch source 1\n";
  text += "descriptor " + id.descriptor_sha256 + "\n";
  if (manifest != nullptr && trust_manifest &&
      PinsEveryReference(*manifest, descriptor)) {
    id.manifest_sha256 = DigestHex(DigestAlgorithm::kSha256,
                                   AsBytes(CanonicalManifest(*manifest)));
    text += "manifest " + id.manifest_sha256 + "\n";
    id.pinned_by_manifest = tar;
  }
  std::vector<Stamp> stamps;
  if (tar) {
    ASSIGN_OR_RETURN(Stamp s, StampOf(input, ""));
    stamps.push_back(std::move(s));
  } else {
    std::string dir = kind == InputKind::kOvfDirectory
                          ? input
                          : fs::path(input).parent_path().string();
    ASSIGN_OR_RETURN(stamps, FolderStamps(dir.empty() ? "." : dir));
  }
  for (const Stamp& s : stamps) {
    id.size += s.size;
    id.mtime_ns = std::max(id.mtime_ns, s.mtime_ns);
    if (!id.pinned_by_manifest) AddStamp(text, s);
  }
  id.digest = DigestHex(DigestAlgorithm::kSha256, AsBytes(text));
  return id;
}

}  // namespace

Result<SourceIdentity> IdentifySource(const std::string& input,
                                      bool trust_manifest) {
  if (input == "-") {
    return UsageError(
        "stdin cannot be a batch item's input (a re-run could "
        "not read it again)");
  }
  Result<SourceIdentity> r = Identify(input, trust_manifest);
  if (!r.ok()) return r.status().WithContext(InputDisplayName(input));
  return r;
}

}  // namespace ova2virt
