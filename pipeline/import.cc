#include "pipeline/import.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "convert/disk_open.h"
#include "convert/qcow2_writer.h"
#include "convert/raw.h"
#include "core/cancel.h"
#include "core/chain_source.h"
#include "core/compress.h"
#include "core/file.h"
#include "ova/iso_writer.h"
#include "ova/member_name.h"
#include "ova/package_reader.h"
#include "ova/references.h"
#include "pipeline/cleanup.h"
#include "pipeline/describe.h"
#include "pipeline/disk_destination.h"
#include "pipeline/import_plan.h"
#include "pipeline/verify.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"
#include "virtdriver/host_probe.h"
#include "virtdriver/rollback.h"

namespace ova2virt {
namespace {

constexpr size_t kMaxCaFile = 4u << 20;

bool IsTar(InputKind k) {
  return k == InputKind::kOva || k == InputKind::kOvaGzip;
}

std::string FolderOf(const std::string& input, InputKind kind) {
  if (kind == InputKind::kOvfDirectory) return input;
  std::string dir = std::filesystem::path(input).parent_path().string();
  return dir.empty() ? "." : dir;
}

class Importer {
 public:
  Importer(Connection& conn, const ImportRequest& request)
      : conn_(conn), request_(request), txn_(conn, &report_.warnings) {}

  // What has been gathered so far (after a failed Run: up to the failure).
  const Diagnostics& warnings() const { return report_.warnings; }

  Result<ImportReport> Run() {
    Status s = Steps();
    if (s.ok()) s = txn_.journal_status();
    if (!s.ok()) {
      if (created_pool_) {
        // Not undone, as virt-install leaves it: the next import uses it.
        s = Status(s.code(), s.message() + " (storage pool " +
                                 Quote(storage_.pool) +
                                 ", created for this import, stays)");
      }
      // Undo now rather than in the destructor, so that anything that
      // could not be removed is part of the error the user sees.
      Status undo = txn_.Rollback();
      if (!undo.ok()) {
        return Status(s.code(), s.message() + "; cleaning up failed too: " +
                                    undo.message());
      }
      return s;
    }
    txn_.Commit();
    if (!txn_.journal_status().ok()) {
      // The journal is marked committed, or it could not be written at
      // all: either way no cleaner takes the import for a leftover.
      report_.warnings.Warn("import.journal", journal_ ? journal_->path() : "",
                            txn_.journal_status().message());
    }
    return std::move(report_);
  }

  Status Steps() {
    report_.input = request_.input;
    report_.dry_run = request_.dry_run;
    if (!request_.dry_run) StartJournal();
    report_.phases.Start("plan");
    RETURN_IF_ERROR(OpenAndPlan());
    if (request_.dry_run) {
      // Everything but the disk bytes: the same walk over the package as
      // an import (members skipped, not read), so a dry run refuses what
      // the import would at the package level.
      RETURN_IF_ERROR(CopyAll());
      RETURN_IF_ERROR(Verify());
      report_.phases.Stop();
      return OkStatus();
    }
    RETURN_IF_ERROR(CreatePool());
    RETURN_IF_ERROR(ReplaceExisting());
    report_.phases.Start("copy");
    RETURN_IF_ERROR(CopyAll());
    report_.phases.Start("verify");
    RETURN_IF_ERROR(Verify());
    if (request_.convert_guest) {
      report_.phases.Start("convert-guest");
      RETURN_IF_ERROR(ConvertGuests());
    }
    report_.phases.Start("define");
    RETURN_IF_ERROR(Define());
    report_.phases.Stop();
    return OkStatus();
  }

 private:
  // --- journal ----------------------------------------------------------

