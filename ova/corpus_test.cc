// Every OVA of the real-world corpus gets a clear verdict, and the corpus's
// loose descriptors, manifests and disks make real packages (good and with
// wrong digests) when put together at test time.
#include "ova/package_reader.h"
#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::CorpusPath;
using testing::Message;
using testing::ReadOutcome;
using testing::ReadPackage;
using testing::TempDir;

std::string Verdict(const ReadOutcome& r) {
  if (!r.status.ok()) return r.status.message();
  return Message(r.report->ToStatus());
}

struct Expectation {
  const char* file;
  const char* verdict;  // "ok" or the exact one-line error
  bool signed_package;
  bool manifest;
};

const Expectation kCorpus[] = {
    {"ganeti_no_ovf.ova", "no ovf descriptor (.ovf member) in the package",
     false, false},
    {"ganeti_ova.ova", "ok", false, false},
    // Malformed XML: the descriptor's References cannot be read.
    {"glance_testserver-bad-ovf.ova", nullptr, false, false},
    {"glance_testserver-no-disk.ova",
     "member 'testserver-disk1.vmdk' is referenced by the descriptor but "
     "missing",
     false, false},
    {"glance_testserver-no-ovf.ova",
     "no ovf descriptor (.ovf member) in the package", false, false},
    {"glance_testserver-not-tar.ova", "not a tar archive", false, false},
    {"glance_testserver.ova", "ok", false, false},
    {"vboxvk_tdAppliance1-t1.ova", "ok", false, true},
    {"vboxvk_tdAppliance1-t2-ovftool-4.1.0.ova", "ok", false, true},
    {"vboxvk_tdAppliance1-t2.ova", "ok", false, true},
    {"vboxvk_tdAppliance1-t3-ovftool-4.1.0.ova", "ok", false, true},
    {"vboxvk_tdAppliance1-t3.ova", "ok", false, true},
    {"vboxvk_tdAppliance1-t4-ovftool-4.1.0.ova", "ok", true, true},
    {"vboxvk_tdAppliance1-t4.ova", "ok", true, true},
    {"vboxvk_tdAppliance1-t7-bad-instance.ova", "ok", false, true},
};

TEST_CASE("corpus: every OVA gets its verdict, from a file and a pipe") {
  TempDir tmp;
  size_t seen = 0;
  for (const std::string& path : testing::CorpusFiles("ova")) {
    INFO(path);
    std::string base = path.substr(path.rfind('/') + 1);
    const Expectation* e = nullptr;
    for (const Expectation& x : kCorpus) {
      if (base == x.file) e = &x;
    }
    REQUIRE_MESSAGE(e != nullptr, "no expectation for " << base);
    ++seen;
    ReadOutcome file = ReadPackage(path);
    std::string bytes = testing::ReadFileOrDie(path);
    ReadOutcome pipe = testing::ThroughPipe(
        tmp, bytes, [](const std::string& p) { return ReadPackage(p); });
    CHECK(Verdict(file) == Verdict(pipe));
    if (e->verdict == nullptr) {
      CHECK(file.status.code() == ErrorCode::kCorrupt);
      CHECK(Verdict(file).rfind("line ", 0) == 0);  // the XML error
      continue;
    }
    CHECK(Verdict(file) == e->verdict);
    if (std::string(e->verdict) != "ok") {
      Status s = file.status.ok() ? file.report->ToStatus() : file.status;
      CHECK(s.code() == ErrorCode::kCorrupt);
      continue;
    }
    CHECK(file.report->has_manifest == e->manifest);
    CHECK(file.report->signature.present == e->signed_package);
    CHECK(file.report->warnings.Has("manifest.none") == !e->manifest);
    for (const FileCheck& f : file.report->files) {
      if (f.listed) CHECK(f.status == FileStatus::kOk);
    }
  }
  CHECK(seen == std::size(kCorpus));
}

