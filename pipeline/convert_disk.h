// The `convert` use case: one disk image file to another format, streaming,
// sparse, written under a temporary name and renamed only when complete.
#ifndef OVA2VIRT_PIPELINE_CONVERT_DISK_H_
#define OVA2VIRT_PIPELINE_CONVERT_DISK_H_

#include <string>
#include <vector>

#include "convert/convert.h"
#include "core/progress.h"
#include "core/status.h"

namespace ova2virt {

struct ConvertRequest {
  std::string input;         // a path, or "-" for stdin
  std::string input_format;  // "" (probe), "vmdk", "qcow2" or "raw"
  std::string output;        // a path, or "-" for stdout (vmdk only)
  // "qcow2", "raw" or "vmdk"; "" takes it from the output's extension.
  std::string output_format;
  // Format options, each "key=value" or a comma-separated list of them (as
  // qemu-img's -o): vmdk takes subformat=streamOptimized, adapter_type=,
  // hwversion=, compression_level=.
  std::vector<std::string> output_options;
  int threads = 0;  // 0: one per core
  bool replace = false;
};

struct ConvertReport {
  std::string input_format;   // "vmdk-streamOptimized", "qcow2"...
  std::string output_format;  // "qcow2", "raw", "vmdk-streamOptimized"
  ConvertStats stats;
};

// The output format a path's extension implies: .qcow2/.qcow -> qcow2,
// .raw/.img -> raw, .vmdk -> vmdk; kUsage otherwise.
Result<std::string> OutputFormatFor(const std::string& path);

// Converts request.input to request.output. Nothing appears under the
// output name unless the whole conversion succeeded; on failure or
// cancellation the temporary file is removed. Errors name the file.
Result<ConvertReport> ConvertDiskImage(const ConvertRequest& request,
                                       Progress& progress);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_CONVERT_DISK_H_
