#include "cli/batch_plan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "cli/batch_plan_json.h"
#include "core/digest.h"
#include "core/file.h"
#include "pipeline/export.h"
#include "pipeline/import_choices.h"
#include "pipeline/policy.h"

namespace ova2virt::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kMaxItems = 100000;
constexpr int kMaxThreads = 64;

const std::vector<std::string_view> kTopKeys = {"version", "defaults", "items",
                                                "hosts"};
const std::vector<std::string_view> kHostKeys = {"max_jobs"};
// Settings of an import item, which the defaults may also hold.
const std::vector<std::string_view> kSharedKeys = {
    "connect",  "pool",      "storage_dir", "format", "networks",   "bridges",
    "disk_bus", "nic_model", "virt_type",   "vsys",   "deployment", "props",
    "ca",       "start",     "force",       "verify", "threads",    "upload"};
// Keys only an import item has.
const std::vector<std::string_view> kItemKeys = {"kind", "id", "input", "name"};
// Settings of an export item, which the defaults may also hold ("connect"
// and "threads" are an import's too).
const std::vector<std::string_view> kExportSharedKeys = {
    "connect", "threads", "ovf_version", "digest",  "sign",
    "cert",    "live",    "download",    "no_media"};
// Keys only an export item has.
const std::vector<std::string_view> kExportItemKeys = {"kind", "id", "domain",
                                                       "output", "ovf_dir"};
const std::vector<std::string_view> kDigests = {"sha1", "sha256", "sha512"};

// `other` and `other_kind`: keys of the other kind of item, named as such
// rather than as unknown ("key 'pool' belongs to import items").
Status CheckKeys(const json& obj, const std::string& where,
                 const std::vector<std::string_view>& allowed,
                 const std::vector<std::string_view>& other = {},
                 std::string_view other_kind = "") {
  for (const auto& [key, value] : obj.items()) {
    if (Has(allowed, key)) continue;
    if (where == "defaults" &&
        (Has(kItemKeys, key) || Has(kExportItemKeys, key))) {
      return UsageError("defaults: key " + Quote(key) +
                        " belongs to an item, not to the defaults");
    }
    if (Has(other, key)) {
      return UsageError(where + ": key " + Quote(key) + " belongs to " +
                        std::string(other_kind) + " items");
    }
    return UnknownKey(where, key, allowed);
  }
  return OkStatus();
}

std::string ItemWhere(size_t index, const json& item) {
  std::string where = "item " + std::to_string(index + 1);
  for (const char* k : {"id", "name", "domain"}) {
    if (item.is_object() && item.contains(k) && item[k].is_string() &&
        !item[k].get<std::string>().empty()) {
      return where + " (" + Quote(item[k].get<std::string>()) + ")";
    }
  }
  return where;
}

// The fields defaults and items share, merged: an item's value replaces
// the default's; networks, bridges and props merge name by name.
struct Fields {
  std::optional<std::string> connect;
  ImportRequest request;
  std::map<std::string, std::string> networks, bridges, props;
  ExportRequest export_request;  // its settings; domain and output per item
};

