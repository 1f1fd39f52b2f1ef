#include "batch/batch_export.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "core/checked_math.h"
#include "core/digest.h"
#include "core/file.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

// The certificate and key files an export reads are small; so is this cap.
constexpr size_t kMaxPemFile = 1u << 20;

// Length-prefixed, so that no value can make two lists hash alike.
std::string Counted(std::string_view s) {
  return std::to_string(s.size()) + ":" + std::string(s);
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
         st.st_mtim.tv_nsec;
}

// The domain as the export will see it: its inactive XML and the machine
// the export policy makes of it (which images are read).
struct DomainView {
  std::string xml;
  ExportMachine machine;
};

Result<DomainView> ViewDomain(Connection& conn, const ExportRequest& request) {
  DomainView v;
  ASSIGN_OR_RETURN(v.xml, conn.GetDomainXml(request.domain, /*inactive=*/true));
  Diagnostics scratch;  // the export itself reports the warnings
  ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomain(v.xml, &scratch));
  ASSIGN_OR_RETURN(v.machine,
                   ApplyExportPolicy(parsed, request.policy, &scratch));
  return v;
}

// True when the export reads the images in place, as ExportDomain decides.
bool ReadsInPlace(Connection& conn, const ExportRequest& request) {
  return conn.IsLocal() && !request.download;
}

// One image as the identity sees it.
struct ImageStamp {
  std::string where;  // host path, or "pool/volume" for a download
  uint64_t size = 0;
  uint64_t allocation = 0;          // downloads: the volume's allocation
  std::optional<int64_t> mtime_ns;  // nullopt: no stamp shows a change
};

// The host path of an image read in place.
Result<std::string> LocalPath(Connection& conn, const ExportSource& s) {
  if (s.volume.empty()) return s.path;
  ASSIGN_OR_RETURN(Volume v, conn.LookupVolume(s.pool, s.volume));
  return v.path;
}

// The volume an image is downloaded from.
Result<Volume> RemoteVolume(Connection& conn, const ExportSource& s) {
  if (!s.volume.empty()) return conn.LookupVolume(s.pool, s.volume);
  auto v = conn.LookupVolumeByPath(s.path);
  if (!v.ok() && v.status().code() == ErrorCode::kNotFound) {
    return NotFoundError(Quote(s.path) +
                         " is in no storage pool, and only pool volumes "
                         "can be read through libvirt");
  }
  return v;
}

Result<ImageStamp> StampImage(Connection& conn, const ExportSource& s,
                              bool in_place) {
  ImageStamp stamp;
  if (!in_place) {
    ASSIGN_OR_RETURN(Volume v, RemoteVolume(conn, s));
    stamp.where = v.pool + "/" + v.name;
    stamp.size = v.capacity;
    stamp.allocation = v.allocation;
    stamp.mtime_ns = v.mtime_ns;
    return stamp;
  }
  ASSIGN_OR_RETURN(stamp.where, LocalPath(conn, s));
  struct stat st;
  if (::stat(stamp.where.c_str(), &st) != 0) {
    return ErrnoError(stamp.where, errno);
  }
  // A block device's node keeps its mtime while its data changes; only a
  // regular file's stamp follows its bytes.
  if (S_ISREG(st.st_mode)) {
    stamp.size = static_cast<uint64_t>(st.st_size);
    stamp.mtime_ns = MtimeNs(st);
  }
  return stamp;
}

std::string NoStampNonce() {
  static std::atomic<uint64_t> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::to_string(
             std::chrono::duration_cast<std::chrono::nanoseconds>(now)
                 .count()) +
         "." + std::to_string(counter.fetch_add(1));
}

