#include "pipeline/import_plan.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "ova/member_name.h"
#include "pipeline/ovf_environment.h"
#include "pipeline/search_permission.h"
#include "virtdriver/connection.h"

namespace ova2virt {
namespace {

// The id the OVF environment CD gets in the target machine.
constexpr std::string_view kEnvironmentDiskId = "ovf-env";

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<std::vector<const VmSpec*>> SelectSystems(const ApplianceSpec& a,
                                                 const std::string& vsys) {
  std::vector<const VmSpec*> out;
  if (a.systems.empty()) {
    return CorruptError("the descriptor describes no virtual system");
  }
  if (vsys.empty()) {
    for (const VmSpec& vm : a.systems) out.push_back(&vm);
    return out;
  }
  if (AllDigits(vsys) && vsys.size() < 6) {
    size_t i = std::stoul(vsys);
    if (i < a.systems.size()) return std::vector<const VmSpec*>{&a.systems[i]};
  }
  for (const VmSpec& vm : a.systems) {
    if (vm.id == vsys || vm.name == vsys) out.push_back(&vm);
  }
  if (out.size() == 1) return out;
  std::string known;
  for (size_t i = 0; i < a.systems.size(); ++i) {
    known +=
        (i ? ", " : "") + std::to_string(i) + "=" +
        Quote(a.systems[i].id.empty() ? a.systems[i].name : a.systems[i].id);
  }
  return UsageError("--vsys " + Quote(vsys) +
                    (out.empty() ? " names no virtual system"
                                 : " names several virtual systems") +
                    " (there are: " + known + ")");
}

// A libvirt domain name: the machine's name with '/' and control
// characters replaced (libvirt refuses '/'; control characters would only
// confuse people).
std::string DomainNameFor(const VmSpec& vm) {
  std::string name = vm.name.empty() ? vm.id : vm.name;
  for (char& c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || u < 0x20 || u == 0x7f) c = '-';
  }
  if (name.empty()) name = "imported";
  if (name.size() > 200) name.resize(200);
  return name;
}

const FileRef* FindFile(const ApplianceSpec& a, const ImageSource& s) {
  for (const FileRef& f : a.files) {
    if (!s.file_id.empty() && f.id == s.file_id) return &f;
  }
  for (const FileRef& f : a.files) {
    if (!s.href.empty() && f.href == s.href) return &f;
  }
  return nullptr;
}

FileReference ReferenceFor(const ApplianceSpec& a, const ImageSource& s) {
  FileReference r;
  if (const FileRef* f = FindFile(a, s)) {
    r.id = f->id;
    r.href = f->href;
    r.size = f->size;
    r.compression = f->compression;
    r.chunk_size = f->chunk_size;
  } else {  // a .vmx: the disk names its file directly
    r.id = s.file_id;
    r.href = s.href;
    r.size = s.size;
    r.compression = s.compression;
    r.chunk_size = s.chunk_size;
  }
  return r;
}

std::string Extension(const CopyJob& job) {
  if (job.device == DiskDevice::kCdrom) return ".iso";
  if (job.device == DiskDevice::kFloppy) return ".img";
  return job.format == VolumeFormat::kQcow2 ? ".qcow2" : ".raw";
}

std::string InputFormat(ImageFormat f) {
  switch (f) {
    case ImageFormat::kVmdkStreamOptimized:
    case ImageFormat::kVmdkMonolithicSparse:
    case ImageFormat::kVmdk:
      return "vmdk";
    case ImageFormat::kQcow2:
      return "qcow2";
    default:
      return "";  // raw images are copied by kind, others probed
  }
}

class Planner {
 public:
  Planner(const ApplianceSpec& a, const ImportRequest& r,
          const StorageTarget& s, Diagnostics* d)
      : appliance_(a), request_(r), storage_(s), diags_(d) {}

