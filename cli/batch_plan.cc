#include "cli/batch_plan.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "core/file.h"
#include "pipeline/policy.h"

namespace ova2virt::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A plan is a flat document: anything deeper than this is not one.
constexpr int kMaxDepth = 8;
constexpr size_t kMaxItems = 100000;
constexpr int kMaxThreads = 64;

const std::vector<std::string_view> kTopKeys = {"version", "defaults", "items"};
// Keys an item and the defaults share.
const std::vector<std::string_view> kSharedKeys = {
    "connect",  "pool",      "storage_dir", "format", "networks",   "bridges",
    "disk_bus", "nic_model", "virt_type",   "vsys",   "deployment", "props",
    "ca",       "start",     "force",       "verify", "threads"};
// Keys only an item has.
const std::vector<std::string_view> kItemKeys = {"kind", "id", "input", "name"};

// Thrown from the parser callback to stop at once.
struct PlanSyntaxError {
  std::string message;
};

// Edits (insert, delete, replace, swap two neighbours) from a to b.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

Status UnknownKey(const std::string& where, const std::string& key,
                  const std::vector<std::string_view>& allowed) {
  std::string msg = where + ": unknown key " + Quote(key);
  // Suggest only what is plainly a misspelling: one slip in a short key,
  // two in a longer one. Keys are short; longer text is no key at all.
  std::string_view best;
  size_t best_distance = key.size() <= 4 ? 2 : 3;
  if (key.size() <= 32) {
    for (std::string_view k : allowed) {
      size_t d = EditDistance(key, k);
      if (d < best_distance) {
        best = k;
        best_distance = d;
      }
    }
  }
  if (!best.empty()) msg += " (did you mean " + Quote(best) + "?)";
  return UsageError(msg);
}

Status CheckKeys(const json& obj, const std::string& where,
                 const std::vector<std::string_view>& allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    if (where == "defaults" &&
        std::find(kItemKeys.begin(), kItemKeys.end(), key) != kItemKeys.end()) {
      return UsageError("defaults: key " + Quote(key) +
                        " belongs to an item, not to the defaults");
    }
    return UnknownKey(where, key, allowed);
  }
  return OkStatus();
}