Result<SourceIdentity> Identify(Connection& conn,
                                const ExportRequest& request) {
  ASSIGN_OR_RETURN(DomainView view, ViewDomain(conn, request));
  SourceIdentity id;
  id.descriptor_sha256 = DigestHex(DigestAlgorithm::kSha256, AsBytes(view.xml));
  std::string text = "ova2virt batch export source 1\n";
  text += "domain-xml " + id.descriptor_sha256 + "\n";
  const bool in_place = ReadsInPlace(conn, request);
  for (const ExportSource& s : view.machine.sources) {
    auto stamp = StampImage(conn, s, in_place);
    if (!stamp.ok()) {
      return stamp.status().WithContext(
          (s.device == DiskDevice::kDisk ? "disk " : "drive ") +
          Quote(s.target));
    }
    text += "image " + Counted(s.target) + " " + Counted(stamp->where) + " " +
            std::to_string(stamp->size) + " " +
            std::to_string(stamp->allocation) + " ";
    if (stamp->mtime_ns) {
      text += std::to_string(*stamp->mtime_ns) + "\n";
      id.mtime_ns = std::max(id.mtime_ns, *stamp->mtime_ns);
    } else {
      text += "no-stamp " + NoStampNonce() + "\n";
    }
    id.size = CheckedAdd(id.size, stamp->size).value_or(UINT64_MAX);
  }
  if (!request.sign_cert.empty()) {
    ASSIGN_OR_RETURN(std::string cert,
                     ReadSmallFile(request.sign_cert, kMaxPemFile));
    text += "certificate " +
            DigestHex(DigestAlgorithm::kSha256, AsBytes(cert)) + "\n";
  }
  id.digest = DigestHex(DigestAlgorithm::kSha256, AsBytes(text));
  return id;
}

// A name the state may join to the output's path: one plain component.
bool PlainName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

// For looking at an output: gone (false) or unreadable (error).
bool Missing(int e) { return e == ENOENT || e == ENOTDIR; }

