#include "core/diagnostics.h"

#include <algorithm>

namespace ova2virt {

void Diagnostics::Warn(std::string id, std::string where, std::string message) {
  // The same warning about the same place is reported once.
  std::string key = id + '\0' + where + '\0' + message;
  if (!keys_.insert(std::move(key)).second) return;
  items_.push_back({std::move(id), std::move(where), std::move(message)});
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const Diagnostic& d : other.items_) Warn(d.id, d.where, d.message);
}

bool Diagnostics::Has(std::string_view id) const {
  return std::any_of(items_.begin(), items_.end(),
                     [&](const Diagnostic& d) { return d.id == id; });
}

}  // namespace ova2virt