  // Cleans up after killed imports on this connection, then starts this
  // import's journal. Neither can fail the import: without a journal it
  // still rolls back on any error, only a SIGKILL would leave untracked
  // leftovers (and the user is told).
  void StartJournal() {
    std::string dir = request_.journal_dir.empty() ? DefaultJournalDir()
                                                   : request_.journal_dir;
    for (const CleanupJournal& j : CleanupStaleImports(conn_, dir).journals) {
      bool did = std::any_of(j.items.begin(), j.items.end(), [](auto& i) {
        return i.action == "removed" || i.action == "failed";
      });
      if (!did) continue;  // a journal with nothing left in it just goes
      report_.warnings.Warn("import.cleaned-leftovers", j.path,
                            DescribeCleanup(j));
    }
    auto journal = JournalWriter::Create(dir, conn_.Uri());
    if (!journal.ok()) {
      report_.warnings.Warn(
          "import.no-journal", dir,
          "cannot keep an import journal (" + journal.status().message() +
              "): should this import be killed, 'ova2virt cleanup' will not "
              "find what it leaves");
      return;
    }
    journal_ = std::move(journal).value();
    import_id_ = journal_->id();
    txn_.SetJournal(journal_.get());
  }

  // --- plan -------------------------------------------------------------

  Status OpenAndPlan() {
    PackageReader::Options options;
    // A dry run reads no disk bytes: members are skipped (by seeking where
    // the input allows), and their digests are left unchecked.
    options.hash = !request_.dry_run;
    ASSIGN_OR_RETURN(reader_, PackageReader::Open(request_.input, options));
    noun_ = IsTar(reader_->kind()) ? "member " : "file ";
    // Members before the descriptor: remembered, converted in place later
    // (a seekable tar) or refused (a pipe cannot go back).
    while (reader_->descriptor() == nullptr) {
      ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader_->Next());
      if (!m) {
        return CorruptError(std::string("no ovf descriptor (.ovf ") +
                            (IsTar(reader_->kind()) ? "member" : "file") +
                            ") in the package");
      }
      if (m->role == MemberRole::kFile) early_.push_back(*m);
    }
    const std::string& text = *reader_->descriptor();
    const std::string where = noun_ + Quote(reader_->descriptor_name());
    std::optional<DescriptorKind> kind =
        GuessDescriptorKind(reader_->descriptor_name(), text);
    if (!kind) {
      return CorruptError(where + ": neither an OVF descriptor nor a .vmx");
    }
    OvfReadOptions read_options;
    read_options.deployment = request_.deployment;
    auto appliance =
        DescribeDescriptor(text, *kind, read_options, &report_.warnings);
    if (!appliance.ok()) return appliance.status().WithContext(where);
    appliance_ = std::move(appliance).value();

    RETURN_IF_ERROR(ChooseStorage());
    ImportRequest effective = request_;
    if (request_.convert_guest) {
      // Refused now, before anything is written, rather than after the copy.
      RETURN_IF_ERROR(
          CheckGuestConversion(storage_.files || storage_.in_place));
      // The converted guest has virtio drivers, and boots from them.
      effective.policy.disk_bus = DiskBusChoice::kVirtio;
      effective.policy.nic_model = NicModelChoice::kVirtio;
    }
    // Marks the domain as this import's, for rollback and cleanup.
    if (!import_id_.empty())
      effective.metadata.push_back({"import-id", import_id_});
    if (!effective.policy.virt_type && !effective.policy.kvm_available) {
      auto caps = conn_.Capabilities();
      if (caps.ok()) effective.policy.kvm_available = caps->kvm;
      if (caps.ok() && caps->kvm && conn_.IsLocal() && KvmIsPvm()) {
        effective.policy.kvm_available = false;
        report_.warnings.Warn(
            "import.kvm-unusable", "/dev/kvm",
            "this host's kvm is kvm_pvm (a paravirtual kvm inside a virtual "
            "machine), which cannot run UEFI firmware or most kernels; "
            "using tcg (--virt-type kvm overrides)");
      }
    }
    ASSIGN_OR_RETURN(
        plan_, PlanImport(appliance_, effective, storage_, &report_.warnings));
    RETURN_IF_ERROR(
        CheckPlanOnHost(conn_, plan_, request_, storage_, &report_.warnings));
    report_.plan_text = DescribePlan(plan_, storage_);
    RETURN_IF_ERROR(ExpectFiles(*kind));
    for (const DomainPlan& d : plan_.domains) {
      ImportedDomain out;
      out.name = d.name;
      out.machine = d.target.machine;
      out.virt_type = std::string(ToString(d.target.virt_type));
      out.xml = d.xml;
      out.serial_log = d.options.serial_log_path;
      report_.domains.push_back(std::move(out));
    }
    for (const CopyJob& job : plan_.jobs) {
      for (const std::string& m : job.members)
        job_of_member_[m] = &job - plan_.jobs.data();
    }
    return OkStatus();
  }

