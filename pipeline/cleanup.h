// The cleanup use case: removes what killed imports left behind, from their
// journals (virtdriver/journal.h), newest item first:
//
//   domain NAME   stopped and undefined, but only if its <metadata> still
//                 carries the journal's import id (it is ours, not a
//                 namesake defined since);
//   volume P N    deleted from its pool;
//   file PATH     (a --storage-dir disk) deleted;
//   temp PATH     (a temporary output, ".NAME.ova2virt-tmp-XXXXXX")
//                 deleted.
//
// What is already gone counts as done. A journal is deleted once every
// item is done; otherwise it stays for the next attempt. Journals of
// running imports are never touched (their owners hold a lock), nor are
// those of committed imports' items (only the journal file goes).
#ifndef OVA2VIRT_PIPELINE_CLEANUP_H_
#define OVA2VIRT_PIPELINE_CLEANUP_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/diagnostics.h"
#include "core/status.h"
#include "virtdriver/connection.h"
#include "virtdriver/journal.h"

namespace ova2virt {

struct CleanupItem {
  std::string kind;    // "volume", "file", "temp", "domain"
  std::string name;    // "pool/volume", a path, a domain name
  std::string action;  // "removed", "gone", "would remove", "kept", "failed"
  std::string detail;  // why kept or failed
};

struct CleanupJournal {
  std::string id, path, uri, started;
  int64_t pid = 0;
  // "cleaned", "would clean", "in use" (its import is running), "other
  // connection" (-c names another), "incomplete" (something failed or was
  // kept: the journal stays), "committed" (nothing to remove).
  std::string state;
  std::vector<CleanupItem> items;
};

struct CleanupReport {
  std::vector<CleanupJournal> journals;
  size_t removed = 0;  // items removed (or, dry run, that would be)
  size_t failed = 0;   // items that could not be removed
};

struct CleanupRequest {
  std::string journal_dir;  // empty: DefaultJournalDir()
  // Only journals of this connection; empty: every journal, each on the
  // connection it recorded.
  std::string uri;
  bool dry_run = false;
  // Opens a connection (tests substitute one); default Connection::Open.
  std::function<Result<std::unique_ptr<Connection>>(const std::string&)> open;
};

// Cleans every journal of a dead import. Errors only for a journal
// directory that cannot be read; per-item failures are in the report.
Result<CleanupReport> CleanupLeftovers(const CleanupRequest& request);

// For the start of an import: cleans the dead journals in `dir` that
// recorded `conn`'s URI, on `conn`. Returns what it did (empty when there
// was nothing); never fails the import.
CleanupReport CleanupStaleImports(Connection& conn, const std::string& dir);

// True when domain `name` exists and its <metadata> carries `import_id`
// (the import that made it; see ImportRequest).
bool DomainMadeBy(Connection& conn, const std::string& name,
                  const std::string& import_id);

// One line per journal cleaned: "removed 3 leftovers of the import of
// 2026-11-22T06:01:02Z (pid 4242): volume default/x.qcow2, ...".
std::string DescribeCleanup(const CleanupJournal& journal);

}  // namespace ova2virt

#endif  // OVA2VIRT_PIPELINE_CLEANUP_H_
