// The batch use case: many imports and exports from one plan, run with bounded
// parallelism, continuing past failures, with a state that lets a re-run skip
// what is done and retry what failed.
//
// Pure where it can be: the plan is a value (cli/batch_plan.h reads it from
// JSON), the state is a value (the CLI reads and writes the state file),
// and everything that touches the world -- reading a source, asking a host
// what it holds, running an item -- goes through a BatchExecutor, so tests
// drive the scheduler and the skip/retry rules with fakes.
// batch/batch_libvirt.h is the real executor. docs/batch.md is the
// user's side of all this.
#ifndef OVA2VIRT_PIPELINE_BATCH_H_
#define OVA2VIRT_PIPELINE_BATCH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/batch_source.h"
#include "core/diagnostics.h"
#include "core/status.h"
#include "pipeline/export.h"
#include "pipeline/import.h"

namespace ova2virt {

// What an item does. Adding a kind: a value here, its request in
// BatchItem, its fields in SettingsFingerprint, its executor function in
// batch/batch_libvirt.cc and its keys in cli/batch_plan.cc.
enum class BatchItemKind { kImport, kExport };
std::string_view BatchItemKindName(BatchItemKind kind);  // "import"...

// One unit of work of a plan.
struct BatchItem {
  // Unique within the plan: the item's "id", else its name (import), its
  // output (export), else its input. The state file and the domain's
  // metadata know the item by it.
  std::string key;
  BatchItemKind kind = BatchItemKind::kImport;
  std::string connect;  // libvirt URI; empty: libvirt's default
  // kImport: what to import (input absolute; progress and metadata are
  // the runner's business).
  ImportRequest import;
  // kExport: what to export (exactly one of output and ovf_dir, absolute;
  // progress is the runner's business).
  ExportRequest export_request;
};

// Where an export writes: its .ova, else its directory.
const std::string& ExportOutputPath(const ExportRequest& request);

struct BatchPlan {
  std::string path;  // the plan file, for messages
  std::vector<BatchItem> items;
  // Per-host limits from the plan ("hosts": {URI: {"max_jobs": N}}), by
  // connection URI as the items name it; they replace --jobs-per-host for
  // that host.
  std::map<std::string, int> max_jobs;
};

// A digest (hex SHA-256) of what shapes an item's result: its kind and
// target connection; for an import its name, storage, formats, policy,
// networks, properties, VirtualSystem, deployment and verification; for an
// export its domain, layout (OVA or directory), OVF version, manifest
// digest, whether it is signed and whether media are packed. What does not
// change the result (start, force, threads, the CA file, the input's path;
// live, download, the output's path) is left out, so flipping `start` or
// moving the plan does not redo the work. (An export's output path is
// checked where it matters: a done export is done only while its output
// is at the item's path; see BatchExecutor::StillThere.)
std::string SettingsFingerprint(const BatchItem& item);

// A volume or file an item made, as recorded in the state.
struct RecordedVolume {
  std::string pool;  // empty for a file (storage_dir)
  std::string name;
  std::string path;
};

// One file of an export's output, as recorded in the state.
struct RecordedFile {
  std::string name;     // a plain file name (no folder)
  uint64_t offset = 0;  // of its data in the OVA; 0 in a directory
  uint64_t size = 0;
};

// What an export wrote, as recorded in the state: enough to tell cheaply,
// without reading the disks, that the output is still the one written.
struct RecordedOutput {
  std::string path;  // the .ova, or the directory
  bool directory = false;
  uint64_t size = 0;     // bytes of the .ova, or of all the directory's files
  std::string manifest;  // the manifest's name, one of `files`
  std::string manifest_sha256;      // of the manifest's bytes
  std::vector<RecordedFile> files;  // in package order
};

// What the state remembers of an item's last run.
struct StateRecord {
  // How the run ended (named apart from ova2virt::Status, which it would
  // hide inside this struct).
  enum Outcome { kDone, kFailed } status = kFailed;
  BatchItemKind kind = BatchItemKind::kImport;
  std::string input;  // the package (import), the domain (export)
  std::string connect;
  SourceIdentity source;
  std::string settings;                  // SettingsFingerprint
  std::vector<std::string> domains;      // imports: the domains made
  std::vector<RecordedVolume> volumes;   // imports: the volumes and files made
  std::optional<RecordedOutput> output;  // exports that succeeded
  int64_t finished = 0;                  // Unix time
  double seconds = 0;
  std::string error;  // the last failure's message
};

// The state of a plan's runs, by item key. Records of items no longer in
// the plan are kept (nothing the user did is forgotten).
struct BatchState {
  std::map<std::string, StateRecord> items;
};

// The metadata entries an item's domains carry (<ova2virt:meta name=...>),
// which tell a later run that the domain on the host is this item's work
// from this source.
inline constexpr std::string_view kMetaBatchItem = "batch-item";
inline constexpr std::string_view kMetaBatchSource = "batch-source";

// What running one item did.
struct ItemWork {
  Status status;  // ok, or why the item failed (its input named)
  std::vector<std::string> domains;
  std::vector<RecordedVolume> volumes;
  std::optional<RecordedOutput> output;  // a successful export (not dry)
  Diagnostics warnings;
  std::string plan_text;  // dry runs only: the plan in words
  uint64_t bytes = 0;     // written: an import's volumes, an export's output
};

struct ExecuteOptions {
  bool dry_run = false;
  int jobs = 1;  // how many items run at once (to share the cores)
};

// The world as the batch runner sees it. Calls for different items come
// from different threads at once; an implementation keeps no shared
// mutable state without its own locking.
class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  // The identity of the item's source: a package (see batch_source.h) or,
  // for an export, the domain and the images it reads (see
  // batch_export.h). Errors name the input or the domain.
  virtual Result<SourceIdentity> Identify(const BatchItem& item) = 0;
  // Imports: true when the item's target still holds everything `record`
  // says it made, and its domains carry this item's key and
  // `record.source`'s digest in their metadata. Exports: true when the
  // item's output path holds the output `record` describes. False when
  // anything is gone or different. An error only when the target cannot
  // be asked (host unreachable, output unreadable).
  virtual Result<bool> StillThere(const BatchItem& item,
                                  const StateRecord& record) = 0;
  // Runs the item. An import's domains must carry the batch metadata
  // (kMetaBatchItem = item.key, kMetaBatchSource = source.digest); an
  // export's work says what it wrote (ItemWork::output). Failures leave
  // nothing behind (the import and export pipelines roll back).
  virtual ItemWork Execute(const BatchItem& item, const SourceIdentity& source,
                           const ExecuteOptions& options) = 0;
  // Makes sure the host `connect` answers (opening, or reopening after it
  // was lost, the connection its items share), within a bounded time. An
  // error (naming the host) marks the host unreachable: its items fail
  // with reason "target unreachable" without being tried. Called before
  // every item, never twice at once for one host.
  virtual Status Connect(const std::string& /*connect*/) { return OkStatus(); }
  // True when the connection the items of `connect` share was lost (closed
  // by keepalive, or by the host). Asked after an item of that host failed:
  // the host is then judged dead (see RunBatch).
  virtual bool Lost(const std::string& /*connect*/) { return false; }
};

