#include "pipeline/cleanup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "core/file.h"
#include "core/xml.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

// Drivers whose objects live in the importing process: when it died, its
// domains and volumes died with it; only files can be left.
bool StateDiedWithProcess(const std::string& uri) {
  return uri.rfind("test:", 0) == 0 || uri.rfind("qemu:///embed", 0) == 0;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void CleanPath(const JournalEntry& e, bool dry_run, CleanupItem* item) {
  struct stat st;
  if (::lstat(e.a.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      item->action = "gone";
    } else {
      item->action = "failed";
      item->detail = ErrnoError(e.a, errno).message();
    }
    return;
  }
  // Only what an import makes: a regular file, and for a temporary one
  // a name with the marker (a journal is not a licence to delete anything).
  if (!S_ISREG(st.st_mode) ||
      (e.kind == JournalEntry::Kind::kTemp &&
       BaseName(e.a).find(kTempMarker) == std::string::npos)) {
    item->action = "kept";
    item->detail = "not a file this import made";
    return;
  }
  if (dry_run) {
    item->action = "would remove";
  } else if (::unlink(e.a.c_str()) == 0 || errno == ENOENT) {
    item->action = "removed";
  } else {
    item->action = "failed";
    item->detail = ErrnoError(e.a, errno).message();
  }
}

void CleanDomain(const JournalEntry& e, const Journal& j, Connection& conn,
                 bool dry_run, CleanupItem* item) {
  auto exists = conn.DomainExists(e.a);
  if (!exists.ok()) {
    item->action = "failed";
    item->detail = exists.status().message();
    return;
  }
  if (!*exists) {
    item->action = "gone";
    return;
  }
  if (!DomainMadeBy(conn, e.a, j.id)) {
    item->action = "kept";
    item->detail =
        "a domain of this name exists, but this import did not "
        "make it (no import id " +
        Quote(j.id) + ")";
    return;
  }
  if (dry_run) {
    item->action = "would remove";
    return;
  }
  Status s = conn.DestroyDomain(e.a);
  if (s.ok() || s.code() == ErrorCode::kNotFound) s = conn.UndefineDomain(e.a);
  item->action = s.ok() ? "removed" : "failed";
  if (!s.ok()) item->detail = s.message();
}

void CleanVolume(const JournalEntry& e, Connection& conn, bool dry_run,
                 CleanupItem* item) {
  auto exists = conn.VolumeExists(e.a, e.b);
  if (!exists.ok() && exists.status().code() == ErrorCode::kNotFound) {
    item->action = "gone";  // the pool itself is gone
    return;
  }
  if (!exists.ok()) {
    item->action = "failed";
    item->detail = exists.status().message();
    return;
  }
  if (!*exists) {
    item->action = "gone";
  } else if (dry_run) {
    item->action = "would remove";
  } else {
    Status s = conn.DeleteVolume(e.a, e.b);
    item->action =
        s.ok() || s.code() == ErrorCode::kNotFound ? "removed" : "failed";
    if (item->action == "failed") item->detail = s.message();
  }
}

// Cleans one dead import's journal. `conn` is null when its objects are
// out of reach: `conn_problem` says why, or it is empty because they died
// with the process.
CleanupJournal CleanOne(StaleJournal& stale, Connection* conn,
                        const std::string& conn_problem, bool dry_run,
                        CleanupReport* report) {
  const Journal& j = stale.journal();
  CleanupJournal out;
  out.id = j.id;
  out.path = j.path;
  out.uri = j.uri;
  out.started = j.started;
  out.pid = j.pid;
  if (!j.problem.empty()) {
    out.state = "incomplete";
    out.items.push_back({"journal", j.path, "kept", j.problem});
    ++report->failed;
    return out;
  }
  if (j.committed) {
    out.state = "committed";
    if (!dry_run) stale.Remove().IgnoreError();
    return out;
  }
  bool done = true;
  for (auto it = j.entries.rbegin(); it != j.entries.rend(); ++it) {
    const JournalEntry& e = *it;
    CleanupItem item;
    item.kind = std::string(JournalKindName(e.kind));
    item.name = e.kind == JournalEntry::Kind::kVolume ? e.a + "/" + e.b : e.a;
    bool libvirt = e.kind == JournalEntry::Kind::kVolume ||
                   e.kind == JournalEntry::Kind::kDomain;
    if (libvirt && conn == nullptr && conn_problem.empty()) {
      item.action = "gone";
      item.detail = "it lived in the importing process's driver";
    } else if (libvirt && conn == nullptr) {
      item.action = "failed";
      item.detail = conn_problem;
    } else if (e.kind == JournalEntry::Kind::kDomain) {
      CleanDomain(e, j, *conn, dry_run, &item);
    } else if (e.kind == JournalEntry::Kind::kVolume) {
      CleanVolume(e, *conn, dry_run, &item);
    } else {
      CleanPath(e, dry_run, &item);
    }
    if (item.action == "failed") {
      done = false;
      ++report->failed;
    }
    if (item.action == "removed" || item.action == "would remove") {
      ++report->removed;
    }
    out.items.push_back(std::move(item));
  }
  if (dry_run) {
    out.state = "would clean";
  } else if (done && stale.Remove().ok()) {
    out.state = "cleaned";
  } else {
    out.state = "incomplete";
  }
  return out;
}

CleanupJournal Unprocessed(const std::string& path, const Journal* j,
                           const std::string& state) {
  CleanupJournal out;
  out.path = path;
  out.state = state;
  if (j) {
    out.id = j->id;
    out.uri = j->uri;
    out.started = j->started;
    out.pid = j->pid;
  }
  return out;
}

}  // namespace

