#include "cli/import_options.h"

#include <CLI/CLI.hpp>

#include "pipeline/import_choices.h"
#include "pipeline/ovf_environment.h"
#include "pipeline/policy.h"

namespace ova2virt::cli {
namespace {

// The value `text` names. AddImportOptions's checks let through only the
// names `parse` reads; a caller that skipped them gets CLI11's wording.
template <typename E>
Result<E> Choose(std::string_view option, const std::string& text,
                 std::optional<E> (*parse)(std::string_view),
                 const std::vector<std::string>& names) {
  if (std::optional<E> e = parse(text)) return *e;
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ",") + n;
  return UsageError(std::string(option) + ": " + text + " not in {" + list +
                    "}");
}

}  // namespace

Result<ImportRequest> ImportArgs::ToRequest() const {
  ImportRequest r;
  r.input = input;
  r.name = name;
  r.pool = pool;
  r.pool_named = pool_named;
  r.storage_dir = storage_dir;
  if (upload && !storage_dir.empty()) {
    return UsageError("--upload does not go with --storage-dir");
  }
  r.upload = upload;
  ASSIGN_OR_RETURN(r.format, Choose("--format", format, ParseVolumeFormat,
                                    VolumeFormatNames()));
  ASSIGN_OR_RETURN(
      r.policy.disk_bus,
      Choose("--disk-bus", disk_bus, ParseDiskBusChoice, DiskBusChoiceNames()));
  ASSIGN_OR_RETURN(r.policy.nic_model,
                   Choose("--nic-model", nic_model, ParseNicModelChoice,
                          NicModelChoiceNames()));
  if (!virt_type.empty()) {
    ASSIGN_OR_RETURN(
        r.policy.virt_type,
        Choose("--virt-type", virt_type, ParseVirtType, VirtTypeNames()));
  }
  for (const std::string& n : networks) {
    auto m = ParseNetworkMapping(n);
    if (!m.ok()) return m.status().WithContext("--network");
    r.policy.networks.push_back(*m);
  }
  for (const std::string& b : bridges) {
    size_t eq = b.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == b.size()) {
      return UsageError("--bridge " + Quote(b) + ": want SRC=BRIDGE");
    }
    auto m =
        ParseNetworkMapping(b.substr(0, eq) + "=bridge:" + b.substr(eq + 1));
    if (!m.ok()) return m.status().WithContext("--bridge");
    r.policy.networks.push_back(*m);
  }
  r.vsys = vsys;
  r.deployment = deployment;
  for (const std::string& p : properties) {
    ASSIGN_OR_RETURN(auto kv, ParsePropertyArgument(p));
    r.properties.push_back(std::move(kv));
  }
  r.ca_file = ca;
  r.threads = threads;
  r.dry_run = dry_run;
  r.start = start;
  r.force = force;
  r.verify = !no_verify;
  r.convert_guest = convert_guest;
  return r;
}

void AddImportOptions(CLI::App& cmd, ImportArgs& a, bool for_run) {
  cmd.add_option("INPUT", a.input,
                 "an .ova, an .ovf or a directory holding one, a .vmx, or - "
                 "for stdin")
      ->required();
  if (!for_run) {
    cmd.add_option("--name", a.name,
                   "the domain's name (default: the VirtualSystem's)");
    cmd.add_option("--pool", a.pool,
                   "the storage pool for the disks (without --pool, a "
                   "missing 'default' is created as virt-install does)")
        ->capture_default_str()
        ->each([&a](const std::string&) { a.pool_named = true; });
    cmd.add_option("--storage-dir", a.storage_dir,
                   "write the disks as files in DIR instead of a pool");
    cmd.add_flag("--upload", a.upload,
                 "send the disks through libvirt's volume upload streams "
                 "even when the pool's files are on this host");
    cmd.add_flag("--start", a.start, "start the domains once defined");
    cmd.add_flag("--force", a.force,
                 "replace an existing domain and volumes of the same name");
    cmd.add_flag("--convert-guest", a.convert_guest,
                 "convert the guest with virt-v2v-in-place (virtio drivers, "
                 "initramfs) before the define; virtio disk and NIC; local "
                 "disks only");
    cmd.add_flag("--dry-run", a.dry_run,
                 "print the domain XML and the plan; change nothing");
    cmd.add_option("--network", a.networks,
                   "map a source network: SRC=NET, SRC=user or SRC=none "
                   "(SRC * for all others); repeatable")
        ->allow_extra_args(false);
    cmd.add_option("--bridge", a.bridges,
                   "map a source network to a host bridge: SRC=BRIDGE; "
                   "repeatable")
        ->allow_extra_args(false);
  }
  cmd.add_option("--format", a.format, "disk format: qcow2 or raw")
      ->check(CLI::IsMember(VolumeFormatNames()))
      ->capture_default_str();
  cmd.add_option("--disk-bus", a.disk_bus,
                 "auto (the boot disk on a device its guest can drive, the "
                 "rest as keep), keep (the closest device QEMU emulates), "
                 "virtio, sata or scsi")
      ->check(CLI::IsMember(DiskBusChoiceNames()))
      ->capture_default_str();
  cmd.add_option("--nic-model", a.nic_model, "keep, virtio or e1000")
      ->check(CLI::IsMember(NicModelChoiceNames()))
      ->capture_default_str();
  cmd.add_option("--virt-type", a.virt_type,
                 "kvm or qemu (default: kvm where the host offers it)")
      ->check(CLI::IsMember(VirtTypeNames()));
  cmd.add_option("--vsys", a.vsys,
                 "which VirtualSystem of a collection: index, id or name "
                 "(default: all)");
  cmd.add_option("--deployment", a.deployment,
                 "the DeploymentOption to use (default: the descriptor's)");
  cmd.add_option("--prop", a.properties,
                 "an OVF property for the guest: KEY=VALUE; repeatable")
      ->allow_extra_args(false);
  cmd.add_option("--ca", a.ca,
                 "PEM trust anchors: the package must be signed by them");
  cmd.add_option("--threads", a.threads,
                 "conversion threads (default: one per core)")
      ->check(CLI::Range(0, 64));
  cmd.add_flag("--no-verify", a.no_verify,
               "import even if digests or the signature do not verify "
               "(loudly)");
}

}  // namespace ova2virt::cli
