#include "pipeline/export.h"

#include <filesystem>
#include <limits>
#include <map>
#include <memory>

#include "convert/disk_open.h"
#include "convert/vmdk_stream_writer.h"
#include "core/cancel.h"
#include "core/checked_math.h"
#include "core/file.h"
#include "ova/ova_writer.h"
#include "ovf/ovf_format.h"
#include "ovf/ovf_writer.h"
#include "pipeline/export_package.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

constexpr size_t kMaxPemFile = 1u << 20;
constexpr size_t kCopyChunk = 1u << 20;
// An ECDSA signature's DER length varies by a few bytes from one
// signature to the next; the certificate's reservation leaves room.
constexpr uint64_t kSignatureSlack = 64;

bool IsActive(DomainState s) {
  return s != DomainState::kShutoff && s != DomainState::kCrashed &&
         s != DomainState::kNoState;
}

// One drive's image, opened during planning and read during the copy.
struct Opened {
  ExportSource source;
  std::string where;  // "path" or "pool/volume", for messages and reports
  bool download = false;
  std::unique_ptr<RandomAccessSource> random;
  std::unique_ptr<DiskReader> reader;  // hard disks
  uint64_t capacity = 0;               // virtual size (disks), bytes (images)
  std::string file;                    // its name in the package
  std::string adapter;                 // the VMDK's ddb.adapterType
};

class Exporter {
 public:
  Exporter(Connection& conn, const ExportRequest& request)
      : conn_(conn), request_(request) {}

  Result<ExportReport> Run() {
    report_.phases.Start("plan");
    RETURN_IF_ERROR(CheckRequest());
    Status s = Steps();
    if (!s.ok()) {
      // The domain is named once: some messages say it already.
      if (s.message().find(Quote(request_.domain)) != std::string::npos) {
        return s;
      }
      return s.WithContext("domain " + Quote(request_.domain));
    }
    return std::move(report_);
  }

 private:
  Status Steps() {
    RETURN_IF_ERROR(ReadDomain());
    RETURN_IF_ERROR(OpenSources());
    RETURN_IF_ERROR(PlanPackage());
    report_.phases.Start("copy");
    for (Opened& o : opened_) RETURN_IF_ERROR(Copy(o));
    report_.phases.Start("finish");
    RETURN_IF_ERROR(Finish());
    report_.phases.Stop();
    return OkStatus();
  }

  // --- plan -------------------------------------------------------------

  Status CheckRequest() {
    const ExportRequest& r = request_;
    if (r.domain.empty()) return UsageError("no domain given");
    if (!r.output.empty() && !r.ovf_dir.empty()) {
      return UsageError("give either -o OUT.ova or --ovf-dir DIR, not both");
    }
    if (r.ovf_version != 1 && r.ovf_version != 2) {
      return UsageError("--ovf-version " + std::to_string(r.ovf_version) +
                        ": choose 1 or 2");
    }
    std::filesystem::path out(r.output);
    if (!r.output.empty() && out.extension() == ".ovf") {
      return UsageError(Quote(r.output) +
                        ": for an ovf with its files beside it, use "
                        "--ovf-dir DIR");
    }
    report_.domain = r.domain;
    report_.directory = !r.ovf_dir.empty();
    report_.output = report_.directory  ? r.ovf_dir
                     : r.output.empty() ? ExportPackageStem(r.domain) + ".ova"
                                        : r.output;
    report_.ovf_version = r.ovf_version;
    report_.digest_algorithm = std::string(DigestName(r.digest));
    report_.live = r.live;
    // Fail before any long work: an existing output is refused again on
    // the final rename, which does not replace.
    std::error_code ec;
    if (std::filesystem::symlink_status(report_.output, ec).type() !=
        std::filesystem::file_type::not_found) {
      return ExistsError("output " + Quote(report_.output) + " already exists");
    }
    if (r.sign_key.empty() != r.sign_cert.empty()) {
      return UsageError(
          "signing needs both --sign KEY.pem and --cert "
          "CERT.pem");
    }
    if (!r.sign_key.empty()) {
      ASSIGN_OR_RETURN(key_pem_, ReadSmallFile(r.sign_key, kMaxPemFile));
      ASSIGN_OR_RETURN(cert_pem_, ReadSmallFile(r.sign_cert, kMaxPemFile));
      // A key that does not parse or match its certificate fails now.
      auto trial = SignManifest("", "x.mf", key_pem_, cert_pem_, r.digest);
      if (!trial.ok()) {
        return trial.status().WithContext(r.sign_key + " and " + r.sign_cert);
      }
      report_.is_signed = true;
    }
    return OkStatus();
  }

