#include "ova/package_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "core/cancel.h"
#include "core/digest.h"
#include "core/file.h"
#include "ova/hash_queue.h"
#include "ova/input_sniffer.h"
#include "ova/member_name.h"
#include "ova/package_source.h"
#include "ova/parallel_hasher.h"

namespace ova2virt {

std::string_view InputKindName(InputKind kind) {
  switch (kind) {
    case InputKind::kOva:
      return "ova";
    case InputKind::kOvaGzip:
      return "ova+gzip";
    case InputKind::kOvfFile:
      return "ovf";
    case InputKind::kOvfDirectory:
      return "ovf-directory";
    case InputKind::kVmx:
      return "vmx";
  }
  return "ova";
}

// The current member's bytes, hashed as they pass.
class MemberData : public ByteSource {
 public:
  explicit MemberData(PackageReader::State& state) : state_(state) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  // Hashes on the reader's hash thread: the caller decodes the next block
  // while this one is hashed.
  Result<size_t> ReadShared(std::span<uint8_t> out, uint64_t* ticket) override;
  void Reclaim(uint64_t ticket) override;

 private:
  Result<size_t> ReadRaw(std::span<uint8_t> out);

  PackageReader::State& state_;
};

struct PackageReader::State {
  Options options;
  std::unique_ptr<PackageSource> source;
  Diagnostics warnings;
  std::vector<MemberInfo> members;
  std::vector<std::vector<std::pair<DigestAlgorithm, std::string>>> digests;
  std::map<std::string, uint64_t> offsets_by_name;  // for duplicate messages
  bool at_end = false;

  std::optional<std::string> descriptor;
  std::string descriptor_name;
  std::optional<std::string> manifest_text;
  std::optional<Manifest> manifest;
  std::string manifest_name;
  std::optional<std::string> certificate_text;
  std::string certificate_name;
  // The manifest found by reading ahead (seekable tars).
  bool ahead_tried = false;
  PackageSource::ManifestAhead ahead_scan;
  std::optional<Manifest> ahead;
  std::vector<std::string> expected;

  // The current member.
  bool in_member = false;
  // Hashes the current member: with one algorithm, or several side by side
  // when the manifest has not been seen.
  std::optional<ParallelHasher> hasher;
  // Blocks lent by ReadShared(), hashed behind the consumer. Declared after
  // `hasher`, so it stops before the hasher it uses goes away.
  std::unique_ptr<HashQueue> queue;
  uint64_t consumed = 0;
  std::optional<std::string> held;  // descriptor, manifest or certificate
  std::optional<MemorySource> held_source;
  MemberData data{*this};