// Seconds for durations and the wall clock for the state, injectable so
// that tests see exact numbers.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double Seconds() = 0;    // monotonic
  virtual int64_t UnixTime() = 0;  // for the state's "finished"
};
Clock& SystemClock();

enum class ItemStatus {
  kDone,        // ran and succeeded
  kSkipped,     // done before, source and settings unchanged, target holds it
  kFailed,      // ran (or could not be identified) and failed
  kNotStarted,  // interrupted, or the state could not be saved, first
  kWouldRun,    // dry run: would run (and its dry run passed)
  kWouldSkip,   // dry run: would be skipped
};
std::string_view ItemStatusName(ItemStatus s);  // "done", "not-started"...

struct ItemResult {
  ItemStatus status = ItemStatus::kNotStarted;
  double seconds = 0;
  Status error;        // for kFailed
  std::string reason;  // why it ran or was skipped: "new", "failed before"...
  std::vector<std::string> domains;
  Diagnostics warnings;
  std::string plan_text;  // dry runs
  uint64_t bytes = 0;     // what it wrote (ItemWork::bytes)
};

// One host's share of a run (the items of one connection).
struct HostSummary {
  std::string connect;
  size_t items = 0, done = 0, skipped = 0, failed = 0, not_started = 0;
  size_t peak = 0;          // most items at once
  double seconds = 0;       // from its first item's start to its last's end
  uint64_t bytes = 0;       // written by its items
  double throughput = 0;    // bytes / seconds (0 when nothing was written)
  std::string unreachable;  // why, when the host did not answer
};

