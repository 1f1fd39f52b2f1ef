// ISO 9660 images for the OVF environment CD (DSP0243 "iso" transport): an
// `ovf-env.xml` in the root of a CD labelled "OVF ENV", which cloud-init's
// OVF datasource and VMware's tools read. Written with libarchive's ISO 9660
// writer, with Rock Ridge and Joliet names so the file keeps its name.
#ifndef OVA2VIRT_OVA_ISO_WRITER_H_
#define OVA2VIRT_OVA_ISO_WRITER_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

struct IsoFile {
  std::string name;  // in the root directory
  std::string data;
};

// The label vSphere gives the OVF environment CD.
inline constexpr std::string_view kOvfEnvironmentLabel = "OVF ENV";

// Writes an image holding `files` in its root directory, labelled
// `volume_label` (at most 32 printable ASCII characters, kept as given in
// the primary and Joliet volume descriptors), to `out`. Every file has mode
// 0444 and time 0. kUsage for a name that is not a plain file name (empty,
// a slash, control characters, "." or "..", over 255 bytes), a duplicate,
// or a label over 32 characters; kFailed when libarchive fails.
Status WriteIso9660(const std::vector<IsoFile>& files,
                    std::string_view volume_label, ByteSink& out);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_ISO_WRITER_H_
