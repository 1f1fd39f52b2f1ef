// The choices an import takes from its user (--disk-bus, --nic-model,
// --virt-type, --format, and the same keys of a batch plan), as enums with
// one name table each (core/enum_names.h). They are parsed once, where the
// text comes in (cli/import_options.cc, cli/batch_plan.cc); the pipeline
// only ever sees values, so it never checks a spelling again.
//
// These are policy, not machine vocabulary: "auto" and "keep" are
// decisions about a machine, not buses or NIC models one could have
// (those are ControllerKind and NicModel in core/vmspec.h).
#ifndef OVA2VIRT_PIPELINE_IMPORT_CHOICES_H_
#define OVA2VIRT_PIPELINE_IMPORT_CHOICES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ova2virt {

// --disk-bus. auto: the boot disk on a device its guest drives, the rest as
// keep (pipeline/boot_policy.h); keep: every disk on the closest device
// QEMU emulates; virtio, sata, scsi: every disk there.
enum class DiskBusChoice { kAuto, kKeep, kVirtio, kSata, kScsi };

// --nic-model. keep: the source's model where QEMU has it, else e1000.
enum class NicModelChoice { kKeep, kVirtio, kE1000 };

// --virt-type: libvirt's domain type.
enum class VirtType { kKvm, kQemu };

// --format: what the disks are written as.
enum class VolumeFormat { kQcow2, kRaw };

std::string_view ToString(DiskBusChoice v);
std::string_view ToString(NicModelChoice v);
std::string_view ToString(VirtType v);
std::string_view ToString(VolumeFormat v);

// The value of exactly that name; nullopt for any other text.
std::optional<DiskBusChoice> ParseDiskBusChoice(std::string_view s);
std::optional<NicModelChoice> ParseNicModelChoice(std::string_view s);
std::optional<VirtType> ParseVirtType(std::string_view s);
std::optional<VolumeFormat> ParseVolumeFormat(std::string_view s);

// Every name, in the order usage messages list them.
std::vector<std::string> DiskBusChoiceNames();
std::vector<std::string> NicModelChoiceNames();
std::vector<std::string> VirtTypeNames();
std::vector<std::string> VolumeFormatNames();

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_IMPORT_CHOICES_H_
