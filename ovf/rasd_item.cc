#include "ovf/rasd_item.h"

#include <cctype>
#include <set>

#include "core/strings.h"
#include "ovf/ovf_format.h"
#include "ovf/units.h"

namespace ova2virt::ovf {

const std::string* RawItem::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

std::string RawItem::Get(std::string_view name) const {
  const std::string* v = Field(name);
  return v ? *v : std::string();
}

const std::string* RawItem::Config(std::string_view key) const {
  for (const auto& [k, v] : vmw) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string RawItem::Label() const {
  std::string l = Get("ElementName");
  return l.empty() ? Get("Caption") : l;
}

RawItem ParseItem(const XmlElement& e, const ReadContext& ctx) {
  RawItem item;
  item.element = e.local;
  item.where = "item at " + e.Where();
  item.configuration = OvfAttr(e, "configuration").value_or("");
  for (const XmlElement& c : e.children) {
    if (IsVmwareNs(c.ns)) {
      if (c.local == "Config") {
        auto key = VmwAttr(c, "key");
        if (key) item.vmw.emplace_back(*key, VmwAttr(c, "value").value_or(""));
      } else if (c.local == "CoresPerSocket") {
        item.cores_per_socket = c.TrimmedText();
      } else {
        item.fields.emplace_back("vmw:" + c.local, c.TrimmedText());
      }
      continue;
    }
    // Multi-valued RASD properties (HostResource, Connection) keep the
    // first value; the rest are rare and would have no meaning to us.
    bool seen = false;
    for (const auto& [k, v] : item.fields) seen = seen || k == c.local;
    if (!seen) item.fields.emplace_back(c.local, ctx.Text(c));
  }
  return item;
}

std::optional<int> SmallInt(std::string_view text) {
  auto v = ParseDecimal(text);
  if (!v || *v > 1000000) return std::nullopt;
  return static_cast<int>(*v);
}

std::vector<RawItem> SelectItems(std::vector<RawItem> items,
                                 const ReadContext& ctx) {
  std::set<std::string> overridden;
  for (const RawItem& i : items) {
    if (!i.configuration.empty() && ctx.ConfigurationMatches(i.configuration)) {
      overridden.insert(i.Get("InstanceID"));
    }
  }
  std::vector<RawItem> out;
  for (RawItem& i : items) {
    bool keep = i.configuration.empty()
                    ? overridden.count(i.Get("InstanceID")) == 0
                    : ctx.ConfigurationMatches(i.configuration);
    if (!ctx.has_deployment_options && !i.configuration.empty()) {
      ctx.Warn("ovf.unknown-configuration", i.where,
               "item for configuration " + Quote(i.configuration) +
                   " ignored: the descriptor has no deployment options");
    }
    if (keep) out.push_back(std::move(i));
  }
  return out;
}

std::string StripPrefix(std::string_view s, std::string_view prefix) {
  std::string l = Lower(s);
  if (l.compare(0, prefix.size(), prefix) == 0) return l.substr(prefix.size());
  return l;
}

HostRef ParseHostResource(std::string_view text) {
  HostRef r;
  if (text.empty()) return r;
  std::string_view t = text;
  if (t.substr(0, 4) == "ovf:") t.remove_prefix(4);
  if (t.substr(0, 6) == "/disk/") {
    r.kind = HostRef::kDisk;
    r.id = std::string(t.substr(6));
  } else if (t.substr(0, 6) == "/file/") {
    r.kind = HostRef::kFile;
    r.id = std::string(t.substr(6));
  } else {
    r.kind = HostRef::kOther;
    r.id = std::string(text);
  }
  return r;
}

}  // namespace ova2virt::ovf
