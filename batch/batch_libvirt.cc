#include "batch/batch_libvirt.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "batch/batch_export.h"
#include "core/cancel.h"
#include "core/xml.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

// Items running side by side share the cores rather than each taking them
// all.
int SharedThreads(int threads, const ExecuteOptions& options) {
  if (threads != 0) return threads;
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(options.jobs, 1));
}

ItemWork RunImport(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options, Progress* progress,
                   Result<std::shared_ptr<Connection>> conn) {
  ItemWork work;
  ImportRequest r = item.import;
  r.dry_run = options.dry_run;
  r.metadata.emplace_back(std::string(kMetaBatchItem), item.key);
  r.metadata.emplace_back(std::string(kMetaBatchSource), source.digest);
  r.threads = SharedThreads(r.threads, options);
  r.progress = options.jobs == 1 ? progress : nullptr;
  if (!conn.ok()) {
    work.status = conn.status();
    return work;
  }
  Result<ImportReport> report = ImportAppliance(**conn, r);
  if (!report.ok()) {
    work.status = report.status();
    return work;
  }
  for (const ImportedDomain& d : report->domains) {
    work.domains.push_back(d.name);
    for (const ImportedVolume& v : d.volumes) {
      work.volumes.push_back({v.pool, v.name, v.path});
      work.bytes += v.allocation;
    }
  }
  work.warnings = std::move(report->warnings);
  if (options.dry_run) work.plan_text = std::move(report->plan_text);
  return work;
}

// The export over a connection of its own; the output it wrote is
// recorded (its manifest read back) for later runs to recognise.
ItemWork RunExport(const BatchItem& item, const ExecuteOptions& options,
                   Progress* progress,
                   Result<std::shared_ptr<Connection>> conn) {
  ItemWork work;
  ExportRequest r = item.export_request;
  r.threads = SharedThreads(r.threads, options);
  r.progress = options.jobs == 1 ? progress : nullptr;
  if (!conn.ok()) {
    work.status = conn.status();
    return work;
  }
  if (options.dry_run) {
    Result<std::string> plan = PlanExport(**conn, r);
    if (plan.ok()) {
      work.plan_text = std::move(plan).value();
    } else {
      work.status = plan.status();
    }
    return work;
  }
  Result<ExportReport> report = ExportDomain(**conn, r);
  if (!report.ok()) {
    work.status = report.status();
    return work;
  }
  work.warnings = std::move(report->warnings);
  work.bytes = report->bytes;
  Result<RecordedOutput> output = RecordExportOutput(*report);
  if (!output.ok()) {
    // Written but not recognisable later: the next run would meet an
    // output it cannot tell is this item's. Say so rather than pretend.
    work.status =
        output.status().WithContext("exported, but cannot record the output");
    return work;
  }
  work.output = std::move(output).value();
  return work;
}

}  // namespace

Result<std::unique_ptr<Connection>> OpenWithTimeout(
    const std::string& uri, std::chrono::milliseconds timeout) {
  // Shared with the opening thread, which may outlive the wait.
  struct Attempt {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false, abandoned = false;
    std::optional<Result<std::unique_ptr<Connection>>> result;
  };
  auto attempt = std::make_shared<Attempt>();
  std::thread([attempt, uri] {
    auto opened = Connection::Open(uri);
    std::lock_guard<std::mutex> lock(attempt->mu);
    if (attempt->abandoned) return;  // `opened` closes here
    attempt->result = std::move(opened);
    attempt->finished = true;
    attempt->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(attempt->mu);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!attempt->finished) {
    if (attempt->cv.wait_until(
            lock, std::min(deadline, std::chrono::steady_clock::now() +
                                         std::chrono::milliseconds(100))) ==
            std::cv_status::timeout &&
        (std::chrono::steady_clock::now() >= deadline || CancelRequested())) {
      break;
    }
  }
  if (!attempt->finished) {
    attempt->abandoned = true;
    if (CancelRequested()) return CancelledError("interrupted");
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.0f",
                  std::chrono::duration<double>(timeout).count());
    return FailedError("cannot connect to " + Quote(uri) +
                       ": no answer within " + secs + " s");
  }
  return std::move(*attempt->result);
}

LibvirtBatchExecutor::~LibvirtBatchExecutor() = default;