struct BatchSummary {
  size_t total = 0, done = 0, skipped = 0, failed = 0, not_started = 0;
  size_t would_run = 0, would_skip = 0;  // dry runs
  double seconds = 0;
  bool interrupted = false;
  // Items failed while their worker was still blocked in a libvirt call
  // (RunBatch): those threads still run, so the caller must end the
  // process without waiting for them (or destroying what they use).
  size_t abandoned = 0;
  // True when every item is done or skipped (would run or skip, on a dry
  // run) and the state was saved: the command's exit status 0.
  bool ok = false;
};

struct BatchReport {
  std::vector<ItemResult> items;   // in plan order
  std::vector<HostSummary> hosts;  // in order of first appearance
  BatchSummary summary;
  Status state_error;  // saving the state failed: no item was started after
};

// Told about the run as it goes. Calls are serialized (never two at once)
// and come from the worker threads.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void ItemStarted(size_t /*index*/, const BatchItem& /*item*/) {}
  virtual void ItemFinished(size_t /*index*/, const BatchItem& /*item*/,
                            const ItemResult& /*result*/) {}
  // The state changed (an item ran); save it. An error stops the batch
  // from starting further items (they would be redone on the next run).
  virtual Status SaveState(const BatchState& /*state*/) { return OkStatus(); }
};

struct BatchOptions {
  int jobs = 1;  // items at once; at least 1
  // Items at once on one host (connection); 0: no limit but `jobs`. A
  // host's max_jobs in the plan replaces it.
  int jobs_per_host = 0;
  bool dry_run = false;
  // nullptr: SystemClock(). A clock of the caller's must outlive the
  // workers RunBatch abandons (BatchSummary::abandoned).
  Clock* clock = nullptr;
  // Seconds, after an interruption, that running items have to roll back
  // before they are given up (abandoned), and after a host's connection
  // was lost, that its other items have before they are.
  double cancel_grace = 5;
  double lost_host_grace = 10;
};

// Why an item must run, from its state record alone, or nullopt when the
// record says it is done with this source and these settings (then the
// target decides): "new", "failed before", "source changed" or "settings
// changed".
std::optional<std::string> ReasonToRun(const StateRecord* record,
                                       const SourceIdentity& source,
                                       const std::string& settings);

// Runs the plan: at most `options.jobs` items at once, and on each host at
// most its limit (BatchPlan::max_jobs, else options.jobs_per_host). The
// next item is taken from the host with the fewest items running (ties:
// plan order), so no host idles while another's items queue; within a
// host, in plan order. A host that does not answer (BatchExecutor::Connect)
// fails its items at once, reason "target unreachable", without holding
// up the others; so does one whose connection is lost (an item of it failed
// and BatchExecutor::Lost says so), and its items still in flight are
// failed `lost_host_grace` seconds later if they have not ended by then
// (their threads abandoned: BatchSummary::abandoned). Each item is identified,
// checked against `state` and its target, and run unless done. Failures do not
// stop the others. After each item that ran, `state` is updated and the
// observer asked to save it (not on a dry run). Once cancellation is requested
// (core/cancel.h) no further item starts; running ones roll back by
// themselves, and those still running `cancel_grace` seconds later are
// failed (abandoned) with their state recorded as failed. Item records change
// only when an item really ran: a source that cannot be read or a host that
// cannot be asked leaves its record as it was.
BatchReport RunBatch(const BatchPlan& plan, BatchState& state,
                     BatchExecutor& executor, const BatchOptions& options,
                     BatchObserver* observer);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_BATCH_H_
