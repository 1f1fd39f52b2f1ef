#include "pipeline/host_names.h"

#include <algorithm>

#include "virtdriver/connection.h"

namespace ova2virt {

Result<std::vector<std::string>> ListHostNames(const std::string& uri,
                                               std::string_view kind) {
  if (kind != "domains" && kind != "pools" && kind != "networks") {
    return UsageError("names of " + Quote(kind) +
                      ": want domains, pools or networks");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(uri));
  Result<std::vector<std::string>> names =
      kind == "domains" ? conn->ListDomainNames()
      : kind == "pools" ? conn->ListPoolNames()
                        : conn->ListNetworkNames();
  if (!names.ok()) return names.status();
  std::sort(names->begin(), names->end());
  return names;
}

}  // namespace ova2virt