Status ApplyShared(const json& obj, const std::string& where,
                   const fs::path& base, Fields& f) {
  ImportRequest& r = f.request;
  for (const auto& [key, v] : obj.items()) {
    if (key == "connect") {
      if (!v.is_string()) return String(v, where, key).status();
      f.connect = v.get<std::string>();  // "" asks for libvirt's default
    } else if (key == "pool") {
      ASSIGN_OR_RETURN(r.pool, String(v, where, key));
      r.pool_named = true;
    } else if (key == "storage_dir") {
      ASSIGN_OR_RETURN(std::string dir, String(v, where, key));
      r.storage_dir = Resolve(base, dir);
    } else if (key == "ca") {
      ASSIGN_OR_RETURN(std::string ca, String(v, where, key));
      r.ca_file = Resolve(base, ca);
    } else if (key == "format") {
      ASSIGN_OR_RETURN(r.format, OneOf(v, where, key, ParseVolumeFormat,
                                       VolumeFormatNames()));
    } else if (key == "disk_bus") {
      ASSIGN_OR_RETURN(
          r.policy.disk_bus,
          OneOf(v, where, key, ParseDiskBusChoice, DiskBusChoiceNames()));
    } else if (key == "nic_model") {
      ASSIGN_OR_RETURN(
          r.policy.nic_model,
          OneOf(v, where, key, ParseNicModelChoice, NicModelChoiceNames()));
    } else if (key == "virt_type") {
      ASSIGN_OR_RETURN(r.policy.virt_type,
                       OneOf(v, where, key, ParseVirtType, VirtTypeNames()));
    } else if (key == "vsys") {
      if (v.is_number_unsigned()) {
        r.vsys = std::to_string(v.get<uint64_t>());
      } else if (v.is_string() && !v.get<std::string>().empty()) {
        r.vsys = v.get<std::string>();
      } else {
        return UsageError(where +
                          ": 'vsys' must be an index (0, 1...), or a "
                          "VirtualSystem's id or name");
      }
    } else if (key == "deployment") {
      ASSIGN_OR_RETURN(r.deployment, String(v, where, key));
    } else if (key == "networks") {
      RETURN_IF_ERROR(Mapping(v, where, key, false, f.networks));
    } else if (key == "bridges") {
      RETURN_IF_ERROR(Mapping(v, where, key, false, f.bridges));
    } else if (key == "props") {
      RETURN_IF_ERROR(Mapping(v, where, key, true, f.props));
    } else if (key == "start") {
      ASSIGN_OR_RETURN(r.start, Bool(v, where, key));
    } else if (key == "force") {
      ASSIGN_OR_RETURN(r.force, Bool(v, where, key));
    } else if (key == "verify") {
      ASSIGN_OR_RETURN(r.verify, Bool(v, where, key));
    } else if (key == "upload") {
      ASSIGN_OR_RETURN(r.upload, Bool(v, where, key));
    } else if (key == "threads") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() > kMaxThreads) {
        return UsageError(where + ": 'threads' must be an integer from 0 to " +
                          std::to_string(kMaxThreads));
      }
      r.threads = static_cast<int>(v.get<int64_t>());
      f.export_request.threads = r.threads;
    }
  }
  return OkStatus();
}

// The export settings of `obj` (other keys are left to ApplyShared).
Status ApplyExport(const json& obj, const std::string& where,
                   const fs::path& base, Fields& f) {
  ExportRequest& r = f.export_request;
  for (const auto& [key, v] : obj.items()) {
    if (key == "ovf_version") {
      if (!v.is_number_integer() ||
          (v.get<int64_t>() != 1 && v.get<int64_t>() != 2)) {
        return UsageError(where + ": 'ovf_version' must be 1 or 2");
      }
      r.ovf_version = static_cast<int>(v.get<int64_t>());
    } else if (key == "digest") {
      ASSIGN_OR_RETURN(std::string name, OneOf(v, where, key, kDigests));
      std::transform(name.begin(), name.end(), name.begin(), ::toupper);
      r.digest = ParseDigestName(name).value_or(DigestAlgorithm::kSha256);
    } else if (key == "sign") {
      ASSIGN_OR_RETURN(std::string path, String(v, where, key));
      r.sign_key = Resolve(base, path);
    } else if (key == "cert") {
      ASSIGN_OR_RETURN(std::string path, String(v, where, key));
      r.sign_cert = Resolve(base, path);
    } else if (key == "live") {
      ASSIGN_OR_RETURN(r.live, Bool(v, where, key));
    } else if (key == "download") {
      ASSIGN_OR_RETURN(r.download, Bool(v, where, key));
    } else if (key == "no_media") {
      ASSIGN_OR_RETURN(bool no_media, Bool(v, where, key));
      r.policy.include_media = !no_media;
    }
  }
  return OkStatus();
}

// The merged maps into the request's policy and properties.
Status Finish(const std::string& where, Fields& f) {
  ImportRequest& r = f.request;
  for (const auto& [source, target] : f.networks) {
    if (f.bridges.count(source)) {
      return UsageError(where + ": network " + Quote(source) +
                        " is mapped both in 'networks' and in 'bridges'");
    }
    auto m = ParseNetworkMapping("x=" + target);
    if (!m.ok()) {
      return UsageError(where + ": networks " + Quote(source) + ": " +
                        Quote(target) +
                        " is not a network name, bridge:BR, user or none");
    }
    m->source = source;
    r.policy.networks.push_back(*m);
  }
  for (const auto& [source, bridge] : f.bridges) {
    r.policy.networks.push_back({source, NicBinding::kBridge, bridge});
  }
  for (const auto& [key, value] : f.props)
    r.properties.emplace_back(key, value);
  return OkStatus();
}

const std::vector<std::string_view>& ImportKeys() {
  static const auto keys = Union(kSharedKeys, kItemKeys);
  return keys;
}
const std::vector<std::string_view>& ExportKeys() {
  static const auto keys = Union(kExportSharedKeys, kExportItemKeys);
  return keys;
}