  Status ChooseStorage() {
    if (request_.upload && !request_.storage_dir.empty()) {
      return UsageError(
          "--upload sends the disks to a pool; it does not go with "
          "--storage-dir");
    }
    if (!request_.storage_dir.empty()) {
      storage_.files = true;
      storage_.dir = request_.storage_dir;
      std::error_code ec;
      if (!std::filesystem::is_directory(storage_.dir, ec)) {
        return NotFoundError("storage directory " + Quote(storage_.dir) +
                             " does not exist");
      }
      storage_.dir = std::filesystem::absolute(storage_.dir, ec).string();
      return OkStatus();
    }
    if (!conn_.HasStorageDriver()) {
      return UsageError("connection " + Quote(conn_.Uri()) +
                        " has no storage pools; write the disks as files "
                        "with --storage-dir DIR");
    }
    Result<Pool> pool = conn_.LookupPool(request_.pool);
    if (!pool.ok() && pool.status().code() == ErrorCode::kNotFound &&
        !request_.pool_named && request_.pool == "default") {
      return PlanDefaultPool(pool.status());
    }
    if (!pool.ok()) return pool.status();
    storage_.pool = pool->name;
    storage_.in_place = pool->is_local && conn_.IsLocal();
    if (storage_.in_place) storage_.dir = pool->target_path;
    return OkStatus();
  }

  // No pool was named and `default` does not exist (a fresh host): plan to
  // create it where virt-install would.
  Status PlanDefaultPool(const Status& not_found) {
    const char* xdg = getenv("XDG_DATA_HOME");
    const char* home = getenv("HOME");
    std::string uri = conn_.Uri();
    std::optional<std::string> path =
        DefaultPoolPath(uri, xdg ? xdg : "", home ? home : "");
    if (!path) {
      return Status(not_found.code(),
                    not_found.message() +
                        " (ova2virt creates `default` only on a qemu "
                        "driver's system or local session instance; create "
                        "a pool, or name one with --pool)");
    }
    storage_.pool = request_.pool;
    storage_.create_pool = true;
    storage_.pool_path = *path;
    storage_.in_place = conn_.IsLocal();
    if (storage_.in_place) storage_.dir = *path;
    if (request_.dry_run) {
      report_.warnings.Warn(
          "import.default-pool", storage_.pool,
          "storage pool " + Quote(storage_.pool) +
              " does not exist; the import will create it (a dir pool at " +
              Quote(*path) + ", as virt-install does)");
    }
    return OkStatus();
  }

  // Makes the planned `default` pool: defined, built, started, autostarted.
  Status CreatePool() {
    if (!storage_.create_pool) return OkStatus();
    Result<Pool> pool =
        conn_.CreateDirPool(storage_.pool, storage_.pool_path, true);
    if (!pool.ok()) {
      // Another import (a batch's other job) or tool may have made it since
      // the plan: use theirs, once it has started (a few seconds at most).
      Result<Pool> theirs = conn_.LookupPool(storage_.pool);
      for (int i = 0; i < 50 && theirs.ok() && !theirs->active; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        theirs = conn_.LookupPool(storage_.pool);
      }
      if (!theirs.ok() || !theirs->active) {
        return pool.status().WithContext("creating the default pool");
      }
      pool = std::move(theirs);
    } else {
      created_pool_ = true;
      report_.warnings.Warn(
          "import.created-default-pool", storage_.pool,
          "created storage pool " + Quote(storage_.pool) + " (a dir pool at " +
              Quote(pool->target_path) +
              ", started and autostarted, as virt-install does); it stays "
              "whatever becomes of this import");
    }
    storage_.create_pool = false;
    storage_.in_place = pool->is_local && conn_.IsLocal();
    if (storage_.in_place && pool->target_path != storage_.dir) {
      return FailedError("pool " + Quote(storage_.pool) + " has target " +
                         Quote(pool->target_path) + ", not the planned " +
                         Quote(storage_.dir));
    }
    return OkStatus();
  }

