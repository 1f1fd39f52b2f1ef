// Cleanup of killed imports, against libvirt's in-process test driver: a
// journal is written as an import would write it, its writer closed as if
// the process had died, then the cleaner runs. (The test driver keeps one
// state for every test:///default connection of this process while one is
// open, so a connection the cleaner opens sees what this test made.)
#include "pipeline/cleanup.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include "tests/support/test_util.h"
#include "virtdriver/domain_xml.h"

namespace ova2virt {
namespace {

using Kind = JournalEntry::Kind;
constexpr const char* kPool = "default-pool";

std::string DomainXml(const std::string& name, const std::string& import_id) {
  std::string xml = "<domain type='test'><name>" + name +
                    "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                    "<os><type>hvm</type></os>";
  if (!import_id.empty()) {
    xml += "<metadata><ova2virt:appliance xmlns:ova2virt='" +
           std::string(kOva2virtXmlns) + "'><ova2virt:meta name='import-id'>" +
           import_id + "</ova2virt:meta></ova2virt:appliance></metadata>";
  }
  return xml + "</domain>";
}

// What a killed import on `uri` leaves: a volume, a temporary file, a
// finished file and a defined, running domain, all in its journal.
struct Leftovers {
  testing::TempDir tmp;
  std::string dir = tmp.Join("journal");
  std::string temp = tmp.Join(".d.qcow2.ova2virt-tmp-AbCdEf");
  std::string file = tmp.Join("d.qcow2");
  std::string journal;
  std::string id;

