// A Transaction records what an import created on a connection (volumes,
// files, a domain) and, unless committed, removes it newest first. An
// import that fails, or is interrupted, leaves nothing behind. With a
// journal (journal.h), every item is also written to disk as it is
// recorded, so that a killed import's leftovers can be found.
#ifndef OVA2VIRT_VIRTDRIVER_ROLLBACK_H_
#define OVA2VIRT_VIRTDRIVER_ROLLBACK_H_

#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "virtdriver/connection.h"
#include "virtdriver/journal.h"

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

  // Writes each item to `journal` (not owned; may be null) from now on.
  // Commit(), and a Rollback() that removed everything, delete it.
  void SetJournal(JournalWriter* journal) { journal_ = journal; }

  // Journals a volume before the call that creates it: a kill while
  // libvirt works on the create (long under I/O load) must not leave a
  // volume no journal lists. The plan found the name free, so a volume of
  // this name found by a cleanup is this import's. AddVolume() for the
  // same volume then adds only the rollback step.
  void JournalVolumeAhead(const std::string& pool, const std::string& name);
  void AddVolume(const std::string& pool, const std::string& name);
  void AddFile(const std::string& path);  // --storage-dir outputs
  // The same for a domain, before the define call: a kill while libvirt
  // defines it must not leave a domain no journal lists. A cleanup removes
  // a listed domain only when it carries this import's id in its metadata,
  // so listing one that was never defined (or is someone else's) is safe.
  void JournalDomainAhead(const std::string& name);
  // A defined domain: rollback stops it if running, then undefines it.
  void AddDomain(const std::string& name);
  // A temporary file that removes itself (TempOutputFile): journaled only,
  // for the case where this process is killed before it can.
  void NoteTemporary(const std::string& path);

  // The first journal write that failed (the import should stop: a crash
  // now could leave something nobody can find), or ok.
  const Status& journal_status() const { return journal_status_; }

  // Keeps everything: nothing is removed afterwards. The journal is marked
  // committed, then deleted (a failure shows in journal_status()).
  void Commit();

  // Removes everything recorded, newest first, trying every step even
  // after one fails. Returns ok, or kFailed naming what is left behind (the
  // journal then stays, for `ova2virt cleanup`).
  Status Rollback();

  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    enum Kind { kVolume, kFile, kDomain } kind;
    std::string a, b;  // pool and volume name; path; domain name
  };
  Status Undo(const Step& step);
  void Journal(const JournalEntry& entry);
  // Journals `step` now unless it was journaled ahead.
  void JournalUnlessAhead(const Step& step, const JournalEntry& entry);

  Connection& conn_;
  Diagnostics* diags_;
  std::vector<Step> steps_;
  JournalWriter* journal_ = nullptr;
  Status journal_status_;
  std::vector<Step> journaled_ahead_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_ROLLBACK_H_