  const MemberInfo& current() const { return members.back(); }
  std::string Who(const std::string& name) const {
    return std::string(source->noun()) + " " + Quote(name);
  }
  // A member whose data runs past the end of the archive. Said the same
  // way whether a seekable file's size showed it before reading or a pipe
  // ran dry while reading.
  Status Truncated(const std::string& name, uint64_t offset, uint64_t size,
                   uint64_t end) const {
    return CorruptError(
        Who(name) + " at byte " + std::to_string(offset) +
        ": archive is truncated (the member's " + std::to_string(size) +
        " bytes run past its end at byte " + std::to_string(end) + ")");
  }
  // Puts the current member's name in front of an error about it: "member
  // 'x' at byte N: ..." for an error at an offset of the archive, "member
  // 'x': ..." for others.
  Status AboutCurrent(const Status& s) const {
    if (s.ok()) return s;
    if (s.code() == ErrorCode::kCorrupt && s.byte_offset() && s.truncated()) {
      return Truncated(current().name, current().offset, current().size,
                       source->position());
    }
    std::string who = Who(current().name);
    if (s.byte_offset()) return Status(s.code(), who + " " + s.message());
    return s.WithContext(who);
  }
  Status FinishCurrent();
  Status Drain();
  Result<std::optional<MemberInfo>> Next();
  Status Accept(const SourceEntry& entry, std::string name);
  Status ReadHeld(MemberRole role);
  std::vector<DigestAlgorithm> AlgorithmsFor(const std::string& name);
  std::vector<std::string> Wanted() const;
};

Result<size_t> MemberData::ReadRaw(std::span<uint8_t> out) {
  Result<size_t> n = state_.source->Read(out);
  if (!n.ok()) return state_.AboutCurrent(n.status());
  state_.consumed += *n;
  return n;
}

Result<size_t> MemberData::Read(std::span<uint8_t> out) {
  if (!state_.in_member) return size_t{0};
  if (state_.held_source) return state_.held_source->Read(out);
  ASSIGN_OR_RETURN(size_t n, ReadRaw(out));
  if (state_.hasher) {
    // In order: what was lent before is hashed first.
    if (state_.queue) state_.queue->WaitAll();
    state_.hasher->Update(out.first(n));
  }
  return n;
}

Result<size_t> MemberData::ReadShared(std::span<uint8_t> out,
                                      uint64_t* ticket) {
  *ticket = 0;
  if (!state_.in_member) return size_t{0};
  if (state_.held_source) return state_.held_source->Read(out);
  ASSIGN_OR_RETURN(size_t n, ReadRaw(out));
  if (state_.hasher && n > 0) {
    if (!state_.queue) state_.queue = std::make_unique<HashQueue>();
    *ticket = state_.queue->Push(*state_.hasher, out.first(n));
  }
  return n;
}

void MemberData::Reclaim(uint64_t ticket) {
  if (ticket != 0 && state_.queue) state_.queue->WaitFor(ticket);
}

Status PackageReader::State::Drain() {
  if (!in_member || held_source) return OkStatus();
  if (queue) queue->WaitAll();  // what was lent is hashed first
  Progress* progress = options.progress;
  if (progress) progress->Begin(current().name, current().size);
  Status status;
  for (;;) {
    // A multi-GiB member takes seconds: let Ctrl-C through.
    status = AboutCurrent(CheckCancelled());
    if (!status.ok()) break;
    Result<std::span<const uint8_t>> block = source->ReadBlock();
    if (!block.ok()) {
      status = AboutCurrent(block.status());
      break;
    }
    if (block->empty()) break;
    if (hasher) hasher->Update(*block);
    consumed += block->size();
    if (progress) progress->Update(consumed);
  }
  if (progress) progress->End();
  return status;
}

Status PackageReader::State::FinishCurrent() {
  if (!in_member) return OkStatus();
  if (!held_source) {
    if (hasher) {
      RETURN_IF_ERROR(Drain());
      if (consumed != current().size) {
        return CorruptError(Who(current().name) + ": " +
                            std::to_string(consumed) + " bytes read, " +
                            std::to_string(current().size) + " expected");
      }
      digests.back() = hasher->FinishHex();
    } else {
      RETURN_IF_ERROR(AboutCurrent(source->Skip()));
    }
  }
  in_member = false;
  hasher.reset();
  held.reset();
  held_source.reset();
  consumed = 0;
  return OkStatus();
}

std::vector<DigestAlgorithm> PackageReader::State::AlgorithmsFor(
    const std::string& name) {
  if (!options.hash) return {};
  if (!manifest && !ahead_tried && options.read_manifest_ahead &&
      source->bound()) {
    ahead_tried = true;
    ahead_scan = source->ReadManifestAhead(options.max_manifest_bytes);
    if (ahead_scan.outcome == PackageSource::ManifestAhead::Outcome::kFound) {
      auto parsed = ParseManifest(ahead_scan.text);
      // A broken manifest is reported when the main pass reaches it; until
      // then, hash with everything.
      if (parsed.ok()) ahead = std::move(*parsed);
    }
  }
  if (manifest) return manifest->AlgorithmsFor(name);
  if (ahead) return ahead->AlgorithmsFor(name);
  // The whole archive was scanned and holds no manifest: there is nothing
  // to check against.
  if (ahead_scan.outcome == PackageSource::ManifestAhead::Outcome::kNone) {
    return {};
  }
  return {kAllDigests.begin(), kAllDigests.end()};
}

std::vector<std::string> PackageReader::State::Wanted() const {
  std::vector<std::string> out = expected;
  if (manifest) {
    for (const ManifestEntry& e : manifest->entries) out.push_back(e.name);
  }
  return out;
}

Status PackageReader::State::ReadHeld(MemberRole role) {
  const MemberInfo& m = current();
  size_t cap = role == MemberRole::kDescriptor ? options.max_descriptor_bytes
                                               : options.max_manifest_bytes;
  if (m.size > cap) {
    return CorruptError(Who(m.name) + ": " + std::string(MemberRoleName(role)) +
                        " of " + std::to_string(m.size) +
                        " bytes exceeds the limit of " + std::to_string(cap) +
                        " bytes");
  }
  std::string text(static_cast<size_t>(m.size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    Result<size_t> n = source->Read(
        {reinterpret_cast<uint8_t*>(text.data()) + done, text.size() - done});
    if (!n.ok()) return AboutCurrent(n.status());
    if (*n == 0) {
      return CorruptError(Who(m.name) + ": ends after " + std::to_string(done) +
                          " of " + std::to_string(m.size) + " bytes");
    }
    done += *n;
  }
  // Small members: hash with everything, whatever the manifest says.
  MultiHasher all(kAllDigests);
  all.Update(AsBytes(text));
  digests.back() = all.FinishHex();
  consumed = text.size();
  switch (role) {
    case MemberRole::kDescriptor:
      descriptor = text;
      descriptor_name = m.name;
      break;
    case MemberRole::kManifest: {
      if (ahead_scan.outcome == PackageSource::ManifestAhead::Outcome::kFound &&
          ahead_scan.name == m.name && ahead_scan.text != text) {
        return CorruptError(Who(m.name) + ": changed while being read");
      }
      auto parsed = ParseManifest(text);
      if (!parsed.ok()) return parsed.status().WithContext(Who(m.name));
      manifest = std::move(*parsed);
      manifest_text = text;
      manifest_name = m.name;
      break;
    }
    case MemberRole::kCertificate:
      certificate_text = text;
      certificate_name = m.name;
      break;
    case MemberRole::kFile:
      break;
  }
  held = std::move(text);
  held_source.emplace(std::string_view(*held));
  return OkStatus();
}

Status PackageReader::State::Accept(const SourceEntry& entry,
                                    std::string name) {
  MemberInfo info;
  info.name = std::move(name);
  info.offset = entry.data_offset;
  info.size = static_cast<uint64_t>(entry.size);
  // The first of each kind has the role; later ones are plain files.
  auto claim = [&](std::string_view ext, bool taken, MemberRole role,
                   const char* id, const std::string& first) {
    if (!HasExtension(info.name, ext)) return false;
    if (!taken) {
      info.role = role;
      return true;
    }
    warnings.Warn(id, info.name,
                  "a second " + std::string(MemberRoleName(role)) +
                      "; the first, " + Quote(first) + ", is the one used");
    return true;
  };
  claim(".ovf", descriptor.has_value(), MemberRole::kDescriptor,
        "ova.extra-descriptor", descriptor_name) ||
      claim(".mf", manifest.has_value(), MemberRole::kManifest,
            "ova.extra-manifest", manifest_name) ||
      claim(".cert", certificate_text.has_value(), MemberRole::kCertificate,
            "ova.extra-certificate", certificate_name);
  // A descriptor given by name (an .ovf or .vmx file) is the descriptor
  // whatever its extension (templates are often NAME.ovf.tpl).
  if ((source->kind() == InputKind::kVmx ||
       source->kind() == InputKind::kOvfFile) &&
      members.empty()) {
    info.role = MemberRole::kDescriptor;
  }
  if (info.role == MemberRole::kDescriptor && !members.empty() &&
      (source->kind() == InputKind::kOva ||
       source->kind() == InputKind::kOvaGzip)) {
    warnings.Warn("ova.descriptor-not-first", info.name,
                  "the descriptor is not the first member, as the OVF "
                  "specification and VMware's tools expect");
  }
  offsets_by_name[info.name] = entry.header_offset;
  members.push_back(info);
  digests.emplace_back();
  in_member = true;
  consumed = 0;
  if (info.role != MemberRole::kFile) return ReadHeld(info.role);
  std::vector<DigestAlgorithm> algorithms = AlgorithmsFor(info.name);
  if (!algorithms.empty()) hasher.emplace(algorithms);
  return OkStatus();
}

Result<std::optional<MemberInfo>> PackageReader::State::Next() {
  if (at_end) return std::optional<MemberInfo>();
  RETURN_IF_ERROR(FinishCurrent());
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<SourceEntry> entry,
                     source->Next([this] { return Wanted(); }));
    for (std::string& w : source->TakeWarnings()) {
      warnings.Warn("ova.tar-warning", "", std::move(w));
    }
    if (!entry) {
      at_end = true;
      source->CheckEnd(warnings);
      return std::optional<MemberInfo>();
    }
    ASSIGN_OR_RETURN(std::string name, ValidateMemberName(entry->name));
    const std::string who = Who(entry->name);
    switch (entry->type) {
      case TarEntryType::kFile:
        break;
      case TarEntryType::kDirectory:
        // Harmless, but not part of a package.
        if (!name.empty()) {
          warnings.Warn("ova.directory-member", name,
                        "directory member skipped");
        }
        continue;
      case TarEntryType::kSymlink:
      case TarEntryType::kHardlink:
        return CorruptError(
            who + ": " + std::string(TarEntryTypeName(entry->type)) + " to " +
            Quote(entry->link_target) + " (only regular files are allowed)");
      default:
        return CorruptError(who + ": " +
                            std::string(TarEntryTypeName(entry->type)) +
                            " (only regular files are allowed)");
    }
    if (name.empty()) return CorruptError(who + ": names no file");
    if (entry->sparse) {
      return UnsupportedError(who + ": sparse tar members are not supported");
    }
    if (entry->size < 0) return CorruptError(who + ": negative size");
    if (auto bound = source->bound()) {
      uint64_t size = static_cast<uint64_t>(entry->size);
      if (entry->data_offset > *bound || size > *bound - entry->data_offset) {
        return Truncated(entry->name, entry->data_offset, size, *bound);
      }
    }
    if (IsAppleDouble(name)) {
      warnings.Warn("ova.appledouble", name,
                    "macOS AppleDouble member skipped");
      continue;
    }
    if (auto dup = offsets_by_name.find(name); dup != offsets_by_name.end()) {
      return CorruptError(who + ": duplicate name (first at byte " +
                          std::to_string(dup->second) + ")");
    }
    RETURN_IF_ERROR(Accept(*entry, std::move(name)));
    return std::optional<MemberInfo>(current());
  }
}