  // The package must hold every file the descriptor references (the same
  // check `verify` makes), whether or not this import uses it.
  Status ExpectFiles(DescriptorKind kind) {
    std::vector<std::string> names;
    if (kind == DescriptorKind::kOvf) {
      ASSIGN_OR_RETURN(std::vector<FileReference> refs,
                       ReadFileReferences(*reader_->descriptor()));
      for (const FileReference& ref : refs) {
        ASSIGN_OR_RETURN(std::vector<std::string> m,
                         ReferencedMemberNames(ref));
        names.insert(names.end(), m.begin(), m.end());
      }
    } else {
      for (const CopyJob& job : plan_.jobs) {
        names.insert(names.end(), job.members.begin(), job.members.end());
      }
    }
    return reader_->ExpectFiles(names);
  }

  // --force: what is in the way goes now, after every check has passed.
  Status ReplaceExisting() {
    if (!request_.force) return OkStatus();
    for (const DomainPlan& d : plan_.domains) {
      ASSIGN_OR_RETURN(bool exists, conn_.DomainExists(d.name));
      if (!exists) continue;
      RETURN_IF_ERROR(conn_.DestroyDomain(d.name));
      RETURN_IF_ERROR(conn_.UndefineDomain(d.name));
      report_.warnings.Warn("import.replaced-domain", d.name,
                            "the existing domain was removed (--force)");
    }
    if (storage_.files) return OkStatus();  // files are replaced on commit
    for (const CopyJob& job : plan_.jobs) {
      ASSIGN_OR_RETURN(bool exists,
                       conn_.VolumeExists(storage_.pool, job.name));
      if (!exists) continue;
      RETURN_IF_ERROR(conn_.DeleteVolume(storage_.pool, job.name));
      report_.warnings.Warn("import.replaced-volume", job.name,
                            "the existing volume was removed (--force)");
    }
    return OkStatus();
  }

  // --- copy -------------------------------------------------------------

  // Converts every job; on a dry run, walks the package as the copy would,
  // with the same checks on members and their order, converting nothing.
  Status CopyAll() {
    // Blank disks and the environment CD need no package data.
    for (CopyJob& job : plan_.jobs) {
      if (job.kind == CopyJob::kBlank || job.kind == CopyJob::kEnvironment) {
        if (request_.dry_run) {
          done_.insert(&job - plan_.jobs.data());
          continue;
        }
        RETURN_IF_ERROR(WriteWithoutData(job));
      }
    }
    for (const MemberInfo& m : early_) {
      auto it = job_of_member_.find(m.name);
      if (it == job_of_member_.end()) continue;
      RETURN_IF_ERROR(ConvertEarly(plan_.jobs[it->second], m));
    }
    for (;;) {
      RETURN_IF_ERROR(CheckCancelled());
      ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader_->Next());
      if (!m) break;
      if (m->role != MemberRole::kFile) continue;
      auto it = job_of_member_.find(m->name);
      if (it == job_of_member_.end()) continue;
      CopyJob& job = plan_.jobs[it->second];
      if (job.members.front() != m->name) {
        return CorruptError(noun_ + Quote(m->name) + " is a piece of " +
                            Quote(job.file.href) +
                            " that comes before its first piece");
      }
      RETURN_IF_ERROR(ConvertMember(job, *m));
    }
    return OkStatus();
  }

  Result<std::unique_ptr<DiskDestination>> Destination(const CopyJob& job,
                                                       uint64_t capacity) {
    if (storage_.files) {
      return OpenFileDestination(job.path, request_.force, txn_);
    }
    return OpenVolumeDestination(conn_, storage_.pool, job.name, capacity,
                                 std::string(ToString(job.format)),
                                 storage_.in_place && !request_.upload, txn_,
                                 &report_.warnings);
  }