  Result<ImportPlan> Run() {
    ASSIGN_OR_RETURN(std::vector<const VmSpec*> systems,
                     SelectSystems(appliance_, request_.vsys));
    if (!request_.name.empty() && systems.size() > 1) {
      return UsageError("--name names one domain, but the package holds " +
                        std::to_string(systems.size()) +
                        " virtual systems; choose one with --vsys");
    }
    bool properties_used = request_.properties.empty();
    for (const VmSpec* vm : systems) {
      ASSIGN_OR_RETURN(bool used, PlanSystem(*vm));
      properties_used = properties_used || used;
    }
    if (!properties_used) {
      diags_->Warn("import.properties-unused", "",
                   "--prop was given, but no virtual system asks for an "
                   "OVF environment on a CD (ovf:transport=\"iso\")");
    }
    return std::move(plan_);
  }

 private:
  // Plans one machine; returns whether it takes properties.
  Result<bool> PlanSystem(const VmSpec& source) {
    size_t index = plan_.domains.size();
    DomainPlan dp;
    dp.name = request_.name.empty() ? UniqueName(DomainNameFor(source))
                                    : request_.name;
    VmSpec vm = source;
    bool env = false;
    // Properties are checked even when no CD carries them: a typo in
    // --prop is an error before anything happens.
    ASSIGN_OR_RETURN(std::vector<PropertyValue> values,
                     ResolveProperties(vm, request_.properties));
    RecordGivenValues(values, vm);
    if (WantsIsoEnvironment(vm)) {
      env = true;
      Disk cd;
      cd.id = std::string(kEnvironmentDiskId);
      cd.device = DiskDevice::kCdrom;
      cd.label = "OVF environment";
      cd.read_only = true;
      cd.source.href = "ovf-env.iso";
      vm.disks.push_back(cd);
      CopyJob job;
      job.kind = CopyJob::kEnvironment;
      job.domain = index;
      job.disk_id = cd.id;
      job.device = DiskDevice::kCdrom;
      job.environment = FormatOvfEnvironment(source, values);
      job.format = VolumeFormat::kRaw;
      pending_.push_back(std::move(job));
    }
    RETURN_IF_ERROR(PlanDisks(vm, index));
    ASSIGN_OR_RETURN(dp.target, ApplyImportPolicy(vm, request_.policy, diags_));

    std::string base = SafeFileName(dp.name);
    std::map<DiskDevice, int> counts;
    for (CopyJob& job : pending_) {
      job.name = base + "-" + std::string(ToString(job.device)) +
                 std::to_string(++counts[job.device]) + Extension(job);
      if (job.kind == CopyJob::kEnvironment) job.name = base + "-ovf-env.iso";
      if (!storage_.dir.empty()) job.path = storage_.dir + "/" + job.name;
      DiskBinding b;
      b.disk_id = job.disk_id;
      b.path = job.path;
      if (!storage_.files) {
        b.pool = storage_.pool;
        b.volume = job.name;
      }
      b.format = std::string(ToString(job.format));
      dp.options.disks.push_back(b);
      plan_.jobs.push_back(std::move(job));
    }
    pending_.clear();

    dp.options.name = dp.name;
    dp.options.virt_type = std::string(ToString(dp.target.virt_type));
    dp.options.machine = dp.target.machine;
    dp.options.nics = dp.target.nics;
    if (!request_.serial_log_dir.empty()) {
      dp.options.serial_log_path =
          request_.serial_log_dir + "/" + SafeFileName(dp.name) + ".serial";
      dp.options.serial_pty_with_log = request_.serial_interactive;
    }
    dp.options.headless = request_.headless;
    dp.options.libosinfo_id = dp.target.spec.os.libosinfo_id;
    dp.options.metadata = Metadata(source);
    if (env) dp.options.environment_disk_id = std::string(kEnvironmentDiskId);
    Diagnostics format_diags;
    Result<std::string> xml =
        FormatDomainXml(dp.target.spec, dp.options, &format_diags);
    if (!xml.ok()) {
      return xml.status().WithContext("virtual system " + Quote(dp.name));
    }
    diags_->Append(format_diags);
    dp.xml = std::move(xml).value();
    plan_.domains.push_back(std::move(dp));
    return env;
  }

