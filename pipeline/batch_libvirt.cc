#include "pipeline/batch_libvirt.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/xml.h"
#include "virtdriver/connection.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

ItemWork RunImport(const BatchItem& item, const SourceIdentity& source,
                   const ExecuteOptions& options, Progress* progress) {
  ItemWork work;
  ImportRequest r = item.import;
  r.dry_run = options.dry_run;
  r.metadata.emplace_back(std::string(kMetaBatchItem), item.key);
  r.metadata.emplace_back(std::string(kMetaBatchSource), source.digest);
  if (r.threads == 0) {
    // Items running side by side share the cores rather than each taking
    // them all.
    int cores = static_cast<int>(std::thread::hardware_concurrency());
    r.threads = std::max(1, cores / std::max(options.jobs, 1));
  }
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

// EXPORT: RunExport(item, source, options, progress) -> ItemWork, calling
// ExportDomain(...) over its own connection, once pipeline/export.h lands.

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
    case BatchItemKind::kExport:
      break;  // EXPORT: the domain's identity (its XML and volumes).
  }
  return UnsupportedError("export items are not supported yet");
}

Result<bool> LibvirtBatchExecutor::StillThere(const BatchItem& item,
                                              const StateRecord& record) {
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
      break;  // EXPORT: return RunExport(item, source, options, progress_);
  }
  ItemWork work;
  work.status = UnsupportedError("export items are not supported yet");
  return work;
}

}  // namespace ova2virt
