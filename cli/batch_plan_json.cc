#include "cli/batch_plan_json.h"

#include <algorithm>
#include <set>

namespace ova2virt::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

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

}  // namespace

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

bool Has(const std::vector<std::string_view>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Result<json> ParseStrictJson(std::string_view text) {
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
    if (depth > kMaxPlanDepth) {
      throw PlanSyntaxError{"nested deeper than " +
                            std::to_string(kMaxPlanDepth) + " levels"};
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

std::vector<std::string_view> Union(const std::vector<std::string_view>& a,
                                    const std::vector<std::string_view>& b) {
  std::vector<std::string_view> out = a;
  for (std::string_view k : b) {
    if (!Has(out, k)) out.push_back(k);
  }
  return out;
}

std::vector<std::string_view> Minus(const std::vector<std::string_view>& b,
                                    const std::vector<std::string_view>& a) {
  std::vector<std::string_view> out;
  for (std::string_view k : b) {
    if (!Has(a, k)) out.push_back(k);
  }
  return out;
}

}  // namespace ova2virt::cli
