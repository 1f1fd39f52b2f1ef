// The import journal: a small file per running import, listing what it has
// created (volumes, files, temporary files, the domain) as it creates them,
// so that what a killed import leaves behind can be found and removed
// (`ova2virt cleanup`, and the next import on the same connection).
//
//   DIR/import-20261122T060102Z-4242-5f3a9c.journal
//     ova2virt-journal 1
//     id 20261122T060102Z-4242-5f3a9c
//     pid 4242
//     started 2026-11-22T06:01:02Z
//     uri qemu:///system
//     volume default web-disk1.qcow2
//     temp /srv/vms/.web-disk1.qcow2.ova2virt-tmp-AbC123
//     file /srv/vms/web-disk1.qcow2
//     domain web
//
// Fields are separated by one space; bytes below '!', above '~' and '%'
// are percent-encoded. Each entry is written and synced before the import
// goes on. The owner holds an exclusive flock(2) on its journal for its
// whole life, so a journal whose lock is free belongs to a dead process
// (the kernel drops the lock however the process ended). A journal is
// written and locked as a nameless file (O_TMPFILE) and linked under its
// name once locked, so no reader ever sees an unlocked live journal (where
// O_TMPFILE is missing: a dot-name with the pid in it, renamed once
// locked, which readers leave alone while that process lives). It is deleted
// when the import commits or rolls back completely; a rollback that left
// something keeps it.
#ifndef OVA2VIRT_VIRTDRIVER_JOURNAL_H_
#define OVA2VIRT_VIRTDRIVER_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/status.h"

namespace ova2virt {

struct JournalEntry {
  enum class Kind { kVolume, kFile, kTemp, kDomain };
  Kind kind = Kind::kFile;
  std::string a;  // the pool; the path; the domain name
  std::string b;  // the volume name (kVolume only)
};

// "volume", "file", "temp", "domain".
std::string_view JournalKindName(JournalEntry::Kind kind);

// A journal as read back.
struct Journal {
  std::string path;     // the journal file
  std::string id;       // also recorded in the domain's <metadata>
  int64_t pid = 0;      // the import's process
  std::string started;  // "2026-11-22T06:01:02Z"
  std::string uri;      // the libvirt connection it used
  std::vector<JournalEntry> entries;  // in the order they were made
  std::string problem;     // why the file could not be read, if it could not
  bool committed = false;  // the import succeeded; nothing is a leftover
};

// Where journals live: $OVA2VIRT_STATE_DIR/journal if set; as root
// /var/lib/ova2virt/journal; else $XDG_STATE_HOME/ova2virt/journal
// (~/.local/state/ova2virt/journal).
std::string DefaultJournalDir();

// The running import's journal.
class JournalWriter {
 public:
  // Creates and locks a new journal in `dir` (made, mode 0700, if
  // missing) for an import on `uri`. Errors name the file.
  static Result<std::unique_ptr<JournalWriter>> Create(const std::string& dir,
                                                       const std::string& uri);
  // Closes the file, which releases the lock; the file stays unless
  // Remove() was called.
  ~JournalWriter();

  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }

  // Appends `entry` and syncs it to disk.
  Status Add(const JournalEntry& entry);
  // Appends "committed": what the journal lists is the user's now.
  Status MarkCommitted();
  // Deletes the journal (everything it lists is committed or undone).
  Status Remove();

 private:
  JournalWriter() = default;
  File file_;
  std::string id_, path_;
  bool removed_ = false;
};

// A dead import's journal, locked by this process until destroyed (so that
// two cleaners never work on the same one).
class StaleJournal {
 public:
  const Journal& journal() const { return journal_; }
  // Deletes the journal file.
  Status Remove();

 private:
  friend Result<std::vector<StaleJournal>> LockStaleJournals(
      const std::string&, std::vector<std::string>*,
      const std::optional<std::string>&);
  File file_;
  Journal journal_;
};

// Reads every journal in `dir` whose owner is gone, and locks it; journals
// in use are skipped (their paths go to `busy` if given). A journal that
// cannot be parsed is returned with what could be read, its id taken from
// the file name. Dot-files of imports killed before their journal was
// complete (nothing can be listed in them) are deleted. A missing `dir`
// holds no journals. With `only_uri`, journals that record another
// connection are read but never locked (a cleaner of one connection does
// not hold up imports of another).
Result<std::vector<StaleJournal>> LockStaleJournals(
    const std::string& dir, std::vector<std::string>* busy = nullptr,
    const std::optional<std::string>& only_uri = std::nullopt);

// The lock that serializes cleaning up one connection's journals: held
// while a cleaner works on them, so that an import of that connection
// starting meanwhile waits for the cleanup instead of finding its
// leftovers busy (issue 15). Blocks until free; released when the File
// closes. A lock file per connection in `dir`
// (".cleanup-<sha256 of the URI, 16 hex digits>.lock"); `dir` is made if
// missing.
Result<File> LockConnectionCleanup(const std::string& dir,
                                   const std::string& uri);

// Parses a journal's text (for tests and LockStaleJournals). kCorrupt for
// a file that is not a journal; an incomplete last line (a write cut short
// by a crash) is ignored.
Result<Journal> ParseJournal(std::string_view text);

}  // namespace ova2virt

#endif  // OVA2VIRT_VIRTDRIVER_JOURNAL_H_