Status LibvirtBatchExecutor::Connect(const std::string& connect) {
  std::shared_ptr<Host> host;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& h = hosts_[connect];
    if (!h) h = std::make_shared<Host>();
    host = h;
  }
  std::lock_guard<std::mutex> lock(host->mu);
  if (host->conn && host->conn->IsAlive()) return OkStatus();
  host->conn.reset();  // lost: items still using it keep it till they end
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   OpenWithTimeout(connect, connect_timeout_));
  host->conn = std::move(conn);
  return OkStatus();
}

bool LibvirtBatchExecutor::Lost(const std::string& connect) {
  std::shared_ptr<Host> host;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hosts_.find(connect);
    if (it == hosts_.end()) return false;
    host = it->second;
  }
  std::lock_guard<std::mutex> lock(host->mu);
  return host->conn && !host->conn->IsAlive();
}

Result<std::shared_ptr<Connection>> LibvirtBatchExecutor::ConnectionFor(
    const std::string& uri) {
  std::shared_ptr<Host> host;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hosts_.find(uri);
    if (it != hosts_.end()) host = it->second;
  }
  if (host) {
    std::lock_guard<std::mutex> lock(host->mu);
    if (host->conn) return host->conn;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   OpenWithTimeout(uri, connect_timeout_));
  return std::shared_ptr<Connection>(std::move(conn));
}

bool CarriesBatchMetadata(std::string_view domain_xml, std::string_view key,
                          std::string_view source_digest) {
  auto root = ParseXml(domain_xml);
  if (!root.ok() || !root->Is("", "domain")) return false;
  const XmlElement* md = root->Child("", "metadata");
  const XmlElement* app =
      md != nullptr ? md->Child(kOva2virtXmlns, "appliance") : nullptr;
  if (app == nullptr) return false;
  bool item_ok = false, source_ok = false;
  for (const XmlElement* m : app->Children(kOva2virtXmlns, "meta")) {
    std::string name = m->Attribute("", "name").value_or("");
    if (name == kMetaBatchItem) item_ok = m->TrimmedText() == key;
    if (name == kMetaBatchSource) source_ok = m->TrimmedText() == source_digest;
  }
  return item_ok && source_ok;
}

Result<SourceIdentity> LibvirtBatchExecutor::Identify(const BatchItem& item) {
  switch (item.kind) {
    case BatchItemKind::kImport:
      return IdentifySource(item.import.input, item.import.verify);
    case BatchItemKind::kExport: {
      ASSIGN_OR_RETURN(std::shared_ptr<Connection> conn,
                       ConnectionFor(item.connect));
      return IdentifyExportSource(*conn, item.export_request);
    }
  }
  return UnsupportedError("unknown batch item kind");
}

Result<bool> LibvirtBatchExecutor::StillThere(const BatchItem& item,
                                              const StateRecord& record) {
  if (item.kind == BatchItemKind::kExport) {
    // Where the item writes now: an output moved away (or an item pointed
    // elsewhere) is not there.
    if (!record.output) return false;
    return ExportOutputIntact(ExportOutputPath(item.export_request),
                              *record.output);
  }
  if (record.domains.empty()) return false;
  ASSIGN_OR_RETURN(std::shared_ptr<Connection> conn,
                   ConnectionFor(item.connect));
  for (const std::string& name : record.domains) {
    ASSIGN_OR_RETURN(bool exists, conn->DomainExists(name));
    if (!exists) return false;
    ASSIGN_OR_RETURN(std::string xml, conn->GetDomainXml(name, true));
    if (!CarriesBatchMetadata(xml, item.key, record.source.digest)) {
      return false;
    }
  }
  for (const RecordedVolume& v : record.volumes) {
    if (!v.pool.empty()) {
      ASSIGN_OR_RETURN(bool exists, conn->VolumeExists(v.pool, v.name));
      if (!exists) return false;
    } else if (conn->IsLocal()) {
      // Files written with --storage-dir on this host.
      std::error_code ec;
      if (!std::filesystem::exists(v.path, ec)) return false;
    }
  }
  return true;
}

ItemWork LibvirtBatchExecutor::Execute(const BatchItem& item,
                                       const SourceIdentity& source,
                                       const ExecuteOptions& options) {
  switch (item.kind) {
    case BatchItemKind::kImport:
      return RunImport(item, source, options, progress_,
                       ConnectionFor(item.connect));
    case BatchItemKind::kExport:
      return RunExport(item, options, progress_, ConnectionFor(item.connect));
  }
  ItemWork work;
  work.status = UnsupportedError("unknown batch item kind");
  return work;
}

}  // namespace ova2virt
