#include "cli/batch_state.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/file.h"

namespace ova2virt::cli {
namespace {

using nlohmann::json;

constexpr int kStateVersion = 1;

json RecordJson(const StateRecord& r) {
  json j;
  j["status"] = r.status == StateRecord::kDone ? "done" : "failed";
  j["kind"] = std::string(BatchItemKindName(r.kind));
  j["input"] = r.input;
  j["connect"] = r.connect;
  j["source"] = {{"digest", r.source.digest},
                 {"descriptor_sha256", r.source.descriptor_sha256},
                 {"manifest_sha256", r.source.manifest_sha256},
                 {"pinned_by_manifest", r.source.pinned_by_manifest},
                 {"size", r.source.size},
                 {"mtime_ns", r.source.mtime_ns}};
  j["settings"] = r.settings;
  j["domains"] = r.domains;
  j["volumes"] = json::array();
  for (const RecordedVolume& v : r.volumes) {
    j["volumes"].push_back(
        {{"pool", v.pool}, {"name", v.name}, {"path", v.path}});
  }
  j["finished"] = r.finished;
  j["seconds"] = r.seconds;
  j["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  return j;
}

// Throws json exceptions for anything missing or mistyped.
StateRecord RecordFrom(const json& j) {
  StateRecord r;
  std::string status = j.at("status").get<std::string>();
  if (status != "done" && status != "failed") {
    throw std::invalid_argument("status " + Quote(status));
  }
  r.status = status == "done" ? StateRecord::kDone : StateRecord::kFailed;
  std::string kind = j.at("kind").get<std::string>();
  if (kind != "import" && kind != "export") {
    throw std::invalid_argument("kind " + Quote(kind));
  }
  r.kind = kind == "import" ? BatchItemKind::kImport : BatchItemKind::kExport;
  r.input = j.at("input").get<std::string>();
  r.connect = j.at("connect").get<std::string>();
  const json& s = j.at("source");
  r.source.digest = s.at("digest").get<std::string>();
  r.source.descriptor_sha256 = s.at("descriptor_sha256").get<std::string>();
  r.source.manifest_sha256 = s.at("manifest_sha256").get<std::string>();
  r.source.pinned_by_manifest = s.at("pinned_by_manifest").get<bool>();
  r.source.size = s.at("size").get<uint64_t>();
  r.source.mtime_ns = s.at("mtime_ns").get<int64_t>();
  r.settings = j.at("settings").get<std::string>();
  r.domains = j.at("domains").get<std::vector<std::string>>();
  for (const json& v : j.at("volumes")) {
    r.volumes.push_back({v.at("pool").get<std::string>(),
                         v.at("name").get<std::string>(),
                         v.at("path").get<std::string>()});
  }
  r.finished = j.at("finished").get<int64_t>();
  r.seconds = j.at("seconds").get<double>();
  const json& e = j.at("error");
  r.error = e.is_null() ? "" : e.get<std::string>();
  return r;
}

}  // namespace

std::string DefaultStatePath(const std::string& plan_path) {
  constexpr std::string_view kJson = ".json";
  if (plan_path.size() > kJson.size() &&
      plan_path.compare(plan_path.size() - kJson.size(), kJson.size(), kJson) ==
          0) {
    return plan_path.substr(0, plan_path.size() - kJson.size()) + ".state.json";
  }
  return plan_path + ".state.json";
}

std::string FormatBatchState(const BatchState& state) {
  json doc;
  doc["ova2virt_batch_state"] = kStateVersion;
  doc["items"] = json::object();
  for (const auto& [key, record] : state.items) {
    doc["items"][key] = RecordJson(record);
  }
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<BatchState> ParseBatchState(std::string_view text) {
  const std::string advice =
      " (remove it to start over: every item then runs again)";
  try {
    json doc = json::parse(text.begin(), text.end());
    if (!doc.is_object() || !doc.contains("ova2virt_batch_state")) {
      return CorruptError("not a state file ova2virt wrote" + advice);
    }
    if (doc["ova2virt_batch_state"] != kStateVersion) {
      return UnsupportedError("state file version " +
                              doc["ova2virt_batch_state"].dump() +
                              " is not supported (this ova2virt writes " +
                              std::to_string(kStateVersion) + ")");
    }
    BatchState state;
    for (const auto& [key, record] : doc.at("items").items()) {
      try {
        state.items[key] = RecordFrom(record);
      } catch (const std::exception&) {
        return CorruptError("item " + Quote(key) +
                            ": not as ova2virt wrote it" + advice);
      }
    }
    return state;
  } catch (const std::exception&) {
    return CorruptError("not a state file ova2virt wrote" + advice);
  }
}

Result<BatchState> LoadBatchState(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return BatchState();
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxStateBytes));
  Result<BatchState> state = ParseBatchState(text);
  if (!state.ok()) return state.status().WithContext(path);
  return state;
}

Status SaveBatchState(const std::string& path, const BatchState& state) {
  return WriteFileAtomically(path, FormatBatchState(state), /*replace=*/true);
}

}  // namespace ova2virt::cli