  Status ReadDomain() {
    ASSIGN_OR_RETURN(std::string xml, conn_.GetDomainXml(request_.domain,
                                                         /*inactive=*/true));
    ASSIGN_OR_RETURN(DomainState state, conn_.GetDomainState(request_.domain));
    if (IsActive(state)) {
      if (!request_.live) {
        return FailedError(
            "domain " + Quote(request_.domain) + " is " +
            std::string(ToString(state)) +
            ": its disks are in use and would be exported inconsistent; "
            "shut it down first (or give --live to export it anyway)");
      }
      report_.warnings.Warn(
          "export.live", request_.domain,
          "the domain is " + std::string(ToString(state)) +
              " (--live): its disks are read while the guest writes to "
              "them, so the export may hold a file system that needs "
              "repair, or may not boot");
    }
    ASSIGN_OR_RETURN(domain_, ParseDomain(xml, &report_.warnings));
    ASSIGN_OR_RETURN(machine_, ApplyExportPolicy(domain_, request_.policy,
                                                 &report_.warnings));
    return OkStatus();
  }

  // Opens each drive's image: in place where this process can read the
  // host's files, else through libvirt's storage API.
  Status OpenSources() {
    const bool local = conn_.IsLocal() && !request_.download;
    int disks = 0, images = 0;
    const std::string stem = ExportPackageStem(machine_.spec.name);
    for (const ExportSource& s : machine_.sources) {
      Opened o;
      o.source = s;
      std::string noun = s.device == DiskDevice::kDisk ? "disk " : "drive ";
      std::string what = noun + Quote(s.target);
      Status st = OpenSource(local, &o);
      if (!st.ok()) return st.WithContext(what);
      if (s.device == DiskDevice::kDisk) {
        DiskSource src;
        src.name = o.where;
        src.random = o.random.get();
        src.open_extent = [](std::string_view name)
            -> Result<std::unique_ptr<RandomAccessSource>> {
          return UnsupportedError("extent " + Quote(name) +
                                  ": a VMDK split into extent files cannot "
                                  "be exported");
        };
        OpenOptions options;
        options.format = s.format;
        auto reader = OpenDiskReader(src, options);
        if (!reader.ok()) return reader.status().WithContext(what);
        o.reader = std::move(reader).value();
        o.capacity = o.reader->capacity();
        o.file = stem + "-disk" + std::to_string(++disks) + ".vmdk";
        o.adapter = AdapterType(s.disk_id);
      } else {
        o.capacity = o.random->size();
        o.file = stem + "-file" + std::to_string(++images) +
                 (s.device == DiskDevice::kCdrom ? ".iso" : ".flp");
      }
      opened_.push_back(std::move(o));
    }
    return OkStatus();
  }

  Status OpenSource(bool local, Opened* o) {
    const ExportSource& s = o->source;
    if (local) {
      std::string path = s.path;
      if (!s.volume.empty()) {
        ASSIGN_OR_RETURN(Volume v, conn_.LookupVolume(s.pool, s.volume));
        path = v.path;
      }
      o->where = path;
      ASSIGN_OR_RETURN(auto file, FileRandomAccess::Open(path));
      o->random = std::move(file);
      return OkStatus();
    }
    std::string pool = s.pool, volume = s.volume;
    if (volume.empty()) {
      auto v = conn_.LookupVolumeByPath(s.path);
      if (!v.ok() && v.status().code() == ErrorCode::kNotFound) {
        return NotFoundError(Quote(s.path) +
                             " is in no storage pool, and only pool volumes "
                             "can be read through libvirt");
      }
      if (!v.ok()) return v.status();
      pool = v->pool;
      volume = v->name;
    }
    o->where = pool + "/" + volume;
    o->download = true;
    ASSIGN_OR_RETURN(o->random, conn_.OpenDownload(pool, volume));
    return OkStatus();
  }

  // The ddb.adapterType VMware writes for a disk on this controller.
  std::string AdapterType(const std::string& disk_id) const {
    for (const Disk& d : machine_.spec.disks) {
      if (d.id != disk_id) continue;
      const Controller* c = machine_.spec.FindController(d.controller_id);
      if (c && c->kind == ControllerKind::kIde) return "ide";
      if (c && c->model == ControllerModel::kBusLogic) return "buslogic";
    }
    return "lsilogic";
  }