PackageReader::PackageReader(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
PackageReader::~PackageReader() = default;

namespace {

Result<std::unique_ptr<PackageSource>> OpenSource(const std::string& input) {
  if (input == "-") {
    File in = File::Borrow(0, "stdin");
    in.GrowPipeBuffer();
    return OpenSniffedStream(std::move(in));
  }
  struct stat st;
  if (::stat(input.c_str(), &st) != 0) return ErrnoError(input, errno);
  if (S_ISDIR(st.st_mode)) {
    ASSIGN_OR_RETURN(DirectoryDescriptor d, FindDescriptorInDirectory(input));
    return OpenFilesOnDisk(input, d.name, d.kind);
  }
  ASSIGN_OR_RETURN(File file, File::OpenRead(input));
  if (!file.IsSeekable()) {
    file.GrowPipeBuffer();
    return OpenSniffedStream(std::move(file));
  }
  ASSIGN_OR_RETURN(uint64_t size, file.Size());
  auto ra = std::make_unique<FileRandomAccess>(std::move(file), size);
  ASSIGN_OR_RETURN(InputFormat format, SniffFile(*ra, input));
  switch (format) {
    case InputFormat::kTar:
      return OpenTarFile(std::move(ra), /*gzip=*/false);
    case InputFormat::kGzipTar:
      return OpenTarFile(std::move(ra), /*gzip=*/true);
    case InputFormat::kOvf:
    case InputFormat::kVmx: {
      ra.reset();
      size_t slash = input.rfind('/');
      std::string dir =
          slash == std::string::npos ? "." : input.substr(0, slash);
      if (dir.empty()) dir = "/";
      std::string name =
          slash == std::string::npos ? input : input.substr(slash + 1);
      return OpenFilesOnDisk(
          dir, name,
          format == InputFormat::kOvf ? InputKind::kOvfFile : InputKind::kVmx);
    }
  }
  return CorruptError("not a package");
}

}  // namespace

Result<std::unique_ptr<PackageReader>> PackageReader::Open(
    const std::string& input, const Options& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  ASSIGN_OR_RETURN(state->source, OpenSource(input));
  return std::unique_ptr<PackageReader>(new PackageReader(std::move(state)));
}

InputKind PackageReader::kind() const { return state_->source->kind(); }
bool PackageReader::streamed() const { return state_->source->streamed(); }

Result<std::optional<MemberInfo>> PackageReader::Next() {
  return state_->Next();
}

ByteSource& PackageReader::Data() { return state_->data; }

RandomAccessSource* PackageReader::InPlace() {
  if (!state_->in_member) return nullptr;
  return state_->source->InPlace();
}

Status PackageReader::DrainMember() { return state_->Drain(); }

const std::string* PackageReader::descriptor() const {
  return state_->descriptor ? &*state_->descriptor : nullptr;
}
const std::string& PackageReader::descriptor_name() const {
  return state_->descriptor_name;
}
const Manifest* PackageReader::manifest() const {
  return state_->manifest ? &*state_->manifest : nullptr;
}
const std::string& PackageReader::manifest_name() const {
  return state_->manifest_name;
}
const std::string& PackageReader::certificate_name() const {
  return state_->certificate_name;
}
const Diagnostics& PackageReader::warnings() const { return state_->warnings; }
const std::vector<MemberInfo>& PackageReader::members() const {
  return state_->members;
}

Status PackageReader::ExpectFiles(const std::vector<std::string>& hrefs) {
  // A set beside the list: a descriptor may name 100000 chunks.
  auto& expected = state_->expected;
  std::set<std::string> seen(expected.begin(), expected.end());
  for (const std::string& href : hrefs) {
    ASSIGN_OR_RETURN(std::string name, ValidateHref(href));
    if (seen.insert(name).second) expected.push_back(std::move(name));
  }
  return OkStatus();
}

Result<VerificationReport> PackageReader::Finish(const VerifyOptions& options) {
  State& s = *state_;
  while (!s.at_end) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> ignored, s.Next());
    (void)ignored;
  }
  if (!s.descriptor) {
    return CorruptError("no ovf descriptor (.ovf " +
                        std::string(s.source->noun()) + ") in the package");
  }
  if (s.manifest && BaseName(s.manifest_name) != BaseName(s.descriptor_name)) {
    s.warnings.Warn("ova.manifest-name", s.manifest_name,
                    "the manifest's name does not match the descriptor's " +
                        Quote(s.descriptor_name));
  }
  VerificationInput in;
  for (size_t i = 0; i < s.members.size(); ++i) {
    in.members.push_back({s.members[i].name, s.members[i].role, s.digests[i]});
  }
  in.manifest = s.manifest ? &*s.manifest : nullptr;
  in.manifest_name = s.manifest_name;
  if (s.manifest_text) in.manifest_bytes = *s.manifest_text;
  in.certificate_text = s.certificate_text ? &*s.certificate_text : nullptr;
  in.certificate_name = s.certificate_name;
  in.referenced = s.expected;
  in.noun = std::string(s.source->noun());
  in.digests_computed = s.options.hash;
  VerificationReport report = BuildVerificationReport(in, options);
  Diagnostics all = s.warnings;
  all.Append(report.warnings);
  report.warnings = std::move(all);
  return report;
}

}  // namespace ova2virt
