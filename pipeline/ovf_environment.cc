#include "pipeline/ovf_environment.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "core/strings.h"
#include "core/xml.h"

namespace ova2virt {
namespace {

constexpr std::string_view kEnvNs = "http://schemas.dmtf.org/ovf/environment/1";

// The argument of a qualifier such as "MaxLen(64)" or "ValueMap{...}".
std::optional<std::string> Qualifier(std::string_view qualifiers,
                                     std::string_view name, char open,
                                     char close) {
  size_t p = qualifiers.find(std::string(name) + open);
  if (p == std::string_view::npos) return std::nullopt;
  size_t start = p + name.size() + 1;
  size_t end = qualifiers.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(qualifiers.substr(start, end - start));
}

std::optional<long double> ParseNumber(std::string_view text, bool integer) {
  std::string s(Trim(text, " \t"));
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long double v;
  if (integer) {
    if (s[0] == '-') {
      long long x = std::strtoll(s.c_str(), &end, 10);
      v = static_cast<long double>(x);
    } else {
      unsigned long long x = std::strtoull(s.c_str(), &end, 10);
      v = static_cast<long double>(x);
    }
  } else {
    v = std::strtold(s.c_str(), &end);
  }
  if (errno != 0 || end == nullptr || *end != '\0') return std::nullopt;
  if (!integer && !std::isfinite(v)) return std::nullopt;
  return v;
}

// Integer ranges of the CIM types (DSP0004) OVF properties use.
bool IntegerRange(const std::string& type, long double* lo, long double* hi) {
  struct Range {
    const char* name;
    long double lo, hi;
  };
  static const Range kRanges[] = {
      {"uint8", 0, 255},
      {"uint16", 0, 65535},
      {"uint32", 0, 4294967295.0L},
      {"uint64", 0, 18446744073709551615.0L},
      {"sint8", -128, 127},
      {"sint16", -32768, 32767},
      {"sint32", -2147483648.0L, 2147483647.0L},
      {"sint64", -9223372036854775808.0L, 9223372036854775807.0L},
      {"int", -2147483648.0L, 2147483647.0L},  // seen in the wild
  };
  for (const Range& r : kRanges) {
    if (type == r.name) {
      *lo = r.lo;
      *hi = r.hi;
      return true;
    }
  }
  return false;
}

// The entries of a ValueMap{"a", "b"} or ValueMap{1, 2}.
std::vector<std::string> ValueMapEntries(std::string_view body) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < body.size()) {
    size_t comma = body.find(',', i);
    std::string_view item = Trim(
        body.substr(i, comma == std::string_view::npos ? std::string_view::npos
                                                       : comma - i),
        " \t");
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return out;
}

}  // namespace

bool WantsIsoEnvironment(const VmSpec& vm) {
  std::string_view t = vm.environment_transport;
  size_t i = 0;
  while (i < t.size()) {
    size_t sp = t.find(' ', i);
    std::string_view word = t.substr(
        i, sp == std::string_view::npos ? std::string_view::npos : sp - i);
    if (word == "iso") return true;
    if (sp == std::string_view::npos) break;
    i = sp + 1;
  }
  return false;
}

Result<std::pair<std::string, std::string>> ParsePropertyArgument(
    std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return UsageError("property " + Quote(text) + ": want KEY=VALUE");
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

Status CheckPropertyValue(const Property& p, std::string_view value) {
  std::string type = Lower(p.type);
  auto bad = [&](const std::string& why) {
    return UsageError("property " + Quote(p.FullKey()) + " = " + Quote(value) +
                      ": " + why);
  };
  long double lo, hi;
  if (type == "boolean") {
    std::string v = Lower(value);
    if (v != "true" && v != "false") return bad("not true or false");
  } else if (IntegerRange(type, &lo, &hi)) {
    auto n = ParseNumber(value, true);
    if (!n || *n < lo || *n > hi) {
      return bad("not a " + type + " integer");
    }
    if (auto min = Qualifier(p.qualifiers, "MinValue", '(', ')')) {
      auto m = ParseNumber(*min, true);
      if (m && *n < *m) return bad("below the minimum " + *min);
    }
    if (auto max = Qualifier(p.qualifiers, "MaxValue", '(', ')')) {
      auto m = ParseNumber(*max, true);
      if (m && *n > *m) return bad("above the maximum " + *max);
    }
  } else if (type == "real32" || type == "real64") {
    if (!ParseNumber(value, false)) return bad("not a real number");
  } else {
    // string, password and unknown types: length qualifiers only.
    if (auto min = Qualifier(p.qualifiers, "MinLen", '(', ')')) {
      auto m = ParseNumber(*min, true);
      if (m && static_cast<long double>(value.size()) < *m) {
        return bad("shorter than MinLen(" + *min + ")");
      }
    }
    if (auto max = Qualifier(p.qualifiers, "MaxLen", '(', ')')) {
      auto m = ParseNumber(*max, true);
      if (m && static_cast<long double>(value.size()) > *m) {
        return bad("longer than MaxLen(" + *max + ")");
      }
    }
  }
  if (auto map = Qualifier(p.qualifiers, "ValueMap", '{', '}')) {
    std::vector<std::string> allowed = ValueMapEntries(*map);
    bool found = false;
    for (const std::string& a : allowed) found = found || a == value;
    if (!found && !allowed.empty()) return bad("not one of its ValueMap");
  }
  return OkStatus();
}

Result<std::vector<PropertyValue>> ResolveProperties(
    const VmSpec& vm,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<const Property*> props;
  for (const ProductInfo& product : vm.products) {
    for (const Property& p : product.properties) props.push_back(&p);
  }
  std::vector<std::optional<std::string>> given(props.size());
  for (const auto& [key, value] : overrides) {
    int match = -1;
    int matches = 0;
    for (size_t i = 0; i < props.size(); ++i) {
      if (props[i]->FullKey() == key) {  // the full key always wins
        match = static_cast<int>(i);
        matches = 1;
        break;
      }
      if (props[i]->key == key) {
        match = static_cast<int>(i);
        ++matches;
      }
    }
    if (matches == 0) {
      return UsageError("property " + Quote(key) + " is not one " +
                        Quote(vm.name) + " declares");
    }
    if (matches > 1) {
      return UsageError(
          "property " + Quote(key) +
          " is ambiguous; give its full key (class.key.instance)");
    }
    given[match] = value;
  }
  std::vector<PropertyValue> out;
  for (size_t i = 0; i < props.size(); ++i) {
    const Property& p = *props[i];
    std::string value =
        given[i] ? *given[i] : p.default_value.value_or(std::string());
    // A default that breaks its own rules is the producer's business; a
    // value the user typed is checked.
    if (given[i]) RETURN_IF_ERROR(CheckPropertyValue(p, value));
    out.push_back({p.FullKey(), value});
  }
  return out;
}

std::string FormatOvfEnvironment(const VmSpec& vm,
                                 const std::vector<PropertyValue>& values) {
  XmlWriter w;
  w.Open("Environment")
      .Attr("xmlns", kEnvNs)
      .Attr("xmlns:oe", kEnvNs)
      .Attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
      .Attr("oe:id", vm.id.empty() ? vm.name : vm.id);
  w.Open("PlatformSection");
  w.Leaf("Kind", "KVM");
  w.Leaf("Vendor", "ova2virt");
  w.Leaf("Locale", "en");
  w.Close();
  w.Open("PropertySection");
  for (const PropertyValue& v : values) {
    w.Open("Property").Attr("oe:key", v.key).Attr("oe:value", v.value).Close();
  }
  w.Close();
  return w.Finish();
}

}  // namespace ova2virt