  // The appliance the descriptor describes; `final` false gives every
  // size its widest value, for the reservation.
  ApplianceSpec Appliance(bool final) const {
    ApplianceSpec a;
    VmSpec vm = machine_.spec;
    std::map<std::string, const Opened*> by_id;
    for (const Opened& o : opened_) by_id[o.source.disk_id] = &o;
    constexpr uint64_t kWidest = std::numeric_limits<uint64_t>::max();
    for (Disk& d : vm.disks) {
      auto it = by_id.find(d.id);
      if (it == by_id.end()) continue;
      const Opened& o = *it->second;
      d.source.href = o.file;
      auto done = sizes_.find(o.file);
      d.source.size = !final ? kWidest : done->second;
      if (d.device == DiskDevice::kDisk) {
        d.capacity = o.capacity;
        d.source.format = ImageFormat::kVmdkStreamOptimized;
        d.populated_size = !final ? kWidest : populated_.at(o.file);
      } else {
        d.source.format = d.device == DiskDevice::kCdrom ? ImageFormat::kIso
                                                         : ImageFormat::kRaw;
      }
    }
    a.name = vm.name;
    a.networks = machine_.networks;
    a.systems.push_back(std::move(vm));
    return a;
  }

  Status PlanPackage() {
    const std::string stem = ExportPackageStem(machine_.spec.name);
    PackageLayout layout;
    layout.descriptor = stem + ".ovf";
    layout.manifest = stem + ".mf";
    layout.certificate = report_.is_signed ? stem + ".cert" : "";
    layout.digest = request_.digest;
    OvfWriteOptions ovf;
    ovf.ovf_major = request_.ovf_version;
    Diagnostics scratch;  // the final pass reports the writer's warnings
    ASSIGN_OR_RETURN(std::string widest,
                     FormatOvfDescriptor(Appliance(false), ovf, &scratch));
    layout.descriptor_size = widest.size();
    // Every digest has the same length, so the manifest's size is known.
    std::string hex_shape(DigestSize(request_.digest) * 2, '0');
    std::vector<ManifestItem> items = {{layout.descriptor, hex_shape}};
    for (const Opened& o : opened_) items.push_back({o.file, hex_shape});
    std::string shape = MakeManifest(items, request_.digest);
    layout.manifest_size = shape.size();
    if (report_.is_signed) {
      ASSIGN_OR_RETURN(std::string trial,
                       SignManifest(shape, layout.manifest, key_pem_, cert_pem_,
                                    request_.digest));
      layout.certificate_size = trial.size() + kSignatureSlack;
    }
    layout_ = layout;
    if (report_.directory) {
      ASSIGN_OR_RETURN(package_,
                       ExportPackage::CreateDirectory(report_.output, layout));
    } else {
      ASSIGN_OR_RETURN(package_,
                       ExportPackage::CreateOva(report_.output, layout));
    }
    return OkStatus();
  }

  // --- copy -------------------------------------------------------------

  Status Copy(Opened& o) {
    RETURN_IF_ERROR(CheckCancelled());
    ExportedDisk d;
    d.target = o.source.target;
    d.device = std::string(ToString(o.source.device));
    d.source = o.where;
    d.read = o.download ? "download" : "in place";
    d.format = o.source.format;
    d.file = o.file;
    d.capacity = o.capacity;
    Status s = o.reader ? WriteVmdk(o, &d) : WriteImage(o, &d);
    if (!s.ok()) {
      return s.WithContext((o.reader ? "disk " : "drive ") +
                           Quote(o.source.target));
    }
    ASSIGN_OR_RETURN(ExportedFile f, package_->EndFile());
    d.size = f.size;
    d.digest = f.digest;
    sizes_[o.file] = f.size;
    populated_[o.file] = d.populated;
    report_.disks.push_back(std::move(d));
    return OkStatus();
  }

