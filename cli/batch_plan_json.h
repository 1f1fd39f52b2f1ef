// Strict JSON for the batch plan (cli/batch_plan.cc): a parser that refuses
// what a lenient one lets through, and typed values whose errors name the
// item and the key, so a typo in a plan never passes silently.
#ifndef OVA2VIRT_CLI_BATCH_PLAN_JSON_H_
#define OVA2VIRT_CLI_BATCH_PLAN_JSON_H_

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ova2virt::cli {

// A plan is a flat document: anything deeper than this is not one.
inline constexpr int kMaxPlanDepth = 8;

// Parses JSON, refusing an object with a key twice (the last would
// silently win) and nesting deeper than kMaxPlanDepth. kUsage: "not json:
// line 2, column 3: ...", "item 2: key 'name' appears twice".
Result<nlohmann::json> ParseStrictJson(std::string_view text);

// kUsage "WHERE: unknown key 'KEY'", with "(did you mean 'K'?)" when one
// of `allowed` is a plain misspelling of it.
Status UnknownKey(const std::string& where, const std::string& key,
                  const std::vector<std::string_view>& allowed);

// Key lists: membership, `a` then what of `b` is new, `b` less `a`.
bool Has(const std::vector<std::string_view>& keys, std::string_view key);
std::vector<std::string_view> Union(const std::vector<std::string_view>& a,
                                    const std::vector<std::string_view>& b);
std::vector<std::string_view> Minus(const std::vector<std::string_view>& b,
                                    const std::vector<std::string_view>& a);

// Typed values of `key`; kUsage naming `where` and the key otherwise.
// A non-empty string.
Result<std::string> String(const nlohmann::json& v, const std::string& where,
                           std::string_view key);
// A string among `values`.
Result<std::string> OneOf(const nlohmann::json& v, const std::string& where,
                          std::string_view key,
                          const std::vector<std::string_view>& values);
// A string naming a value of an enum with a name table
// (pipeline/import_choices.h): `parse` reads it, `names` are every name it
// reads, listed in the same message as above.
template <typename E>
Result<E> OneOf(const nlohmann::json& v, const std::string& where,
                std::string_view key,
                std::optional<E> (*parse)(std::string_view),
                const std::vector<std::string>& names) {
  std::vector<std::string_view> values(names.begin(), names.end());
  ASSIGN_OR_RETURN(std::string s, OneOf(v, where, key, values));
  std::optional<E> e = parse(s);
  if (!e) return UsageError(where + ": " + Quote(key) + " is " + Quote(s));
  return *e;
}
Result<bool> Bool(const nlohmann::json& v, const std::string& where,
                  std::string_view key);
// An object of names to values: networks, bridges (string values) and,
// with `scalars`, props (strings, numbers or booleans, as the guest reads
// them as text). Merged into `out`, name by name.
Status Mapping(const nlohmann::json& v, const std::string& where,
               std::string_view key, bool scalars,
               std::map<std::string, std::string>& out);

// `path` relative to `base` (the plan's folder) unless absolute.
std::string Resolve(const std::filesystem::path& base, const std::string& path);

}  // namespace ova2virt::cli

#endif  // OVA2VIRT_CLI_BATCH_PLAN_JSON_H_