  // The domain's metadata records the values the guest was given (--prop),
  // not the descriptor's defaults: they are what the guest runs with, and
  // what an export writes back.
  static void RecordGivenValues(const std::vector<PropertyValue>& values,
                                VmSpec& vm) {
    for (ProductInfo& p : vm.products) {
      for (Property& prop : p.properties) {
        std::string key = prop.FullKey();
        for (const PropertyValue& v : values) {
          if (v.key == key && v.value != prop.default_value.value_or("")) {
            prop.default_value = v.value;
          }
        }
      }
    }
  }

  KeyValues Metadata(const VmSpec& vm) const {
    KeyValues m;
    m.emplace_back("source", request_.input == "-" ? "stdin" : request_.input);
    if (!vm.id.empty()) m.emplace_back("source-id", vm.id);
    if (!vm.products.empty()) {
      const ProductInfo& p = vm.products.front();
      if (!p.product.empty()) m.emplace_back("product", p.product);
      if (!p.vendor.empty()) m.emplace_back("vendor", p.vendor);
      if (!p.version.empty()) m.emplace_back("version", p.version);
    }
    for (const auto& kv : request_.metadata) m.push_back(kv);
    return m;
  }

  Status PlanDisks(VmSpec& vm, size_t domain) {
    for (Disk& d : vm.disks) {
      if (d.id == kEnvironmentDiskId) continue;
      if (!d.parent_id.empty()) {
        return UnsupportedError("disk " + Quote(d.id) + " is a delta disk of " +
                                Quote(d.parent_id) +
                                "; ova2virt imports whole disks only");
      }
      if (d.id.empty()) d.id = "disk" + std::to_string(&d - vm.disks.data());
      CopyJob job;
      job.domain = domain;
      job.disk_id = d.id;
      job.device = d.device;
      if (d.source.href.empty()) {
        if (d.device != DiskDevice::kDisk) continue;  // an empty drive
        if (!d.capacity || *d.capacity == 0) {
          return CorruptError("disk " + Quote(d.id) +
                              " has neither a file nor a capacity");
        }
        job.kind = CopyJob::kBlank;
        job.capacity = d.capacity;
        job.format = request_.format;
        pending_.push_back(std::move(job));
        continue;
      }
      job.file = ReferenceFor(appliance_, d.source);
      auto members = ReferencedMemberNames(job.file);
      if (!members.ok()) {
        if (d.device != DiskDevice::kDisk) {
          // A .vmx's CD often names an ISO on a datastore: not ours to read.
          diags_->Warn("import.image-outside-package", d.id,
                       "the " + std::string(ToString(d.device)) + " image " +
                           Quote(d.source.href) +
                           " is not in the package; the drive is left empty");
          d.source = ImageSource();
          continue;
        }
        return members.status().WithContext("disk " + Quote(d.id));
      }
      job.members = std::move(members).value();
      if (!job.file.compression.empty() && job.file.compression != "gzip") {
        return UnsupportedError(
            "file " + Quote(job.file.href) + " uses compression " +
            Quote(job.file.compression) + " (ova2virt reads gzip)");
      }
      if (!used_hrefs_.insert(job.members.front()).second) {
        return UnsupportedError(
            "file " + Quote(job.file.href) +
            " backs more than one drive (virtual systems sharing a disk: "
            "import them one at a time with --vsys)");
      }
      job.kind = d.device == DiskDevice::kDisk ? CopyJob::kConvert
                                               : CopyJob::kCopyImage;
      job.input_format = InputFormat(d.source.format);
      job.format =
          d.device == DiskDevice::kDisk ? request_.format : VolumeFormat::kRaw;
      pending_.push_back(std::move(job));
    }
    return OkStatus();
  }

  std::string UniqueName(std::string name) {
    std::string candidate = name;
    for (int i = 2; !names_.insert(candidate).second; ++i) {
      candidate = name + "-" + std::to_string(i);
    }
    return candidate;
  }

