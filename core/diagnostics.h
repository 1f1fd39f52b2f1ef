// Warnings are data: a stable id scripts can match on, where the problem is,
// and a human sentence. The library collects them; cli/ shows them.
#ifndef OVA2VIRT_CORE_DIAGNOSTICS_H_
#define OVA2VIRT_CORE_DIAGNOSTICS_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ova2virt {

struct Diagnostic {
  std::string id;       // stable, dotted: "ovf.unknown-controller"
  std::string where;    // the file, member or element concerned; may be empty
  std::string message;  // lower case, one line
};

class Diagnostics {
 public:
  void Warn(std::string id, std::string where, std::string message);
  void Append(const Diagnostics& other);

  const std::vector<Diagnostic>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // True if a diagnostic with this id was recorded.
  bool Has(std::string_view id) const;

 private:
  std::vector<Diagnostic> items_;
  // id, where and message of every item, NUL-separated: the duplicate check
  // stays cheap when a hostile file earns thousands of warnings.
  std::set<std::string, std::less<>> keys_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_DIAGNOSTICS_H_