Result<BatchItem> ParseImportItem(const json& obj, const std::string& where,
                                  const Fields& base, const fs::path& folder,
                                  const std::string& default_connect) {
  RETURN_IF_ERROR(CheckKeys(obj, where, ImportKeys(),
                            Minus(ExportKeys(), ImportKeys()), "export"));
  BatchItem item;
  if (!obj.contains("input")) {
    return UsageError(where + ": 'input' is missing (the package to import)");
  }
  ASSIGN_OR_RETURN(std::string input, String(obj["input"], where, "input"));
  if (input == "-") {
    return UsageError(where + ": 'input' cannot be stdin in a plan");
  }
  Fields f = base;
  RETURN_IF_ERROR(ApplyShared(obj, where, folder, f));
  RETURN_IF_ERROR(Finish(where, f));
  item.import = std::move(f.request);
  item.import.input = Resolve(folder, input);
  if (obj.contains("name")) {
    ASSIGN_OR_RETURN(item.import.name, String(obj["name"], where, "name"));
  }
  item.key = input;
  if (!item.import.name.empty()) item.key = item.import.name;
  if (obj.contains("id")) {
    ASSIGN_OR_RETURN(item.key, String(obj["id"], where, "id"));
  }
  item.connect = f.connect.value_or(default_connect);
  return item;
}

Result<BatchItem> ParseExportItem(const json& obj, const std::string& where,
                                  const Fields& base, const fs::path& folder,
                                  const std::string& default_connect) {
  RETURN_IF_ERROR(CheckKeys(obj, where, ExportKeys(),
                            Minus(ImportKeys(), ExportKeys()), "import"));
  if (!obj.contains("domain")) {
    return UsageError(where + ": 'domain' is missing (the domain to export)");
  }
  ASSIGN_OR_RETURN(std::string domain, String(obj["domain"], where, "domain"));
  Fields f = base;
  RETURN_IF_ERROR(ApplyShared(obj, where, folder, f));  // connect, threads
  RETURN_IF_ERROR(ApplyExport(obj, where, folder, f));
  BatchItem item;
  item.kind = BatchItemKind::kExport;
  item.export_request = f.export_request;
  ExportRequest& r = item.export_request;
  r.domain = domain;
  if (obj.contains("output") && obj.contains("ovf_dir")) {
    return UsageError(where +
                      ": give either 'output' (an .ova) or 'ovf_dir', not "
                      "both");
  }
  // The output as written is the item's default key, as an import's input
  // is: what the item makes, unique within the plan.
  std::string written;
  if (obj.contains("ovf_dir")) {
    ASSIGN_OR_RETURN(written, String(obj["ovf_dir"], where, "ovf_dir"));
    r.ovf_dir = Resolve(folder, written);
  } else {
    if (obj.contains("output")) {
      ASSIGN_OR_RETURN(written, String(obj["output"], where, "output"));
      if (fs::path(written).extension() == ".ovf") {
        return UsageError(where + ": 'output' " + Quote(written) +
                          " names an .ovf; for an ovf with its files beside "
                          "it, use 'ovf_dir'");
      }
    } else {
      // As `ova2virt export` names it, beside the plan.
      written = ExportPackageStem(domain) + ".ova";
    }
    r.output = Resolve(folder, written);
  }
  if (r.sign_key.empty() != r.sign_cert.empty()) {
    return UsageError(where +
                      ": signing needs both 'sign' (the key) and 'cert'");
  }
  item.key = written;
  if (obj.contains("id")) {
    ASSIGN_OR_RETURN(item.key, String(obj["id"], where, "id"));
  }
  item.connect = f.connect.value_or(default_connect);
  return item;
}

Result<BatchItem> ParseItem(const json& obj, size_t index, const Fields& base,
                            const fs::path& folder,
                            const std::string& default_connect) {
  const std::string where = ItemWhere(index, obj);
  if (!obj.is_object()) return UsageError(where + " must be an object");
  if (obj.contains("kind")) {
    ASSIGN_OR_RETURN(std::string kind,
                     OneOf(obj["kind"], where, "kind", {"import", "export"}));
    if (kind == "export") {
      return ParseExportItem(obj, where, base, folder, default_connect);
    }
  }
  return ParseImportItem(obj, where, base, folder, default_connect);
}