  const ApplianceSpec& appliance_;
  const ImportRequest& request_;
  const StorageTarget& storage_;
  Diagnostics* diags_;
  ImportPlan plan_;
  std::vector<CopyJob> pending_;
  std::set<std::string> names_;
  std::set<std::string> used_hrefs_;
};

// The source network (OVF Connection) of the NIC a binding is for.
std::string SourceNetwork(const DomainPlan& d, const NicBinding& n) {
  for (const Nic& nic : d.target.spec.nics) {
    if (nic.id == n.nic_id) return nic.network;
  }
  return "";
}

// Refuses a pool directory that QEMU, running as the user the connection's
// DAC label names, could not reach (see search_permission.h). Nothing to
// judge where the driver names no such user (test:///).
Status CheckEmulatorReaches(Connection& conn, const ImportPlan& plan,
                            const std::string& path, const std::string& what) {
  if (path.empty() || path[0] != '/') return OkStatus();
  std::set<std::string> types;
  for (const DomainPlan& d : plan.domains) {
    types.insert(std::string(ToString(d.target.virt_type)));
  }
  for (const std::string& type : types) {
    ASSIGN_OR_RETURN(std::optional<EmulatorIdentity> id, conn.Emulator(type));
    if (!id) continue;
    RETURN_IF_ERROR(
        CheckSearchable(path, LocalUser(id->uid, id->gid), what + " target"));
  }
  return OkStatus();
}

uint64_t StoredBytes(const ImportPlan& plan) {
  uint64_t total = 0;
  for (const CopyJob& job : plan.jobs) {
    if (job.file.size) total += *job.file.size;
  }
  return total;
}

}  // namespace

std::string SafeFileName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
              c == '-';
    char x = ok ? c : '-';
    if (x == '-' && !out.empty() && out.back() == '-') continue;
    out.push_back(x);
  }
  while (!out.empty() && (out.front() == '.' || out.front() == '-')) {
    out.erase(out.begin());
  }
  if (out.size() > 100) out.resize(100);
  return out.empty() ? "imported" : out;
}

Result<ImportPlan> PlanImport(const ApplianceSpec& appliance,
                              const ImportRequest& request,
                              const StorageTarget& storage,
                              Diagnostics* diagnostics) {
  Diagnostics scratch;
  return Planner(appliance, request, storage,
                 diagnostics ? diagnostics : &scratch)
      .Run();
}

