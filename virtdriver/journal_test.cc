// The import journal: what it writes, what reads it back, and the lock
// that tells a running import's journal from a dead one's. (flock(2) locks
// of two open files conflict within one process too, so a live writer here
// stands for a live import.)
#include "virtdriver/journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"
#include "virtdriver/rollback.h"

namespace ova2virt {
namespace {

using Kind = JournalEntry::Kind;

TEST_CASE("journal: entries round-trip, whatever the names hold") {
  testing::TempDir tmp;
  std::string dir = tmp.Join("state/journal");
  auto w = JournalWriter::Create(dir, "qemu+unix:///system?socket=/a b");
  REQUIRE_OK(w);
  struct stat st;
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK((*w)->path() == dir + "/import-" + (*w)->id() + ".journal");
  std::vector<JournalEntry> entries = {
      {Kind::kVolume, "my pool", "disk 1%.qcow2"},
      {Kind::kTemp, "/srv/vms/.x.ova2virt-tmp-AbC", ""},
      {Kind::kFile, "/srv/odd\nname\t\x01\xff", ""},
      {Kind::kDomain, "", ""},
  };
  for (const JournalEntry& e : entries) CHECK_OK((*w)->Add(e));
  auto parsed = ParseJournal(testing::ReadFileOrDie((*w)->path()));
  REQUIRE_OK(parsed);
  CHECK(parsed->id == (*w)->id());
  CHECK(parsed->pid == getpid());
  CHECK(parsed->uri == "qemu+unix:///system?socket=/a b");
  CHECK(parsed->started.size() == 20);
  REQUIRE(parsed->entries.size() == entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    CHECK(parsed->entries[i].kind == entries[i].kind);
    CHECK(parsed->entries[i].a == entries[i].a);
    CHECK(parsed->entries[i].b == entries[i].b);
  }
  CHECK(!parsed->committed);
  CHECK_OK((*w)->MarkCommitted());
  CHECK(ParseJournal(testing::ReadFileOrDie((*w)->path()))->committed);
  CHECK_OK((*w)->Remove());
  CHECK(std::filesystem::is_empty(dir));
}

TEST_CASE("journal: a line cut short by a crash is ignored; junk is not") {
  std::string text =
      "ova2virt-journal 1\nid x\npid 12\nuri test:///default\n"
      "volume p v\nfile /a\ndomain d";  // the crash came mid-line
  auto j = ParseJournal(text);
  REQUIRE_OK(j);
  CHECK(j->entries.size() == 2);
  CHECK(ParseJournal("something else\n").status().code() ==
        ErrorCode::kCorrupt);
  CHECK(!ParseJournal("ova2virt-journal 1\nvolume only-a-pool\n").ok());
  CHECK(!ParseJournal("ova2virt-journal 1\nfile %zz\n").ok());
  CHECK(!ParseJournal("ova2virt-journal 1\nfile %4\n").ok());
}

TEST_CASE("journal: only the journals of dead imports are taken") {
  testing::TempDir tmp;
  std::string dir = tmp.Join("j");
  auto live = JournalWriter::Create(dir, "test:///default");
  REQUIRE_OK(live);
  std::string dead_path;
  {
    auto dead = JournalWriter::Create(dir, "test:///default");
    REQUIRE_OK(dead);
    CHECK_OK((*dead)->Add({Kind::kFile, "/x", ""}));
    dead_path = (*dead)->path();
  }  // closed without Remove(): as if its process were killed
  // A dot-file of an import killed while starting its journal (an older
  // ova2virt's, or one on a file system without O_TMPFILE), and one of a
  // live process that has not locked it yet: that one stays.
  const std::string dead_tmp =
      dir + "/.import-20261122T060102Z-999999999-abcdef.journal.tmp";
  const std::string live_tmp = dir + "/.import-20261122T060102Z-" +
                               std::to_string(getpid()) + "-abcdef.journal.tmp";
  testing::WriteFileOrDie(dead_tmp, "ova2virt-journal 1\n");
  testing::WriteFileOrDie(live_tmp, "");
  std::vector<std::string> busy;
  auto stale = LockStaleJournals(dir, &busy);
  REQUIRE_OK(stale);
  REQUIRE(stale->size() == 1);
  CHECK((*stale)[0].journal().path == dead_path);
  CHECK((*stale)[0].journal().entries.size() == 1);
  CHECK(busy == std::vector<std::string>{(*live)->path()});
  CHECK(!std::filesystem::exists(dead_tmp));
  CHECK(std::filesystem::exists(live_tmp));
  std::filesystem::remove(live_tmp);
  // While this process holds it, nobody else takes it.
  auto again = LockStaleJournals(dir, &busy);
  REQUIRE_OK(again);
  CHECK(again->empty());
  CHECK_OK((*stale)[0].Remove());
  CHECK(!std::filesystem::exists(dead_path));
  // A missing directory holds nothing.
  CHECK(LockStaleJournals(tmp.Join("none"))->empty());
}

// Issue 15, bug 1: the journal was created under a dot-name and locked
// afterwards; another import's LockStaleJournals in between took it for a
// dead one and deleted it (import.no-journal at --jobs 12). Imports and
// cleaners race here; every journal must be created, and none taken.
TEST_CASE("journal: a new journal is never taken for a dead one") {
  testing::TempDir tmp;
  std::string dir = tmp.Join("j");
  REQUIRE(std::filesystem::create_directories(dir));
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, taken{0}, created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto w = JournalWriter::Create(dir, "test:///default");
        if (!w.ok()) {
          ++failed;
          continue;
        }
        ++created;
        if (!(*w)->Add({Kind::kFile, "/x", ""}).ok()) ++failed;
        if (!(*w)->Remove().ok()) ++failed;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      auto stale = LockStaleJournals(dir);
      if (stale.ok()) taken += static_cast<int>(stale->size());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (std::thread& t : threads) t.join();
  CAPTURE(created.load());
  CHECK(created > 100);
  CHECK(failed == 0);
  CHECK(taken == 0);
}

TEST_CASE("journal: the transaction writes it and removes it when done") {
  testing::TempDir tmp;
  auto c = Connection::Open("test:///default");
  REQUIRE_OK(c);
  std::string file = tmp.Join("disk.qcow2");
  testing::WriteFileOrDie(file, "x");
  auto w = JournalWriter::Create(tmp.Join("j"), "test:///default");
  REQUIRE_OK(w);
  std::string path = (*w)->path();
  {
    Transaction t(**c);
    t.SetJournal(w->get());
    REQUIRE_OK((*c)->CreateVolume("default-pool", "journal-a.raw", 512, "raw"));
    t.AddVolume("default-pool", "journal-a.raw");
    t.NoteTemporary(tmp.Join(".disk.qcow2.ova2virt-tmp-xyz"));
    t.AddFile(file);
    auto j = ParseJournal(testing::ReadFileOrDie(path));
    REQUIRE_OK(j);
    REQUIRE(j->entries.size() == 3);
    CHECK(j->entries[0].kind == Kind::kVolume);
    CHECK(j->entries[1].kind == Kind::kTemp);
    CHECK(j->entries[2].a == file);
    CHECK_OK(t.journal_status());
  }  // rolled back completely: the journal goes too
  CHECK(!std::filesystem::exists(path));
  CHECK(!*(*c)->VolumeExists("default-pool", "journal-a.raw"));

  // A rollback that leaves something keeps the journal for cleanup.
  auto w2 = JournalWriter::Create(tmp.Join("j"), "test:///default");
  REQUIRE_OK(w2);
  {
    Transaction t(**c);
    t.SetJournal(w2->get());
    t.AddFile(tmp.path());  // a directory: unlink fails
  }
  CHECK(std::filesystem::exists((*w2)->path()));

  // Commit marks and removes it, and keeps what it lists.
  testing::WriteFileOrDie(file, "x");
  auto w3 = JournalWriter::Create(tmp.Join("j"), "test:///default");
  REQUIRE_OK(w3);
  {
    Transaction t(**c);
    t.SetJournal(w3->get());
    t.AddFile(file);
    t.Commit();
    CHECK_OK(t.journal_status());
  }
  CHECK(!std::filesystem::exists((*w3)->path()));
  CHECK(std::filesystem::exists(file));
}

// A test-driver connection and a journal on it, for the journal-ahead
// cases: entries() reads the journal back as a cleaner would.
struct JournaledConnection {
  testing::TempDir tmp;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<JournalWriter> writer;
  std::string path;
  JournaledConnection() {
    auto c = Connection::Open("test:///default");
    REQUIRE_OK(c);
    conn = std::move(*c);
    auto w = JournalWriter::Create(tmp.Join("j"), "test:///default");
    REQUIRE_OK(w);
    writer = std::move(*w);
    path = writer->path();
  }
  std::vector<JournalEntry> entries() const {
    auto j = ParseJournal(testing::ReadFileOrDie(path));
    REQUIRE_OK(j);
    return j->entries;
  }
};

TEST_CASE("journal: a volume is journaled before libvirt creates it") {
  // A kill while the create is in flight must leave a journal that lists
  // the volume (faults_daemon.sh saw an unlisted one under I/O load).
  JournaledConnection jc;
  {
    Transaction t(*jc.conn);
    t.SetJournal(jc.writer.get());
    t.JournalVolumeAhead("default-pool", "journal-ahead.raw");
    REQUIRE(jc.entries().size() == 1);  // listed, not yet created
    CHECK(jc.entries()[0].kind == Kind::kVolume);
    CHECK(jc.entries()[0].b == "journal-ahead.raw");
    CHECK(t.empty());  // nothing to roll back yet
    REQUIRE_OK(
        jc.conn->CreateVolume("default-pool", "journal-ahead.raw", 512, "raw"));
    t.AddVolume("default-pool", "journal-ahead.raw");
    CHECK(jc.entries().size() == 1);  // not listed twice
    CHECK(!t.empty());
  }  // rolled back: the volume and the journal go
  CHECK(!*jc.conn->VolumeExists("default-pool", "journal-ahead.raw"));
  CHECK(!std::filesystem::exists(jc.path));
}

TEST_CASE("journal: a domain is journaled before libvirt defines it") {
  // A kill while the define is in flight must leave a journal that lists
  // the domain (faults_daemon.sh's SIGKILL part saw one left unlisted).
  JournaledConnection jc;
  {
    Transaction t(*jc.conn);
    t.SetJournal(jc.writer.get());
    t.JournalDomainAhead("journal-ahead");
    REQUIRE(jc.entries().size() == 1);  // listed, not yet defined
    CHECK(jc.entries()[0].kind == Kind::kDomain);
    CHECK(jc.entries()[0].a == "journal-ahead");
    CHECK(t.empty());  // nothing to roll back yet
    auto name = jc.conn->DefineDomain(
        "<domain type='test'><name>journal-ahead</name><memory>1024</memory>"
        "<os><type>hvm</type></os></domain>");
    REQUIRE_OK(name);
    t.AddDomain(*name);
    CHECK(jc.entries().size() == 1);  // not listed twice
    CHECK(!t.empty());
  }  // rolled back: the domain and the journal go
  CHECK(!*jc.conn->DomainExists("journal-ahead"));
  CHECK(!std::filesystem::exists(jc.path));
}

}  // namespace
}  // namespace ova2virt