  Leftovers(Connection& conn, const std::string& uri, const std::string& dom,
            bool domain_is_ours = true) {
    auto w = JournalWriter::Create(dir, uri);
    REQUIRE_OK(w);
    id = (*w)->id();
    journal = (*w)->path();
    REQUIRE_OK(conn.CreateVolume(kPool, dom + "-disk1.qcow2", 512, "raw"));
    REQUIRE_OK((*w)->Add({Kind::kVolume, kPool, dom + "-disk1.qcow2"}));
    testing::WriteFileOrDie(temp, "half");
    REQUIRE_OK((*w)->Add({Kind::kTemp, temp, ""}));
    testing::WriteFileOrDie(file, "whole");
    REQUIRE_OK((*w)->Add({Kind::kFile, file, ""}));
    REQUIRE_OK(conn.DefineDomain(DomainXml(dom, domain_is_ours ? id : "")));
    REQUIRE_OK(conn.StartDomain(dom));
    REQUIRE_OK((*w)->Add({Kind::kDomain, dom, ""}));
  }  // the writer closes: its lock goes, as when the process is killed
};

std::unique_ptr<Connection> OpenTest() {
  auto c = Connection::Open("test:///default");
  REQUIRE_OK(c);
  return std::move(*c);
}

TEST_CASE("cleanup: the next import on the connection removes everything") {
  auto conn = OpenTest();
  Leftovers left(*conn, "test:///default", "killed-1");
  CHECK(DomainMadeBy(*conn, "killed-1", left.id));
  CHECK(!DomainMadeBy(*conn, "killed-1", "another-id"));
  CleanupReport r = CleanupStaleImports(*conn, left.dir);
  REQUIRE(r.journals.size() == 1);
  const CleanupJournal& j = r.journals[0];
  CHECK(j.state == "cleaned");
  CHECK(r.removed == 4);
  CHECK(r.failed == 0);
  REQUIRE(j.items.size() == 4);
  CHECK(j.items[0].kind == "domain");  // newest first
  CHECK(j.items[3].kind == "volume");
  CHECK(!*conn->DomainExists("killed-1"));
  CHECK(!*conn->VolumeExists(kPool, "killed-1-disk1.qcow2"));
  CHECK(!std::filesystem::exists(left.temp));
  CHECK(!std::filesystem::exists(left.file));
  CHECK(!std::filesystem::exists(left.journal));
  CHECK(DescribeCleanup(j).find("removed 4 leftover(s)") == 0);
  // Nothing more to do the second time.
  CHECK(CleanupStaleImports(*conn, left.dir).journals.empty());
}

TEST_CASE("cleanup: a dry run lists; a namesake domain is not ours") {
  auto conn = OpenTest();
  // The journal says "domain killed-2", but the domain of that name does
  // not carry the journal's import id: someone else's, left alone.
  Leftovers left(*conn, "qemu:///somewhere", "killed-2", false);
  CleanupRequest request;
  request.journal_dir = left.dir;
  request.dry_run = true;
  request.open =
      [](const std::string& uri) -> Result<std::unique_ptr<Connection>> {
    CHECK(uri == "qemu:///somewhere");
    return Connection::Open("test:///default");
  };
  auto dry = CleanupLeftovers(request);
  REQUIRE_OK(dry);
  REQUIRE(dry->journals.size() == 1);
  CHECK(dry->journals[0].state == "would clean");
  CHECK(dry->removed == 3);
  CHECK(dry->journals[0].items[0].action == "kept");
  CHECK(std::filesystem::exists(left.temp));
  CHECK(std::filesystem::exists(left.journal));
  CHECK(*conn->VolumeExists(kPool, "killed-2-disk1.qcow2"));

  // -c naming another connection: untouched.
  request.dry_run = false;
  request.uri = "qemu:///elsewhere";
  auto other = CleanupLeftovers(request);
  REQUIRE_OK(other);
  CHECK(other->journals[0].state == "other connection");
  CHECK(std::filesystem::exists(left.journal));

  request.uri = "qemu:///somewhere";
  auto done = CleanupLeftovers(request);
  REQUIRE_OK(done);
  CHECK(done->journals[0].state == "cleaned");
  CHECK(done->removed == 3);
  CHECK(*conn->DomainExists("killed-2"));  // not ours
  CHECK(!*conn->VolumeExists(kPool, "killed-2-disk1.qcow2"));
  CHECK(!std::filesystem::exists(left.journal));
  CHECK_OK(conn->DestroyDomain("killed-2"));
  CHECK_OK(conn->UndefineDomain("killed-2"));
}

TEST_CASE("cleanup: what cannot be reached keeps the journal") {
  auto conn = OpenTest();
  Leftovers left(*conn, "qemu:///unreachable", "killed-3");
  CleanupRequest request;
  request.journal_dir = left.dir;
  request.open = [](const std::string&) -> Result<std::unique_ptr<Connection>> {
    return FailedError("cannot connect to 'qemu:///unreachable'");
  };
  auto r = CleanupLeftovers(request);
  REQUIRE_OK(r);
  CHECK(r->journals[0].state == "incomplete");
  CHECK(r->failed == 2);   // the domain and the volume
  CHECK(r->removed == 2);  // the files
  CHECK(std::filesystem::exists(left.journal));
  // Next time, with the connection back, the rest goes.
  request.open = [](const std::string&) {
    return Connection::Open("test:///default");
  };
  r = CleanupLeftovers(request);
  REQUIRE_OK(r);
  CHECK(r->journals[0].state == "cleaned");
  CHECK(!*conn->DomainExists("killed-3"));
  CHECK(!std::filesystem::exists(left.journal));
}

TEST_CASE("cleanup: committed imports and running ones are left alone") {
  auto conn = OpenTest();
  testing::TempDir tmp;
  std::string file = tmp.Join("kept.qcow2");
  testing::WriteFileOrDie(file, "x");
  std::string committed;
  {
    auto w = JournalWriter::Create(tmp.Join("j"), "test:///default");
    REQUIRE_OK(w);
    REQUIRE_OK((*w)->Add({Kind::kFile, file, ""}));
    REQUIRE_OK((*w)->MarkCommitted());
    committed = (*w)->path();  // killed between the mark and the unlink
  }
  auto running = JournalWriter::Create(tmp.Join("j"), "test:///default");
  REQUIRE_OK(running);
  REQUIRE_OK((*running)->Add({Kind::kFile, file, ""}));
  CleanupRequest request;
  request.journal_dir = tmp.Join("j");
  auto r = CleanupLeftovers(request);
  REQUIRE_OK(r);
  REQUIRE(r->journals.size() == 2);
  CHECK(r->journals[0].state == "in use");
  CHECK(r->journals[1].state == "committed");
  CHECK(r->removed == 0);
  CHECK(std::filesystem::exists(file));
  CHECK(!std::filesystem::exists(committed));
  CHECK(std::filesystem::exists((*running)->path()));
}

TEST_CASE("cleanup: a journal's paths are not a licence to delete anything") {
  testing::TempDir tmp;
  std::string plain = tmp.Join("not-a-temp-name");
  testing::WriteFileOrDie(plain, "x");
  {
    auto w = JournalWriter::Create(tmp.Join("j"), "test:///default");
    REQUIRE_OK(w);
    REQUIRE_OK((*w)->Add({Kind::kTemp, plain, ""}));
    REQUIRE_OK((*w)->Add({Kind::kFile, tmp.path(), ""}));  // a directory
  }
  CleanupRequest request;
  request.journal_dir = tmp.Join("j");
  auto r = CleanupLeftovers(request);
  REQUIRE_OK(r);
  REQUIRE(r->journals.size() == 1);
  CHECK(r->journals[0].items[0].action == "kept");
  CHECK(r->journals[0].items[1].action == "kept");
  CHECK(std::filesystem::exists(plain));
}

// A dead import on `uri` whose journal lists `n` files (cleaning it takes
// a while, so that a second cleaner can start meanwhile).
struct ManyFiles {
  std::vector<std::string> files;
  ManyFiles(const std::string& dir, const std::string& uri,
            const std::string& folder, int n) {
    std::filesystem::create_directories(folder);
    auto w = JournalWriter::Create(dir, uri);
    REQUIRE_OK(w);
    for (int i = 0; i < n; ++i) {
      files.push_back(folder + "/f" + std::to_string(i));
      testing::WriteFileOrDie(files.back(), "x");
      REQUIRE_OK((*w)->Add({Kind::kFile, files.back(), ""}));
    }
  }  // killed
  size_t Left() const {
    return std::count_if(files.begin(), files.end(), [](const std::string& f) {
      return std::filesystem::exists(f);
    });
  }
};

// Runs `clean` in a thread and returns once it has started removing
// `victim`'s files (its journals are locked by then).
std::thread StartCleaning(std::function<void()> clean,
                          const ManyFiles& victim) {
  std::thread t(std::move(clean));
  while (victim.Left() == victim.files.size()) std::this_thread::yield();
  return t;
}

// Issue 15, bug 2: a cleaner locked every dead journal in the directory,
// whatever its connection; an import of another connection starting
// meanwhile found its own journal busy and its leftovers still there.
TEST_CASE("cleanup: a cleaner takes only its own connection's journals") {
  testing::TempDir tmp;
  std::string dir = tmp.Join("j");
  std::string other_uri = "test://" + tmp.Join("node.xml");
  testing::WriteFileOrDie(tmp.Join("node.xml"), "<node/>");
  auto other = Connection::Open(other_uri);
  REQUIRE_OK(other);
  REQUIRE((*other)->Uri() == other_uri);
  auto conn = OpenTest();
  ManyFiles mine(dir, "test:///default", tmp.Join("mine"), 4000);
  ManyFiles theirs(dir, other_uri, tmp.Join("theirs"), 3);
  std::thread first =
      StartCleaning([&] { CleanupStaleImports(*conn, dir); }, mine);
  CleanupReport r = CleanupStaleImports(**other, dir);
  first.join();
  CHECK(r.journals.size() == 1);
  CHECK(theirs.Left() == 0);
  CHECK(mine.Left() == 0);
  CHECK(LockStaleJournals(dir)->empty());
}

// ... and an import of the same connection that starts while its
// journals are being cleaned waits for the cleaner, rather than plan
// against leftovers still there.
TEST_CASE("cleanup: an import waits for the cleanup of its connection") {
  testing::TempDir tmp;
  std::string dir = tmp.Join("j");
  auto conn = OpenTest();
  ManyFiles left(dir, "test:///default", tmp.Join("left"), 4000);
  std::thread first =
      StartCleaning([&] { CleanupStaleImports(*conn, dir); }, left);
  CleanupStaleImports(*conn, dir);
  CHECK(left.Left() == 0);  // when the second returns, all is gone
  first.join();
  CHECK(LockStaleJournals(dir)->empty());
}

}  // namespace
}  // namespace ova2virt