  Status WriteWithoutData(CopyJob& job) {
    if (job.kind == CopyJob::kEnvironment) {
      StringSink iso;
      RETURN_IF_ERROR(WriteIso9660({{"ovf-env.xml", job.environment}},
                                   kOvfEnvironmentLabel, iso));
      ASSIGN_OR_RETURN(auto dest, Destination(job, iso.str().size()));
      RETURN_IF_ERROR(dest->sink().WriteAt(0, AsBytes(iso.str())));
      RETURN_IF_ERROR(dest->sink().SetSize(iso.str().size()));
      RETURN_IF_ERROR(dest->Commit());
      Record(job, dest->path(), iso.str().size(), iso.str().size(), {});
      return OkStatus();
    }
    uint64_t capacity = *job.capacity;
    ASSIGN_OR_RETURN(auto dest, Destination(job, capacity));
    std::unique_ptr<DiskWriter> writer = Writer(job, dest->sink(), capacity);
    ASSIGN_OR_RETURN(WriteStats stats, writer->Finish());
    RETURN_IF_ERROR(dest->Commit());
    Record(job, dest->path(), capacity, stats.bytes_written, {});
    return OkStatus();
  }

  std::unique_ptr<DiskWriter> Writer(const CopyJob& job, BlockSink& sink,
                                     uint64_t capacity) {
    if (job.format == VolumeFormat::kQcow2) {
      return std::make_unique<Qcow2Writer>(sink, capacity);
    }
    return std::make_unique<RawWriter>(sink, capacity);
  }