std::string Join(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// `size` bytes at `offset` of `path`; nullopt when the file is shorter
// (it changed under us: not the output recorded).
Result<std::optional<std::string>> ReadRange(const std::string& path,
                                             uint64_t offset, uint64_t size) {
  ASSIGN_OR_RETURN(auto file, FileRandomAccess::Open(path));
  auto end = CheckedAdd(offset, size);
  if (!end || *end > file->size()) return std::optional<std::string>();
  std::string bytes(static_cast<size_t>(size), '\0');
  Status s = ReadExactlyAt(
      *file, offset, {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
  if (s.code() == ErrorCode::kCorrupt) return std::optional<std::string>();
  RETURN_IF_ERROR(s);
  return std::optional<std::string>(std::move(bytes));
}

// The recorded manifest, where the record says it is.
Result<std::optional<std::string>> ReadManifest(const std::string& path,
                                                const RecordedOutput& rec,
                                                const RecordedFile& manifest) {
  if (rec.directory) {
    return ReadRange(Join(path, manifest.name), 0, manifest.size);
  }
  return ReadRange(path, manifest.offset, manifest.size);
}

Result<bool> Intact(const std::string& path, const RecordedOutput& rec) {
  const RecordedFile* manifest = nullptr;
  for (const RecordedFile& f : rec.files) {
    if (!PlainName(f.name)) return false;
    if (f.name == rec.manifest) manifest = &f;
  }
  if (manifest == nullptr || manifest->size > kMaxRecordedManifest) {
    return false;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (Missing(errno)) return false;
    return ErrnoError(path, errno);
  }
  if (rec.directory) {
    if (!S_ISDIR(st.st_mode)) return false;
    for (const RecordedFile& f : rec.files) {
      std::string file = Join(path, f.name);
      if (::stat(file.c_str(), &st) != 0) {
        if (Missing(errno)) return false;
        return ErrnoError(file, errno);
      }
      if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != f.size) {
        return false;
      }
    }
  } else if (!S_ISREG(st.st_mode) ||
             static_cast<uint64_t>(st.st_size) != rec.size) {
    return false;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   ReadManifest(path, rec, *manifest));
  return bytes.has_value() && DigestHex(DigestAlgorithm::kSha256,
                                        AsBytes(*bytes)) == rec.manifest_sha256;
}

bool IsActive(DomainState s) {
  return s != DomainState::kShutoff && s != DomainState::kCrashed &&
         s != DomainState::kNoState;
}

Result<std::string> Plan(Connection& conn, const ExportRequest& request) {
  const std::string& out = ExportOutputPath(request);
  std::error_code ec;
  if (std::filesystem::symlink_status(out, ec).type() !=
      std::filesystem::file_type::not_found) {
    return ExistsError("output " + Quote(out) + " already exists");
  }
  ASSIGN_OR_RETURN(DomainState state, conn.GetDomainState(request.domain));
  if (IsActive(state) && !request.live) {
    return FailedError("domain " + Quote(request.domain) + " is " +
                       std::string(ToString(state)) +
                       ": shut it down first (or give the item \"live\": "
                       "true to export it anyway)");
  }
  ASSIGN_OR_RETURN(DomainView view, ViewDomain(conn, request));
  for (const std::string& f : {request.sign_key, request.sign_cert}) {
    if (!f.empty()) RETURN_IF_ERROR(ReadSmallFile(f, kMaxPemFile).status());
  }
  const bool in_place = ReadsInPlace(conn, request);
  std::string text = "export domain " + Quote(request.domain) + " to " +
                     Quote(out) + " (" +
                     (request.ovf_dir.empty() ? "ova" : "ovf directory") +
                     ", ovf " + std::to_string(request.ovf_version) + ", " +
                     std::string(DigestName(request.digest)) + " manifest" +
                     (request.sign_cert.empty() ? "" : ", signed") + ")\n";
  for (const ExportSource& s : view.machine.sources) {
    std::string what =
        (s.device == DiskDevice::kDisk ? "disk " : "drive ") + Quote(s.target);
    std::string where;
    if (in_place) {
      auto path = LocalPath(conn, s);
      if (!path.ok()) return path.status().WithContext(what);
      // The export opens it the same way: a file it cannot read fails now.
      auto file = FileRandomAccess::Open(*path);
      if (!file.ok()) return file.status().WithContext(what);
      where = *path + " (" + s.format + ", read in place)";
    } else {
      auto v = RemoteVolume(conn, s);
      if (!v.ok()) return v.status().WithContext(what);
      where = v->pool + "/" + v->name + " (" + s.format + ", downloaded)";
    }
    text += "  " + what + ": " + where + "\n";
  }
  return text;
}

// The domain named once, first: some messages (libvirt's lookups, the
// running check) start with it already.
Status NameDomain(const Status& s, const std::string& domain) {
  const std::string name = "domain " + Quote(domain);
  if (s.message().rfind(name, 0) == 0) return s;
  return s.WithContext(name);
}

}  // namespace

Result<SourceIdentity> IdentifyExportSource(Connection& conn,
                                            const ExportRequest& request) {
  Result<SourceIdentity> id = Identify(conn, request);
  if (!id.ok()) return NameDomain(id.status(), request.domain);
  return id;
}

Result<RecordedOutput> RecordExportOutput(const ExportReport& report) {
  RecordedOutput out;
  out.path = report.output;
  out.directory = report.directory;
  const RecordedFile* manifest = nullptr;
  for (const ExportedFile& f : report.files) {
    out.files.push_back({f.name, f.offset, f.size});
    if (f.role == "manifest") out.manifest = f.name;
  }
  for (const RecordedFile& f : out.files) {
    if (f.name == out.manifest) manifest = &f;
  }
  if (manifest == nullptr || manifest->size > kMaxRecordedManifest) {
    return FailedError(out.path + ": the export has no manifest to record");
  }
  if (out.directory) {
    for (const RecordedFile& f : out.files) {
      out.size = CheckedAdd(out.size, f.size).value_or(UINT64_MAX);
    }
  } else {
    struct stat st;
    if (::stat(out.path.c_str(), &st) != 0) {
      return ErrnoError(out.path, errno);
    }
    out.size = static_cast<uint64_t>(st.st_size);
  }
  auto bytes = ReadManifest(out.path, out, *manifest);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) {
    return FailedError(out.path + ": the manifest " + Quote(manifest->name) +
                       " is not where the export put it");
  }
  out.manifest_sha256 = DigestHex(DigestAlgorithm::kSha256, AsBytes(**bytes));
  return out;
}

Result<bool> ExportOutputIntact(const std::string& path,
                                const RecordedOutput& recorded) {
  return Intact(path, recorded);
}

Result<std::string> PlanExport(Connection& conn, const ExportRequest& request) {
  Result<std::string> plan = Plan(conn, request);
  if (!plan.ok()) return NameDomain(plan.status(), request.domain);
  return plan;
}

}  // namespace ova2virt
