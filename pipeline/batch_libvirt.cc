#include "pipeline/batch_libvirt.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/xml.h"
#include "pipeline/batch_export.h"
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
                   const ExecuteOptions& options, Progress* progress) {
  ItemWork work;
  ImportRequest r = item.import;
  r.dry_run = options.dry_run;
  r.metadata.emplace_back(std::string(kMetaBatchItem), item.key);
  r.metadata.emplace_back(std::string(kMetaBatchSource), source.digest);
  r.threads = SharedThreads(r.threads, options);
  r.progress = options.jobs == 1 ? progress : nullptr;
  auto conn = Connection::Open(item.connect);
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
    }
  }
  work.warnings = std::move(report->warnings);
  if (options.dry_run) work.plan_text = std::move(report->plan_text);
  return work;
}

// The export over a connection of its own; the output it wrote is
// recorded (its manifest read back) for later runs to recognise.
ItemWork RunExport(const BatchItem& item, const ExecuteOptions& options,
                   Progress* progress) {
  ItemWork work;
  ExportRequest r = item.export_request;
  r.threads = SharedThreads(r.threads, options);
  r.progress = options.jobs == 1 ? progress : nullptr;
  auto conn = Connection::Open(item.connect);
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
      ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                       Connection::Open(item.connect));
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
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                   Connection::Open(item.connect));
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
      return RunImport(item, source, options, progress_);
    case BatchItemKind::kExport:
      return RunExport(item, options, progress_);
  }
  ItemWork work;
  work.status = UnsupportedError("unknown batch item kind");
  return work;
}

}  // namespace ova2virt
