// Internal to virtdriver: the domain's <metadata> element, both ways.
#ifndef OVA2VIRT_VIRTDRIVER_DOMAIN_METADATA_H_
#define OVA2VIRT_VIRTDRIVER_DOMAIN_METADATA_H_

#include "core/diagnostics.h"
#include "core/vmspec.h"
#include "core/xml.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {

// Writes <metadata>: our appliance element (options.metadata entries, the
// OS identifiers, products with their properties; password values left
// out) and the libosinfo OS URI where the id maps (else a warning).
void WriteDomainMetadata(XmlWriter& w, const VmSpec& vm,
                         const DomainOptions& options, Diagnostics* diags);

// Reads them back into spec->os, spec->products,
// spec->environment_transport, options->metadata and options->libosinfo_id;
// the image of the OVF environment CD the import recorded goes to
// *environment_cd (path, or pool and volume; empty when none), for the
// caller to match against the drives. Elements of other namespaces are
// ignored.
void ParseDomainMetadata(const XmlElement& metadata, VmSpec* spec,
                         DomainOptions* options, DiskBinding* environment_cd);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_DOMAIN_METADATA_H_