  Status WriteVmdk(Opened& o, ExportedDisk* d) {
    // The most a streamOptimized VMDK can take: every grain stored with
    // its marker and sector padding (under 1%), plus the header, tables and
    // footer. Only whether it can reach 8 GiB matters (a pax size).
    auto limit = CheckedAdd<uint64_t>(o.capacity, o.capacity / 32 + (1u << 20));
    if (!limit) return CorruptError("capacity overflows");
    ASSIGN_OR_RETURN(ByteSink * sink, package_->BeginFile(o.file, *limit));
    VmdkStreamWriterOptions options;
    options.extent_name = o.file;
    options.adapter_type = o.adapter;
    VmdkStreamWriter writer(*sink, o.capacity, options);
    ConvertOptions convert;
    convert.threads = request_.threads;
    convert.progress = request_.progress;
    convert.label = o.source.target + " -> " + o.file;
    ASSIGN_OR_RETURN(d->stats, ConvertDisk(*o.reader, writer, convert));
    auto populated = CheckedMul<uint64_t>(d->stats.allocated_clusters,
                                          d->stats.cluster_size);
    d->populated = std::min(populated.value_or(o.capacity), o.capacity);
    return OkStatus();
  }

  Status WriteImage(Opened& o, ExportedDisk* d) {
    ASSIGN_OR_RETURN(ByteSink * sink, package_->BeginFile(o.file, o.capacity));
    Progress& progress =
        request_.progress ? *request_.progress : SilentProgress();
    progress.Begin(o.source.target + " -> " + o.file, o.capacity);
    std::vector<uint8_t> buffer(kCopyChunk);
    uint64_t done = 0;
    Status s;
    while (done < o.capacity && s.ok()) {
      s = CheckCancelled();
      if (!s.ok()) break;
      size_t want = static_cast<size_t>(
          std::min<uint64_t>(buffer.size(), o.capacity - done));
      auto n = o.random->ReadAt(done, {buffer.data(), want});
      if (!n.ok()) {
        s = n.status();
      } else if (*n == 0) {
        s = CorruptError(o.where + ": ended at byte " + std::to_string(done));
      } else {
        s = sink->Write({buffer.data(), *n});
        done += *n;
        progress.Update(done);
      }
    }
    progress.End();
    d->populated = done;
    return s;
  }

  // --- finish -----------------------------------------------------------

  Status Finish() {
    OvfWriteOptions ovf;
    ovf.ovf_major = request_.ovf_version;
    ASSIGN_OR_RETURN(
        std::string descriptor,
        FormatOvfDescriptor(Appliance(true), ovf, &report_.warnings));
    ASSIGN_OR_RETURN(ExportedFile desc, package_->PutDescriptor(descriptor));
    // ovftool's manifest: the descriptor, then the files in package order.
    std::vector<ManifestItem> items = {{desc.name, desc.digest}};
    for (const ExportedDisk& d : report_.disks) {
      items.push_back({d.file, d.digest});
    }
    std::string manifest = MakeManifest(items, request_.digest);
    RETURN_IF_ERROR(package_->PutManifest(manifest));
    if (report_.is_signed) {
      ASSIGN_OR_RETURN(std::string cert,
                       SignManifest(manifest, layout_.manifest, key_pem_,
                                    cert_pem_, request_.digest));
      RETURN_IF_ERROR(package_->PutCertificate(cert));
    }
    RETURN_IF_ERROR(CheckCancelled());
    RETURN_IF_ERROR(package_->Commit());
    report_.files = package_->Files();
    report_.bytes = package_->Bytes();
    return OkStatus();
  }

  Connection& conn_;
  const ExportRequest& request_;
  ExportReport report_;
  std::string key_pem_, cert_pem_;
  ParsedDomain domain_;
  ExportMachine machine_;
  std::vector<Opened> opened_;
  PackageLayout layout_;
  std::unique_ptr<ExportPackage> package_;
  std::map<std::string, uint64_t> sizes_, populated_;
};

}  // namespace

std::string_view OvfVersionName(int ovf_version) {
  return ovf::WrittenOvfVersion(ovf_version);
}

std::string ExportPackageStem(std::string_view name) {
  // hrefs must be plain URIs, and the files must unpack on any system.
  std::string out;
  for (char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
                 c == '-';
    out += plain ? c : '_';
  }
  if (out.empty() || out.front() == '.') out.insert(0, "vm");
  return out.substr(0, 100);
}

Result<ExportReport> ExportDomain(Connection& conn,
                                  const ExportRequest& request) {
  return Exporter(conn, request).Run();
}

Result<ExportReport> ExportDomain(const std::string& uri,
                                  const ExportRequest& request) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(uri));
  return ExportDomain(*conn, request);
}

}  // namespace ova2virt