// Parses JSON, refusing what nlohmann would let through: an object with a
// key twice (the last would silently win) and deep nesting.
Result<json> ParseJson(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::string top_key;  // the top-level key being read
  size_t item = 0;      // objects begun in "items", 1-based
  auto where = [&](int depth) -> std::string {
    if (depth <= 1) return "the plan";
    if (top_key == "items") return "item " + std::to_string(item);
    return top_key;
  };
  auto callback = [&](int depth, json::parse_event_t event,
                      json& parsed) -> bool {
    if (depth > kMaxDepth) {
      throw PlanSyntaxError{"nested deeper than " + std::to_string(kMaxDepth) +
                            " levels"};
    }
    switch (event) {
      case json::parse_event_t::object_start:
        if (depth == 2 && top_key == "items") ++item;
        open_objects.emplace_back();
        break;
      case json::parse_event_t::key: {
        std::string key = parsed.get<std::string>();
        if (depth == 1) top_key = key;
        if (!open_objects.empty() && !open_objects.back().insert(key).second) {
          throw PlanSyntaxError{where(depth) + ": key " + Quote(key) +
                                " appears twice"};
        }
        break;
      }
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const PlanSyntaxError& e) {
    return UsageError(e.message);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 2, column 3:
    // syntax error ..." -> "not json: line 2, column 3: syntax error ...".
    std::string what = e.what();
    size_t at = what.find(" at line ");
    what = at != std::string::npos ? what.substr(at + 4) : what;
    return UsageError("not json: " + what);
  }
}

std::string ItemWhere(size_t index, const json& item) {
  std::string where = "item " + std::to_string(index + 1);
  for (const char* k : {"id", "name"}) {
    if (item.is_object() && item.contains(k) && item[k].is_string() &&
        !item[k].get<std::string>().empty()) {
      return where + " (" + Quote(item[k].get<std::string>()) + ")";
    }
  }
  return where;
}

Result<std::string> String(const json& v, const std::string& where,
                           std::string_view key) {
  if (!v.is_string()) {
    return UsageError(where + ": " + Quote(key) + " must be a string");
  }
  std::string s = v.get<std::string>();
  if (s.empty()) {
    return UsageError(where + ": " + Quote(key) + " must not be empty");
  }
  return s;
}

Result<std::string> OneOf(const json& v, const std::string& where,
                          std::string_view key,
                          const std::vector<std::string_view>& values) {
  ASSIGN_OR_RETURN(std::string s, String(v, where, key));
  if (std::find(values.begin(), values.end(), s) != values.end()) return s;
  std::string list;
  for (std::string_view x : values) {
    list += (list.empty() ? "" : ", ") + std::string(x);
  }
  return UsageError(where + ": " + Quote(key) + " is " + Quote(s) +
                    ", not one of " + list);
}

Result<bool> Bool(const json& v, const std::string& where,
                  std::string_view key) {
  if (!v.is_boolean()) {
    return UsageError(where + ": " + Quote(key) + " must be true or false");
  }
  return v.get<bool>();
}

// An object of names to values: networks, bridges (string values) and
// props (strings, numbers or booleans, as the guest reads them as text).
Status Mapping(const json& v, const std::string& where, std::string_view key,
               bool scalars, std::map<std::string, std::string>& out) {
  if (!v.is_object()) {
    return UsageError(where + ": " + Quote(key) + " must be an object");
  }
  for (const auto& [name, value] : v.items()) {
    std::string at = where + ": " + std::string(key) + " " + Quote(name);
    if (name.empty()) {
      return UsageError(where + ": " + std::string(key) +
                        ": a name must not be empty");
    }
    if (value.is_string()) {
      std::string s = value.get<std::string>();
      if (s.empty() && !scalars) return UsageError(at + ": empty value");
      out[name] = s;
    } else if (scalars && value.is_boolean()) {
      out[name] = value.get<bool>() ? "true" : "false";
    } else if (scalars && value.is_number()) {
      out[name] = value.dump();
    } else {
      return UsageError(at + (scalars ? ": must be a string, number or boolean"
                                      : ": must be a string"));
    }
  }
  return OkStatus();
}

std::string Resolve(const fs::path& base, const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = base / p;
  return p.lexically_normal().string();
}

// The fields defaults and items share, merged: an item's value replaces
// the default's; networks, bridges and props merge name by name.
struct Fields {
  std::optional<std::string> connect;
  ImportRequest request;
  std::map<std::string, std::string> networks, bridges, props;
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
    } else if (key == "storage_dir") {
      ASSIGN_OR_RETURN(std::string dir, String(v, where, key));
      r.storage_dir = Resolve(base, dir);
    } else if (key == "ca") {
      ASSIGN_OR_RETURN(std::string ca, String(v, where, key));
      r.ca_file = Resolve(base, ca);
    } else if (key == "format") {
      ASSIGN_OR_RETURN(r.format, OneOf(v, where, key, {"qcow2", "raw"}));
    } else if (key == "disk_bus") {
      ASSIGN_OR_RETURN(
          r.policy.disk_bus,
          OneOf(v, where, key, {"keep", "virtio", "sata", "scsi"}));
    } else if (key == "nic_model") {
      ASSIGN_OR_RETURN(r.policy.nic_model,
                       OneOf(v, where, key, {"keep", "virtio", "e1000"}));
    } else if (key == "virt_type") {
      ASSIGN_OR_RETURN(r.policy.virt_type,
                       OneOf(v, where, key, {"kvm", "qemu"}));
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
    } else if (key == "threads") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() > kMaxThreads) {
        return UsageError(where + ": 'threads' must be an integer from 0 to " +
                          std::to_string(kMaxThreads));
      }
      r.threads = static_cast<int>(v.get<int64_t>());
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

Result<BatchItem> ParseItem(const json& obj, size_t index, const Fields& base,
                            const fs::path& folder,
                            const std::string& default_connect) {
  const std::string where = ItemWhere(index, obj);
  if (!obj.is_object()) return UsageError(where + " must be an object");
  if (obj.contains("kind")) {
    ASSIGN_OR_RETURN(std::string kind,
                     OneOf(obj["kind"], where, "kind", {"import", "export"}));
    if (kind == "export") {
      // EXPORT: check the export keys (domain, output, ...) and parse them
      // into an ExportRequest here once pipeline/export.h is merged.
      return UnsupportedError(where +
                              ": export items are not supported by this "
                              "build of ova2virt yet");
    }
  }
  std::vector<std::string_view> allowed = kSharedKeys;
  allowed.insert(allowed.end(), kItemKeys.begin(), kItemKeys.end());
  RETURN_IF_ERROR(CheckKeys(obj, where, allowed));
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

Result<BatchPlan> ParsePlan(std::string_view text, const std::string& plan_path,
                            const std::string& default_connect) {
  ASSIGN_OR_RETURN(json doc, ParseJson(text));
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
    RETURN_IF_ERROR(CheckKeys(d, "defaults", kSharedKeys));
    RETURN_IF_ERROR(ApplyShared(d, "defaults", folder, defaults));
  }
  if (!doc.contains("items")) {
    return UsageError("the plan has no \"items\" (a list of imports)");
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
  for (size_t i = 0; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(BatchItem item,
                     ParseItem(items[i], i, defaults, folder, default_connect));
    auto [k, fresh] = by_key.emplace(item.key, i);
    if (!fresh) {
      return UsageError("items " + std::to_string(k->second + 1) + " and " +
                        std::to_string(i + 1) + " are both " + Quote(item.key) +
                        "; give them distinct \"id\"s");
    }
    if (!item.import.name.empty()) {
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
