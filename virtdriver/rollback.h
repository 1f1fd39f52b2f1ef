// A Transaction records what an import created on a connection (volumes,
// files, a domain) and, unless committed, removes it newest first. An
// import that fails, or is interrupted, leaves nothing behind.
#ifndef OVA2VIRT_VIRTDRIVER_ROLLBACK_H_
#define OVA2VIRT_VIRTDRIVER_ROLLBACK_H_

#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "virtdriver/connection.h"

namespace ova2virt {

class Transaction {
 public:
  // `conn` must outlive the transaction. What a rollback from the
  // destructor could not remove is reported in `diags` (id
  // "rollback.leftover"), if given.
  explicit Transaction(Connection& conn, Diagnostics* diags = nullptr)
      : conn_(conn), diags_(diags) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void AddVolume(const std::string& pool, const std::string& name);
  void AddFile(const std::string& path);  // --storage-dir outputs
  // A defined domain: rollback stops it if running, then undefines it.
  void AddDomain(const std::string& name);

  // Keeps everything: nothing is removed afterwards.
  void Commit() { steps_.clear(); }

  // Removes everything recorded, newest first, trying every step even
  // after one fails. Returns ok, or kFailed naming what is left behind.
  Status Rollback();

  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    enum Kind { kVolume, kFile, kDomain } kind;
    std::string a, b;  // pool and volume name; path; domain name
  };
  Status Undo(const Step& step);

  Connection& conn_;
  Diagnostics* diags_;
  std::vector<Step> steps_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_ROLLBACK_H_