Status CheckPlanOnHost(Connection& conn, const ImportPlan& plan,
                       const ImportRequest& request,
                       const StorageTarget& storage, Diagnostics* diagnostics) {
  uint64_t need = StoredBytes(plan);
  if (storage.files) {
    struct statvfs vfs;
    if (statvfs(storage.dir.c_str(), &vfs) != 0) {
      return ErrnoError("storage directory " + Quote(storage.dir), errno);
    }
    if (access(storage.dir.c_str(), W_OK) != 0) {
      return ErrnoError("storage directory " + Quote(storage.dir), errno);
    }
    uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < need) {
      return NoSpaceError("storage directory " + Quote(storage.dir) + " has " +
                          std::to_string(avail) +
                          " bytes free; the package's disks need at least " +
                          std::to_string(need));
    }
    for (const CopyJob& job : plan.jobs) {
      std::error_code ec;
      if (!request.force && std::filesystem::exists(job.path, ec)) {
        return ExistsError(job.path + ": already exists (--force replaces it)");
      }
    }
  } else if (!storage.create_pool) {
    ASSIGN_OR_RETURN(Pool pool, conn.LookupPool(storage.pool));
    if (!pool.active) {
      return FailedError("pool " + Quote(storage.pool) + " is not active");
    }
    if (pool.available != 0 && pool.available < need) {
      return NoSpaceError("pool " + Quote(storage.pool) + " has " +
                          std::to_string(pool.available) +
                          " bytes free; the package's disks need at least " +
                          std::to_string(need));
    }
    for (const CopyJob& job : plan.jobs) {
      ASSIGN_OR_RETURN(bool exists, conn.VolumeExists(storage.pool, job.name));
      if (exists && !request.force) {
        return ExistsError("volume " + Quote(job.name) +
                           " already exists in pool " + Quote(storage.pool) +
                           " (--force replaces it)");
      }
    }
    if (pool.is_local && conn.IsLocal()) {
      RETURN_IF_ERROR(CheckEmulatorReaches(conn, plan, pool.target_path,
                                           "pool " + Quote(storage.pool)));
    }
  } else if (conn.IsLocal()) {
    // The pool is made after these checks; its directory must be reachable.
    RETURN_IF_ERROR(CheckEmulatorReaches(conn, plan, storage.pool_path,
                                         "pool " + Quote(storage.pool)));
  }
  std::set<std::string> networks, bridges;
  std::map<std::string, std::set<std::string>> sources;  // network -> SRCs
  for (const DomainPlan& d : plan.domains) {
    ASSIGN_OR_RETURN(bool exists, conn.DomainExists(d.name));
    if (exists && !request.force) {
      return ExistsError("domain " + Quote(d.name) +
                         " already exists (--force replaces it, or choose "
                         "another --name)");
    }
    for (const NicBinding& n : d.options.nics) {
      if (n.kind == NicBinding::kNetwork) {
        networks.insert(n.source);
        std::string src = SourceNetwork(d, n);
        if (!src.empty()) sources[n.source].insert(src);
      }
      if (n.kind == NicBinding::kBridge) bridges.insert(n.source);
    }
  }
  for (const std::string& n : networks) {
    ASSIGN_OR_RETURN(bool exists, conn.NetworkExists(n));
    if (!exists) {
      return NotFoundError("libvirt network " + Quote(n) +
                           " does not exist (map the source network with "
                           "--network SRC=NET, --bridge SRC=BRIDGE or "
                           "--network SRC=user)");
    }
    // Defining needs only the network's definition; starting needs it up.
    ASSIGN_OR_RETURN(bool active, conn.NetworkIsActive(n));
    if (active) continue;
    std::string src = sources[n].empty() ? "SRC" : *sources[n].begin();
    if (!request.start) {
      if (diagnostics) {
        diagnostics->Warn("import.network-inactive", n,
                          "libvirt network " + Quote(n) +
                              " is not active: the domain is defined, but "
                              "starts only once 'virsh net-start " +
                              n + "' ran");
      }
      continue;
    }
    return FailedError("libvirt network " + Quote(n) +
                       " is not active, so the domain could not start: "
                       "start it with 'virsh net-start " +
                       n + "' (and 'virsh net-autostart " + n +
                       "'), or import without it with --network '" + src +
                       "=user'");
  }
  for (const std::string& b : bridges) {
    ASSIGN_OR_RETURN(bool exists, conn.BridgeExists(b));
    if (!exists)
      return NotFoundError("host bridge " + Quote(b) + " does not exist");
  }
  return OkStatus();
}

std::string DescribePlan(const ImportPlan& plan, const StorageTarget& storage) {
  std::string out;
  if (storage.create_pool) {
    out += "pool " + Quote(storage.pool) +
           ": does not exist; to be created (dir pool at " +
           Quote(storage.pool_path) + ", started and autostarted)\n";
  }
  for (size_t i = 0; i < plan.domains.size(); ++i) {
    const DomainPlan& d = plan.domains[i];
    out += "domain " + Quote(d.name) + ": machine " + d.target.machine + ", " +
           std::string(ToString(d.target.virt_type)) + "\n";
    for (const CopyJob& job : plan.jobs) {
      if (job.domain != i) continue;
      std::string from = job.kind == CopyJob::kBlank ? "blank"
                         : job.kind == CopyJob::kEnvironment
                             ? "ovf environment"
                             : Quote(job.file.href);
      out += "  " + std::string(ToString(job.device)) + " " +
             Quote(job.disk_id) + ": " + from + " -> " +
             (storage.files ? job.path
                            : "pool " + Quote(storage.pool) + " volume " +
                                  Quote(job.name)) +
             " (" + std::string(ToString(job.format)) + ")\n";
    }
    for (const NicBinding& n : d.options.nics) {
      std::string to =
          n.kind == NicBinding::kNetwork  ? "network " + Quote(n.source)
          : n.kind == NicBinding::kBridge ? "bridge " + Quote(n.source)
          : n.kind == NicBinding::kUser   ? "user-mode networking"
                                          : "nothing (removed)";
      out += "  nic " + Quote(n.nic_id) + " -> " + to + "\n";
    }
  }
  return out;
}

}  // namespace ova2virt