TEST_CASE("corpus: details the producers are known for") {
  // ovftool 4.0 wrote an all-blank manifest for a package without disks.
  ReadOutcome t1 = ReadPackage(CorpusPath("ova/vboxvk_tdAppliance1-t1.ova"));
  CHECK(t1.report->warnings.Has("manifest.empty"));
  // The gzip-wrapped Ganeti OVA.
  ReadOutcome ganeti = ReadPackage(CorpusPath("ova/ganeti_ova.ova"));
  CHECK(ganeti.kind == InputKind::kOvaGzip);
  // An extra file, listed in the manifest, not referenced.
  ReadOutcome t7 =
      ReadPackage(CorpusPath("ova/vboxvk_tdAppliance1-t7-bad-instance.ova"));
  bool readme = false;
  for (const FileCheck& f : t7.report->files) {
    if (f.name == "readme.txt") {
      readme = true;
      CHECK(f.status == FileStatus::kOk);
      CHECK(f.algorithm == DigestAlgorithm::kSha1);
      CHECK_FALSE(f.referenced);
    }
  }
  CHECK(readme);
  // SHA256 manifests, the disk gzip-compressed inside the OVA.
  ReadOutcome t3 = ReadPackage(CorpusPath("ova/vboxvk_tdAppliance1-t3.ova"));
  CHECK(t3.report->manifest_algorithms ==
        std::vector<DigestAlgorithm>{DigestAlgorithm::kSha256});
}

// Ganeti's export, its manifest and its disk, as an OVF directory and as an
// OVA; then with Ganeti's wrong manifest.
TEST_CASE(
    "corpus: Ganeti's real files make a package; its wrong manifest "
    "fails") {
  std::string ovf =
      testing::ReadFileOrDie(CorpusPath("ovf/ganeti_ganeti-export.ovf"));
  std::string disk =
      testing::ReadFileOrDie(CorpusPath("vmdk/ganeti_new_disk.vmdk"));
  std::string good_mf =
      testing::ReadFileOrDie(CorpusPath("mf/ganeti_ganeti.mf"));
  std::string wrong_mf =
      testing::ReadFileOrDie(CorpusPath("mf/ganeti_wrong_manifest.mf"));
  // The wrong manifest names its descriptor wrong_manifest.ovf.
  std::string wrong_ovf =
      testing::ReadFileOrDie(CorpusPath("ovf/ganeti_wrong_manifest.ovf"));

  TempDir good;
  testing::WriteFileOrDie(good.Join("ganeti.ovf"), ovf);
  testing::WriteFileOrDie(good.Join("ganeti.mf"), good_mf);
  testing::WriteFileOrDie(good.Join("new_disk.vmdk"), disk);
  ReadOutcome dir = ReadPackage(good.path());
  REQUIRE_OK(dir.status);
  CHECK_OK(dir.report->ToStatus());
  CHECK(dir.report->files.size() == 2);

  testing::TarBuilder tar;
  tar.File("ganeti.ovf", ovf)
      .File("ganeti.mf", good_mf)
      .File("new_disk.vmdk", disk);
  tar.WriteFile(good.Join("ganeti.ova"));
  CHECK_OK(ReadPackage(good.Join("ganeti.ova")).report->ToStatus());

  TempDir bad;
  testing::WriteFileOrDie(bad.Join("wrong_manifest.ovf"), wrong_ovf);
  testing::WriteFileOrDie(bad.Join("wrong_manifest.mf"), wrong_mf);
  testing::WriteFileOrDie(bad.Join("new_disk.vmdk"), disk);
  ReadOutcome wrong = ReadPackage(bad.path());
  REQUIRE_OK(wrong.status);
  // Both digests are wrong; the first failing file is named.
  CHECK(Message(wrong.report->ToStatus()) ==
        "file 'wrong_manifest.ovf': SHA1 digest mismatch");
  for (const FileCheck& f : wrong.report->files) {
    CHECK(f.status == FileStatus::kMismatch);
  }
  testing::TarBuilder bad_tar;
  bad_tar.File("wrong_manifest.ovf", wrong_ovf)
      .File("wrong_manifest.mf", wrong_mf)
      .File("new_disk.vmdk", disk);
  bad_tar.WriteFile(bad.Join("wrong.ova"));
  CHECK(Message(ReadPackage(bad.Join("wrong.ova")).report->ToStatus()) ==
        "member 'wrong_manifest.ovf': SHA1 digest mismatch");
}

}  // namespace
}  // namespace ova2virt
