// How `inspect` shows an appliance: a JSON document (keys per CLI.md) and a
// readable summary. Pure functions of the model; the command prints them.
#ifndef OVA2VIRT_CLI_RENDER_APPLIANCE_H_
#define OVA2VIRT_CLI_RENDER_APPLIANCE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "core/diagnostics.h"
#include "core/vmspec.h"

namespace ova2virt::cli {

// {"ovf_version", "name", "annotation", "deployment", "deployment_options",
//  "networks", "files", "startup", "products", "eulas",
//  "virtual_systems": [{"id", "name", "cpus", "cores_per_socket", "sockets",
//    "memory_mib", "memory_bytes", "firmware", "secure_boot", "os",
//    "os_info", "hardware_version", "disks": [{"id", "file",
//    "capacity_bytes", "format", "bus", "controller_model", "unit", ...}],
//    "cdroms", "floppies", "nics": [{"network", "model", "mac", ...}],
//    "serial_ports", "usb", "sound", "video", "tpm", "nvram",
//    "environment_transport", "products", "eulas", "annotation",
//    "unknown_items"}]}.
// Unknown sizes are null. Password properties never show their value.
nlohmann::json ApplianceJson(const ApplianceSpec& appliance);

// ApplianceJson plus "warnings": [{"id", "where", "message"}].
nlohmann::json ApplianceReportJson(const ApplianceSpec& appliance,
                                   const Diagnostics& diagnostics);

// A readable summary, one machine after another; lines end with '\n'.
std::string ApplianceText(const ApplianceSpec& appliance);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_RENDER_APPLIANCE_H_
