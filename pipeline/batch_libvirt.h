// The batch executor that does the work: sources are read from the file
// system (pipeline/batch_source.h) and every item -- its check and its run
// -- gets its own libvirt connection, to the item's own URI, so one plan
// can spread work over several hosts and items run in parallel.
#ifndef OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_
#define OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_

#include <string>
#include <string_view>

#include "core/progress.h"
#include "pipeline/batch.h"

namespace ova2virt {

class LibvirtBatchExecutor : public BatchExecutor {
 public:
  // `progress` (may be nullptr) receives per-disk progress, but only when
  // one item runs at a time: several bars at once would be noise.
  explicit LibvirtBatchExecutor(Progress* progress = nullptr)
      : progress_(progress) {}

  Result<SourceIdentity> Identify(const BatchItem& item) override;
  Result<bool> StillThere(const BatchItem& item,
                          const StateRecord& record) override;
  ItemWork Execute(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options) override;

 private:
  Progress* progress_;
};

// True when `domain_xml` carries the batch metadata of item `key` made
// from the source with digest `source_digest` (<ova2virt:meta
// name='batch-item'> and name='batch-source' in our namespace). False for
// anything else, including XML that does not parse.
bool CarriesBatchMetadata(std::string_view domain_xml, std::string_view key,
                          std::string_view source_digest);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_