bool DomainMadeBy(Connection& conn, const std::string& name,
                  const std::string& import_id) {
  if (import_id.empty()) return false;
  auto xml = conn.GetDomainXml(name, true);
  if (!xml.ok()) return false;
  auto root = ParseXml(*xml);
  if (!root.ok()) return false;
  const XmlElement* metadata = root->Child("", "metadata");
  const XmlElement* ours =
      metadata ? metadata->Child(kOva2virtXmlns, "appliance") : nullptr;
  if (ours == nullptr) return false;
  for (const XmlElement* meta : ours->Children(kOva2virtXmlns, "meta")) {
    if (meta->Attribute("", "name") == "import-id" &&
        meta->TrimmedText() == import_id) {
      return true;
    }
  }
  return false;
}

Result<CleanupReport> CleanupLeftovers(const CleanupRequest& request) {
  std::string dir =
      request.journal_dir.empty() ? DefaultJournalDir() : request.journal_dir;
  CleanupReport report;
  auto open = request.open;
  if (!open) {
    open = [](const std::string& uri) { return Connection::Open(uri); };
  }
  // A first look: which connections have dead journals. Journals that
  // need no connection are dealt with here; the others are let go again
  // and each connection's taken under its cleanup lock below, so that
  // imports of other connections never find them busy.
  std::vector<std::string> uris;
  {
    std::vector<std::string> busy;
    ASSIGN_OR_RETURN(std::vector<StaleJournal> stale,
                     LockStaleJournals(dir, &busy));
    for (const std::string& path : busy) {
      report.journals.push_back(Unprocessed(path, nullptr, "in use"));
    }
    for (StaleJournal& s : stale) {
      const Journal& j = s.journal();
      if (!j.problem.empty() || j.committed) {
        report.journals.push_back(
            CleanOne(s, nullptr, "", request.dry_run, &report));
      } else if (!request.uri.empty() && j.uri != request.uri) {
        report.journals.push_back(Unprocessed(j.path, &j, "other connection"));
      } else if (std::find(uris.begin(), uris.end(), j.uri) == uris.end()) {
        uris.push_back(j.uri);
      }
    }
  }
  for (const std::string& uri : uris) {
    auto lock = LockConnectionCleanup(dir, uri);
    if (!lock.ok()) return lock.status();
    ASSIGN_OR_RETURN(std::vector<StaleJournal> stale,
                     LockStaleJournals(dir, nullptr, uri));
    if (stale.empty()) continue;  // another cleaner took them meanwhile
    std::unique_ptr<Connection> conn;
    std::string problem;
    if (!StateDiedWithProcess(uri)) {
      auto c = open(uri);
      if (c.ok()) {
        conn = std::move(c).value();
      } else {
        problem = c.status().message();
      }
    }
    for (StaleJournal& s : stale) {
      if (!s.journal().problem.empty()) continue;  // made since: next time
      report.journals.push_back(
          CleanOne(s, conn.get(), problem, request.dry_run, &report));
    }
  }
  return report;
}

CleanupReport CleanupStaleImports(Connection& conn, const std::string& dir) {
  CleanupReport report;
  std::string uri = conn.Uri();
  // Only this connection's journals, under its cleanup lock: an import of
  // this connection that starts meanwhile waits here until they are
  // clean, rather than find them busy and meet their volumes.
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return report;
  auto lock = LockConnectionCleanup(dir, uri);
  if (!lock.ok()) return report;
  auto stale = LockStaleJournals(dir, nullptr, uri);
  if (!stale.ok()) return report;
  for (StaleJournal& s : *stale) {
    if (s.journal().uri != uri || !s.journal().problem.empty()) continue;
    report.journals.push_back(CleanOne(s, &conn, "", false, &report));
  }
  return report;
}

std::string DescribeCleanup(const CleanupJournal& j) {
  std::string removed, failed;
  size_t n = 0;
  for (const CleanupItem& item : j.items) {
    if (item.action == "removed") {
      removed += (n++ ? ", " : "") + item.kind + " " + Quote(item.name);
    } else if (item.action == "failed") {
      failed += "; could not remove " + item.kind + " " + Quote(item.name) +
                ": " + item.detail;
    }
  }
  std::string out = "removed " + std::to_string(n) +
                    " leftover(s) of an interrupted import (pid " +
                    std::to_string(j.pid) + ", started " + j.started + ")";
  if (n) out += ": " + removed;
  return out + failed;
}

}  // namespace ova2virt
