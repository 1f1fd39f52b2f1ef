// The batch executor that does the work: sources are read from the file
// system (batch/batch_source.h); the items of one host (connection URI)
// share one libvirt connection (libvirt's are thread-safe; each item's
// uploads and downloads have streams of their own), opened within a
// bounded time and reopened when lost, so one plan spreads work over
// several hosts and a host that does not answer is known as such in
// seconds.
#ifndef OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_
#define OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "batch/batch.h"
#include "core/progress.h"

namespace ova2virt {

class Connection;

class LibvirtBatchExecutor : public BatchExecutor {
 public:
  // `progress` (may be nullptr) receives per-disk progress, but only when
  // one item runs at a time: several bars at once would be noise.
  // `connect_timeout`: how long a host may take to answer the connection.
  explicit LibvirtBatchExecutor(
      Progress* progress = nullptr,
      std::chrono::milliseconds connect_timeout = std::chrono::seconds(20))
      : progress_(progress), connect_timeout_(connect_timeout) {}
  ~LibvirtBatchExecutor() override;

  // Opens the host's shared connection (or checks it is alive, reopening
  // it when lost). A host that gives no answer within the timeout is
  // "cannot connect to 'URI': no answer within N s" (the open goes on in
  // the background and its connection is closed when it ends).
  Status Connect(const std::string& connect) override;
  // The connection Connect opened is no longer alive (libvirt closed it:
  // keepalive, or the host went away). Never blocks on the host.
  bool Lost(const std::string& connect) override;

  Result<SourceIdentity> Identify(const BatchItem& item) override;
  Result<bool> StillThere(const BatchItem& item,
                          const StateRecord& record) override;
  ItemWork Execute(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options) override;

 private:
  // The host's connection: the shared one, else (an item not announced
  // by Connect) a new one.
  Result<std::shared_ptr<Connection>> ConnectionFor(const std::string& uri);

  struct Host {
    std::mutex mu;  // one Connect at a time
    std::shared_ptr<Connection> conn;
  };
  Progress* progress_;
  std::chrono::milliseconds connect_timeout_;
  std::mutex mu_;  // guards hosts_
  std::map<std::string, std::shared_ptr<Host>> hosts_;
};

// Opens `uri`, giving up after `timeout` (the open goes on in a thread of
// its own, which closes what it opened once nobody waits for it).
Result<std::unique_ptr<Connection>> OpenWithTimeout(
    const std::string& uri, std::chrono::milliseconds timeout);

// True when `domain_xml` carries the batch metadata of item `key` made
// from the source with digest `source_digest` (<ova2virt:meta
// name='batch-item'> and name='batch-source' in our namespace). False for
// anything else, including XML that does not parse.
bool CarriesBatchMetadata(std::string_view domain_xml, std::string_view key,
                          std::string_view source_digest);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BATCH_LIBVIRT_H_