  // Moves the reader to piece `i` (> 0) of a chunked file.
  Status NextPiece(const CopyJob& job, size_t i) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader_->Next());
    if (!m || m->name != job.members[i]) {
      return CorruptError("piece " + Quote(job.members[i]) +
                          " does not follow " + Quote(job.members[i - 1]));
    }
    return OkStatus();
  }

  // Converts the job whose first member is the reader's current one (a dry
  // run only checks that its pieces follow).
  Status ConvertMember(CopyJob& job, const MemberInfo& first) {
    if (request_.dry_run) {
      for (size_t i = 1; i < job.members.size(); ++i) {
        Status s = NextPiece(job, i);
        if (!s.ok()) return s.WithContext(noun_ + Quote(job.members.front()));
      }
      done_.insert(&job - plan_.jobs.data());
      return OkStatus();
    }
    ByteSource* stream = &reader_->Data();
    std::unique_ptr<ChainSource> chain;
    if (job.members.size() > 1) {
      chain = std::make_unique<ChainSource>(
          [this, &job](size_t i) -> Result<std::unique_ptr<ByteSource>> {
            if (i >= job.members.size()) return std::unique_ptr<ByteSource>();
            if (i > 0) RETURN_IF_ERROR(NextPiece(job, i));
            return std::unique_ptr<ByteSource>(
                std::make_unique<BorrowedSource>(reader_->Data()));
          });
      stream = chain.get();
    }
    bool whole = job.members.size() == 1 && job.file.compression.empty();
    RandomAccessSource* random = whole ? reader_->InPlace() : nullptr;
    uint64_t size = whole ? first.size : 0;
    return Convert(job, stream, random, size);
  }

  // A member that came before the descriptor: read it in place, from the
  // file (only a seekable, uncompressed tar allows going back).
  Status ConvertEarly(CopyJob& job, const MemberInfo& m) {
    if (reader_->kind() != InputKind::kOva || reader_->streamed() ||
        job.members.size() != 1) {
      return UnsupportedError(
          noun_ + Quote(m.name) +
          " comes before the descriptor, which can only be handled when "
          "the package is a seekable, uncompressed file (not a pipe)");
    }
    if (request_.dry_run) {
      done_.insert(&job - plan_.jobs.data());
      return OkStatus();
    }
    if (package_file_ == nullptr) {
      ASSIGN_OR_RETURN(package_file_, FileRandomAccess::Open(request_.input));
    }
    SliceRandomAccess slice(*package_file_, m.offset, m.size);
    SequentialReader stream(slice);
    return Convert(job, &stream,
                   job.file.compression.empty() ? &slice : nullptr,
                   job.file.compression.empty() ? m.size : 0);
  }

  Status Convert(CopyJob& job, ByteSource* stream, RandomAccessSource* random,
                 uint64_t size) {
    std::unique_ptr<GzipSource> gzip;
    if (job.file.compression == "gzip") {
      gzip = std::make_unique<GzipSource>(*stream);
      stream = gzip.get();
    }
    DiskSource source;
    source.name = job.file.href;
    source.stream = stream;
    source.random = random;
    source.open_extent = ExtentOpener();
    OpenOptions open;
    open.prefer_stream = true;
    open.input_size = size;
    open.format = job.kind == CopyJob::kCopyImage ? "raw" : job.input_format;
    auto disk = OpenDiskReader(source, open);
    if (!disk.ok()) {
      return disk.status().WithContext(noun_ + Quote(job.members.front()));
    }
    uint64_t capacity = (*disk)->capacity();
    ASSIGN_OR_RETURN(auto dest, Destination(job, capacity));
    std::unique_ptr<DiskWriter> writer = Writer(job, dest->sink(), capacity);
    ConvertOptions options;
    options.threads = request_.threads;
    options.progress = request_.progress;
    options.label = job.members.front();
    auto stats = ConvertDisk(**disk, *writer, options);
    if (!stats.ok()) {
      return stats.status().WithContext(noun_ + Quote(job.members.front()));
    }
    // A stream VMDK ends at its end-of-stream marker; read what follows
    // too, so the last chunk is consumed and a gzip member's CRC checked.
    auto rest = Drain(*stream);
    if (!rest.ok()) {
      return rest.status().WithContext(noun_ + Quote(job.members.front()));
    }
    RETURN_IF_ERROR(dest->Commit());
    Record(job, dest->path(), capacity, stats->bytes_written, *stats);
    return OkStatus();
  }

  // Extents named by a VMDK descriptor: files beside the descriptor for
  // packages on disk; inside an OVA they would need to be read out of
  // order, which ova2virt does not do.
  OpenExtentFn ExtentOpener() {
    InputKind kind = reader_->kind();
    if (IsTar(kind)) {
      return [](std::string_view name)
                 -> Result<std::unique_ptr<RandomAccessSource>> {
        return UnsupportedError("extent " + Quote(name) +
                                " is a separate file: a VMDK split into "
                                "extent files inside an OVA is not "
                                "supported (use the OVF directory)");
      };
    }
    std::string dir = FolderOf(request_.input, kind);
    return [dir](std::string_view name)
               -> Result<std::unique_ptr<RandomAccessSource>> {
      ASSIGN_OR_RETURN(std::string safe, ValidateMemberName(name));
      auto file = FileRandomAccess::Open(dir + "/" + safe);
      if (!file.ok()) return file.status();
      return std::unique_ptr<RandomAccessSource>(std::move(file).value());
    };
  }

  void Record(CopyJob& job, const std::string& path, uint64_t capacity,
              uint64_t written, const ConvertStats& stats) {
    done_.insert(&job - plan_.jobs.data());
    ImportedVolume v;
    v.disk_id = job.disk_id;
    v.device = job.device;
    v.pool = storage_.files ? "" : storage_.pool;
    v.name = job.name;
    v.path = path;
    v.format = job.format;
    v.source = job.members.empty() ? "" : job.file.href;
    v.capacity = capacity;
    v.allocation = written;
    v.stats = stats;
    report_.domains[job.domain].volumes.push_back(std::move(v));
  }

  // --- verify and define ------------------------------------------------

  Status Verify() {
    VerifyOptions options;
    if (!request_.ca_file.empty()) {
      ASSIGN_OR_RETURN(options.ca_pem,
                       ReadSmallFile(request_.ca_file, kMaxCaFile));
      options.ca_name = request_.ca_file;
    }
    // On a dry run the disks' digests are unchecked (nothing read them);
    // missing members, the manifest, the descriptor's digest and the
    // signature are checked all the same.
    ASSIGN_OR_RETURN(VerificationReport vr, reader_->Finish(options));
    report_.warnings.Append(reader_->warnings());
    Status verdict = vr.ToStatus();
    if (!request_.dry_run) {
      report_.verified = verdict.ok();
      report_.verification = std::move(vr);
    }
    if (!verdict.ok()) {
      if (request_.verify) return verdict;
      report_.warnings.Warn("import.not-verified", "",
                            "--no-verify: imported although verification "
                            "failed: " +
                                verdict.message());
    }
    for (size_t i = 0; i < plan_.jobs.size(); ++i) {
      const CopyJob& job = plan_.jobs[i];
      if (done_.count(i) == 0) {
        return CorruptError(
            noun_ +
            Quote(job.members.empty() ? job.file.href : job.members.front()) +
            " is referenced by the descriptor but missing");
      }
    }
    return OkStatus();
  }

  // --convert-guest: virt-v2v-in-place on each domain's disk files, which
  // stay under the transaction: a failure rolls the import back.
  Status ConvertGuests() {
    ASSIGN_OR_RETURN(std::string tool, FindVirtV2vInPlace());
    for (size_t i = 0; i < report_.domains.size(); ++i) {
      RETURN_IF_ERROR(CheckCancelled());
      const ImportedDomain& d = report_.domains[i];
      std::vector<GuestDisk> disks;
      for (const ImportedVolume& v : d.volumes) {
        if (v.device == DiskDevice::kDisk) {
          disks.push_back({v.path, std::string(ToString(v.format))});
        }
      }
      if (disks.empty()) continue;
      const VmSpec& spec = plan_.domains[i].target.spec;
      uint64_t memory_mib = spec.memory_bytes.value_or(1u << 30) >> 20;
      std::string xml =
          GuestConversionXml(d.name, memory_mib == 0 ? 1024 : memory_mib,
                             static_cast<int>(spec.vcpus.value_or(1)), disks);
      std::string dir =
          std::filesystem::path(disks.front().path).parent_path().string();
      auto done = ConvertGuestInPlace(
          tool, xml, dir, plan_.domains[i].target.virt_type == VirtType::kQemu);
      if (!done.ok())
        return done.status().WithContext("domain " + Quote(d.name));
      report_.guest_conversions.push_back(std::move(done).value());
    }
    return OkStatus();
  }

  Status Define() {
    if (!storage_.files) {
      // libvirt learns each volume's format and size from the image.
      RETURN_IF_ERROR(conn_.RefreshPool(storage_.pool));
    }
    for (size_t i = 0; i < plan_.domains.size(); ++i) {
      RETURN_IF_ERROR(CheckCancelled());
      const DomainPlan& d = plan_.domains[i];
      txn_.JournalDomainAhead(d.name);
      RETURN_IF_ERROR(txn_.journal_status());
      Result<std::string> name = conn_.DefineDomain(d.xml);
      if (!name.ok()) {
        // A define whose reply was lost may have happened all the same:
        // a domain of that name carrying our import id is ours to remove.
        if (DomainMadeBy(conn_, d.name, import_id_)) txn_.AddDomain(d.name);
        return name.status();
      }
      txn_.AddDomain(*name);
      RETURN_IF_ERROR(txn_.journal_status());
      auto xml = conn_.GetDomainXml(*name, true);
      if (xml.ok()) report_.domains[i].uuid = DomainUuid(*xml);
    }
    if (request_.start) {
      for (ImportedDomain& d : report_.domains) {
        RETURN_IF_ERROR(conn_.StartDomain(d.name));
        d.started = true;
      }
    }
    return OkStatus();
  }

  Connection& conn_;
  const ImportRequest& request_;
  ImportReport report_;
  // Before txn_, which writes to it until it is destroyed.
  std::unique_ptr<JournalWriter> journal_;
  std::string import_id_;
  Transaction txn_;
  std::unique_ptr<PackageReader> reader_;
  std::string noun_ = "member ";
  std::vector<MemberInfo> early_;
  ApplianceSpec appliance_;
  StorageTarget storage_;
  bool created_pool_ = false;
  ImportPlan plan_;
  std::map<std::string, size_t> job_of_member_;
  std::set<size_t> done_;
  std::unique_ptr<FileRandomAccess> package_file_;
};

}  // namespace

Result<ImportReport> ImportAppliance(const std::string& uri,
                                     const ImportRequest& request) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(uri));
  return ImportAppliance(*conn, request);
}

Result<ImportReport> ImportAppliance(Connection& conn,
                                     const ImportRequest& request) {
  Importer importer(conn, request);
  Result<ImportReport> r = importer.Run();
  if (!r.ok()) {
    if (request.warnings_on_failure != nullptr) {
      request.warnings_on_failure->Append(importer.warnings());
    }
    return r.status().WithContext(InputDisplayName(request.input));
  }
  return r;
}

}  // namespace ova2virt