Result<BatchPlan> ParsePlan(std::string_view text, const std::string& plan_path,
                            const std::string& default_connect) {
  ASSIGN_OR_RETURN(json doc, ParseStrictJson(text));
  if (!doc.is_object()) {
    return UsageError("the plan must be a json object with \"items\"");
  }
  RETURN_IF_ERROR(CheckKeys(doc, "the plan", kTopKeys));
  if (doc.contains("version") &&
      (!doc["version"].is_number_integer() || doc["version"] != 1)) {
    return UnsupportedError("plan version " + Quote(doc["version"].dump()) +
                            " is not supported (this ova2virt reads 1)");
  }
  std::error_code ec;
  fs::path folder = fs::absolute(fs::path(plan_path), ec).parent_path();
  if (ec) return ErrnoError(plan_path, ec.value());
  Fields defaults;
  if (doc.contains("defaults")) {
    const json& d = doc["defaults"];
    if (!d.is_object()) return UsageError("'defaults' must be an object");
    RETURN_IF_ERROR(
        CheckKeys(d, "defaults", Union(kSharedKeys, kExportSharedKeys)));
    RETURN_IF_ERROR(ApplyShared(d, "defaults", folder, defaults));
    RETURN_IF_ERROR(ApplyExport(d, "defaults", folder, defaults));
  }
  if (!doc.contains("items")) {
    return UsageError(
        "the plan has no \"items\" (a list of imports and exports)");
  }
  const json& items = doc["items"];
  if (!items.is_array()) return UsageError("'items' must be a list");
  if (items.size() > kMaxItems) {
    return UsageError("the plan has " + std::to_string(items.size()) +
                      " items; at most " + std::to_string(kMaxItems) +
                      " are allowed");
  }
  BatchPlan plan;
  plan.path = plan_path;
  std::map<std::string, size_t> by_key;
  std::map<std::pair<std::string, std::string>, size_t> by_domain;
  std::map<std::string, size_t> by_output;
  for (size_t i = 0; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(BatchItem item,
                     ParseItem(items[i], i, defaults, folder, default_connect));
    auto [k, fresh] = by_key.emplace(item.key, i);
    if (!fresh) {
      return UsageError("items " + std::to_string(k->second + 1) + " and " +
                        std::to_string(i + 1) + " are both " + Quote(item.key) +
                        "; give them distinct \"id\"s");
    }
    if (item.kind == BatchItemKind::kExport) {
      const std::string& out = ExportOutputPath(item.export_request);
      auto [o, free] = by_output.emplace(out, i);
      if (!free) {
        return UsageError("items " + std::to_string(o->second + 1) + " and " +
                          std::to_string(i + 1) + " both export to " +
                          Quote(out));
      }
    } else if (!item.import.name.empty()) {
      auto [d, free] =
          by_domain.emplace(std::make_pair(item.connect, item.import.name), i);
      if (!free) {
        return UsageError("items " + std::to_string(d->second + 1) + " and " +
                          std::to_string(i + 1) + " both import domain " +
                          Quote(item.import.name) +
                          " over the same connection");
      }
    }
    plan.items.push_back(std::move(item));
  }
  if (doc.contains("hosts")) {
    // Per-host settings, by connection URI as the items name it.
    const json& hosts = doc["hosts"];
    if (!hosts.is_object()) {
      return UsageError("'hosts' must be an object of connection URIs");
    }
    for (const auto& [uri, settings] : hosts.items()) {
      std::string where = "hosts: " + Quote(uri);
      if (!settings.is_object()) return UsageError(where + ": not an object");
      RETURN_IF_ERROR(CheckKeys(settings, where, kHostKeys));
      bool used = std::any_of(
          plan.items.begin(), plan.items.end(),
          [&uri](const BatchItem& item) { return item.connect == uri; });
      if (!used) {
        return UsageError(where + ": no item connects to it");
      }
      if (settings.contains("max_jobs")) {
        const json& n = settings["max_jobs"];
        if (!n.is_number_integer() || n.get<int64_t>() < 1 ||
            n.get<int64_t>() > kMaxThreads) {
          return UsageError(where + ": key 'max_jobs' must be an integer " +
                            "from 1 to " + std::to_string(kMaxThreads));
        }
        plan.max_jobs[uri] = n.get<int>();
      }
    }
  }
  return plan;
}

}  // namespace

Result<BatchPlan> ParseBatchPlan(std::string_view text,
                                 const std::string& plan_path,
                                 const std::string& default_connect) {
  return ParsePlan(text, plan_path, default_connect);
}

Result<BatchPlan> LoadBatchPlan(const std::string& plan_path,
                                const std::string& default_connect) {
  auto text = ReadSmallFile(plan_path, kMaxPlanBytes);
  if (!text.ok()) {
    return text.status().code() == ErrorCode::kCorrupt
               ? UsageError(plan_path + ": larger than " +
                            std::to_string(kMaxPlanBytes >> 20) +
                            " MiB: not a plan")
               : text.status();
  }
  Result<BatchPlan> plan = ParsePlan(*text, plan_path, default_connect);
  if (!plan.ok()) return plan.status().WithContext(plan_path);
  return plan;
}

}  // namespace ova2virt::cli
