#include "ova/package_reader.h"

#include "core/cancel.h"
#include "core/io_faults.h"
#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::Appliance;
using testing::Message;
using testing::ReadOutcome;
using testing::ReadPackage;
using testing::TarBuilder;
using testing::TarFormat;
using testing::TempDir;
using testing::ThroughPipe;

std::string Write(const TempDir& dir, const std::string& name,
                  const std::string& bytes) {
  std::string path = dir.Join(name);
  testing::WriteFileOrDie(path, bytes);
  return path;
}

const FileCheck* Find(const VerificationReport& r, const std::string& name) {
  for (const FileCheck& f : r.files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Reads the archive from a file and through a pipe; both must agree.
std::pair<ReadOutcome, ReadOutcome> ReadBothWays(
    const TempDir& dir, const std::string& bytes,
    PackageReader::Options options = {}) {
  std::string path = Write(dir, "x.ova", bytes);
  ReadOutcome file = ReadPackage(path, options);
  ReadOutcome pipe = ThroughPipe(dir, bytes, [&](const std::string& p) {
    return ReadPackage(p, options);
  });
  CHECK(Message(file.status) == Message(pipe.status));
  if (file.report && pipe.report) {
    CHECK(Message(file.report->ToStatus()) == Message(pipe.report->ToStatus()));
    CHECK(file.report->files.size() == pipe.report->files.size());
  }
  CHECK(file.members.size() == pipe.members.size());
  return {std::move(file), std::move(pipe)};
}

TEST_CASE("reader: a well-formed OVA verifies, offsets as laid out") {
  TempDir dir;
  Appliance app;
  TarBuilder tar = app.Tar();
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  for (const ReadOutcome* r : {&file, &pipe}) {
    REQUIRE_OK(r->status);
    REQUIRE(r->report.has_value());
    CHECK_OK(r->report->ToStatus());
    CHECK(r->kind == InputKind::kOva);
    auto layout = tar.Layout();
    REQUIRE(r->members.size() == layout.size());
    for (size_t i = 0; i < layout.size(); ++i) {
      CHECK(r->members[i].name == layout[i].name);
      CHECK(r->members[i].offset == layout[i].data_offset);
      CHECK(r->members[i].size == layout[i].size);
    }
    CHECK(r->members[0].role == MemberRole::kDescriptor);
    CHECK(r->members[1].role == MemberRole::kManifest);
    CHECK(r->members[2].role == MemberRole::kFile);
    const VerificationReport& rep = *r->report;
    CHECK(rep.has_manifest);
    CHECK(rep.manifest_name == "app.mf");
    REQUIRE(rep.files.size() == 3);  // descriptor and two disks
    for (const FileCheck& f : rep.files) {
      CHECK(f.status == FileStatus::kOk);
      CHECK(f.algorithm == DigestAlgorithm::kSha256);
      CHECK(f.expected == f.actual);
    }
    CHECK(Find(rep, "disk1.vmdk")->referenced);
    CHECK(Find(rep, "disk1.vmdk")->actual ==
          DigestHex(DigestAlgorithm::kSha256, AsBytes(app.disks[0].second)));
    CHECK(rep.warnings.empty());
  }
  CHECK(file.in_place);
  CHECK_FALSE(pipe.in_place);
}

TEST_CASE("reader: every manifest style, every algorithm") {
  TempDir dir;
  Appliance app;
  for (DigestAlgorithm algo : kAllDigests) {
    for (int style : {0, 1, 2}) {
      for (bool with_descriptor : {true, false}) {
        CAPTURE(DigestName(algo));
        CAPTURE(style);
        CAPTURE(with_descriptor);
        TarBuilder tar;
        tar.File(app.ovf_name(), app.Descriptor());
        tar.File(app.mf_name(), app.Manifest(algo, with_descriptor, style));
        for (const auto& d : app.disks) tar.File(d.first, d.second);
        auto [file, pipe] = ReadBothWays(dir, tar.Build());
        REQUIRE_OK(file.status);
        CHECK_OK(file.report->ToStatus());
        CHECK(file.report->manifest_algorithms ==
              std::vector<DigestAlgorithm>{algo});
        CHECK(Find(*file.report, "disk2.vmdk")->algorithm == algo);
        CHECK(file.report->warnings.Has("manifest.not-listed") ==
              !with_descriptor);
      }
    }
  }
}

TEST_CASE("reader: manifest last, on a file and on a pipe") {
  TempDir dir;
  Appliance app;
  for (DigestAlgorithm algo : kAllDigests) {
    std::string bytes = app.Tar(algo, TarFormat::kUstar, true).Build();
    auto [file, pipe] = ReadBothWays(dir, bytes);
    CHECK_OK(file.report->ToStatus());
    CHECK_OK(pipe.report->ToStatus());
    PackageReader::Options no_ahead;
    no_ahead.read_manifest_ahead = false;
    ReadOutcome all_algos = ReadPackage(Write(dir, "y.ova", bytes), no_ahead);
    CHECK_OK(all_algos.report->ToStatus());
  }
}

TEST_CASE("reader: a flipped byte in a disk fails naming the disk") {
  TempDir dir;
  Appliance app;
  for (bool manifest_last : {false, true}) {
    for (size_t disk : {0, 1}) {
      CAPTURE(manifest_last);
      CAPTURE(disk);
      TarBuilder tar =
          app.Tar(DigestAlgorithm::kSha256, TarFormat::kUstar, manifest_last);
      std::string bytes = tar.Build();
      auto layout = tar.Layout();
      const testing::TarLayout& target =
          layout[disk + Appliance::DiskMember(manifest_last)];
      bytes[target.data_offset + target.size / 2] ^= 0x01;
      auto [file, pipe] = ReadBothWays(dir, bytes);
      REQUIRE_OK(file.status);
      std::string name = app.disks[disk].first;
      Status s = file.report->ToStatus();
      CHECK(s.code() == ErrorCode::kCorrupt);
      CHECK(s.message() ==
            "member " + Quote(name) + ": SHA256 digest mismatch");
      const FileCheck* f = Find(*file.report, name);
      REQUIRE(f != nullptr);
      CHECK(f->status == FileStatus::kMismatch);
      CHECK(f->expected != f->actual);
      CHECK(Find(*file.report, app.disks[1 - disk].first)->status ==
            FileStatus::kOk);
    }
  }
}

TEST_CASE("reader: gzip-wrapped tars read like plain ones") {
  TempDir dir;
  REQUIRE(testing::HaveTool("gzip"));
  Appliance app;
  TarBuilder tar = app.Tar();
  std::string plain = Write(dir, "plain.ova", tar.Build());
  REQUIRE(testing::RunCommand("gzip -n -c " + testing::ShellQuote(plain) +
                              " > " + testing::ShellQuote(dir.Join("z.ova")))
              .exit_code == 0);
  std::string gz = testing::ReadFileOrDie(dir.Join("z.ova"));
  auto [file, pipe] = ReadBothWays(dir, gz);
  for (const ReadOutcome* r : {&file, &pipe}) {
    REQUIRE_OK(r->status);
    CHECK(r->kind == InputKind::kOvaGzip);
    CHECK_OK(r->report->ToStatus());
    CHECK_FALSE(r->in_place);
    auto layout = tar.Layout();
    for (size_t i = 0; i < layout.size(); ++i) {
      CHECK(r->members[i].offset == layout[i].data_offset);
    }
  }
  std::string broken = gz;
  broken[broken.size() / 2] ^= 0x55;
  auto [bf, bp] = ReadBothWays(dir, broken);
  bool failed = !bf.status.ok() || !bf.report->ToStatus().ok();
  CHECK(failed);
}

TEST_CASE("reader: Data() and InPlace() give the member's bytes") {
  TempDir dir;
  Appliance app;
  std::string path = Write(dir, "x.ova", app.Tar().Build());
  auto reader = PackageReader::Open(path, {});
  REQUIRE_OK(reader);
  int disks = 0;
  for (;;) {
    auto m = (*reader)->Next();
    REQUIRE_OK(m);
    if (!m->has_value()) break;
    if ((*m)->role == MemberRole::kDescriptor) {
      REQUIRE((*reader)->descriptor() != nullptr);
      CHECK(*(*reader)->descriptor() == app.Descriptor());
      auto text = ReadAllCapped((*reader)->Data(), 1 << 20);
      REQUIRE_OK(text);
      CHECK(*text == app.Descriptor());
    }
    if ((*m)->role != MemberRole::kFile) continue;
    const std::string& expected = app.disks[disks++].second;
    RandomAccessSource* in_place = (*reader)->InPlace();
    REQUIRE(in_place != nullptr);
    CHECK(in_place->size() == expected.size());
    std::string tail(100, '\0');
    REQUIRE_OK(ReadExactlyAt(*in_place, expected.size() - 100,
                             {reinterpret_cast<uint8_t*>(tail.data()), 100}));
    CHECK(tail == expected.substr(expected.size() - 100));
    // Read only part: Next() hashes the rest.
    std::string head(1000, '\0');
    REQUIRE_OK(ReadExactly((*reader)->Data(),
                           {reinterpret_cast<uint8_t*>(head.data()), 1000}));
    CHECK(head == expected.substr(0, 1000));
  }
  CHECK(disks == 2);
  CHECK((*reader)->InPlace() == nullptr);
  auto report = (*reader)->Finish({});
  REQUIRE_OK(report);
  CHECK_OK(report->ToStatus());
}

// What a disk reader does with Data(): ReadShared() into a few buffers it
// reuses only after Reclaim(), a plain Read() now and then, and the rest
// left for Next(). The digests must come out as if read in one piece.
Result<VerificationReport> ReadSharing(
    const std::string& input, const std::vector<std::string>& disks_stored,
    size_t piece) {
  ASSIGN_OR_RETURN(auto reader, PackageReader::Open(input, {}));
  int disks = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader->Next());
    if (!m) break;
    if (m->role == MemberRole::kDescriptor) {
      RETURN_IF_ERROR(reader->ExpectFiles({"disk1.vmdk", "disk2.vmdk"}));
    }
    if (m->role != MemberRole::kFile) continue;
    const std::string& expected = disks_stored[disks++];
    ByteSource& data = reader->Data();
    std::vector<std::string> ring(3, std::string(piece, '\0'));
    std::vector<uint64_t> tickets(ring.size(), 0);
    std::string got;
    for (size_t i = 0; got.size() < expected.size() * 3 / 4; ++i) {
      std::string& buf = ring[i % ring.size()];
      data.Reclaim(tickets[i % ring.size()]);
      size_t n = 0;
      if (i % 7 == 6) {
        ASSIGN_OR_RETURN(
            n, data.Read({reinterpret_cast<uint8_t*>(buf.data()), buf.size()}));
      } else {
        ASSIGN_OR_RETURN(
            n, data.ReadShared(
                   {reinterpret_cast<uint8_t*>(buf.data()), buf.size()},
                   &tickets[i % ring.size()]));
      }
      if (n == 0) break;
      got.append(buf, 0, n);
    }
    CHECK(got == expected.substr(0, got.size()));
    for (uint64_t t : tickets) data.Reclaim(t);
  }
  return reader->Finish({});
}

TEST_CASE("reader: bytes lent with ReadShared() are hashed behind the reader") {
  TempDir dir;
  Appliance app;
  app.disks = {{"disk1.vmdk", testing::PatternBytes(3 << 20, 1)},
               {"disk2.vmdk", testing::PatternBytes(70001, 2)}};
  for (bool manifest_last : {false, true}) {
    for (bool flip : {false, true}) {
      CAPTURE(manifest_last);
      CAPTURE(flip);
      TarBuilder tar =
          app.Tar(DigestAlgorithm::kSha256, TarFormat::kUstar, manifest_last);
      std::string bytes = tar.Build();
      std::vector<std::string> stored = {app.disks[0].second,
                                         app.disks[1].second};
      if (flip) {
        const testing::TarLayout disk1 =
            tar.Layout()[Appliance::DiskMember(manifest_last)];
        bytes[disk1.data_offset + 12345] ^= 0x20;
        stored[0][12345] ^= 0x20;
      }
      std::string path = Write(dir, "x.ova", bytes);
      for (size_t piece : {size_t{4099}, size_t{1} << 20}) {
        CAPTURE(piece);
        auto file = ReadSharing(path, stored, piece);
        auto pipe = ThroughPipe(dir, bytes, [&](const std::string& p) {
          return ReadSharing(p, stored, piece);
        });
        for (auto* r : {&file, &pipe}) {
          REQUIRE_OK(*r);
          Status verdict = (*r)->ToStatus();
          if (flip) {
            CHECK(verdict.message() ==
                  "member 'disk1.vmdk': SHA256 digest mismatch");
          } else {
            CHECK_OK(verdict);
          }
        }
      }
    }
  }
}

TEST_CASE("reader: packages without a manifest verify, with a warning") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  for (const auto& d : app.disks) tar.File(d.first, d.second);
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  for (const ReadOutcome* r : {&file, &pipe}) {
    REQUIRE_OK(r->status);
    CHECK_OK(r->report->ToStatus());
    CHECK_FALSE(r->report->has_manifest);
    CHECK(r->report->warnings.Has("manifest.none"));
    for (const FileCheck& f : r->report->files) {
      CHECK(f.status == FileStatus::kNotListed);
    }
  }
}

TEST_CASE("reader: listed or referenced files that are missing fail") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  tar.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha1));
  tar.File(app.disks[0].first, app.disks[0].second);
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  REQUIRE_OK(file.status);
  CHECK(Message(file.report->ToStatus()) ==
        "member 'disk2.vmdk' is listed in the manifest but missing");
  const FileCheck* f = Find(*file.report, "disk2.vmdk");
  REQUIRE(f != nullptr);
  CHECK(f->status == FileStatus::kMissing);
  CHECK(f->listed);
  CHECK(f->referenced);

  Appliance more = app;
  more.extra_hrefs = {"nvram.bin"};
  auto [f2, p2] = ReadBothWays(dir, more.Tar().Build());
  REQUIRE_OK(f2.status);
  CHECK(Message(f2.report->ToStatus()) ==
        "member 'nvram.bin' is referenced by the descriptor but missing");
}

TEST_CASE("reader: extra members, AppleDouble, directories, more .ovf") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.Directory("./");
  tar.File(app.ovf_name(), app.Descriptor());
  tar.File("._" + app.ovf_name(), "mac metadata");
  tar.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha256));
  tar.Directory("extras/");
  for (const auto& d : app.disks) tar.File(d.first, d.second);
  tar.File("readme.txt", "hello");
  tar.File("other.ovf", "<Envelope/>");
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  for (const ReadOutcome* r : {&file, &pipe}) {
    REQUIRE_OK(r->status);
    CHECK_OK(r->report->ToStatus());
    const Diagnostics& w = r->report->warnings;
    CHECK(w.Has("ova.appledouble"));
    CHECK(w.Has("ova.directory-member"));
    CHECK(w.Has("ova.extra-descriptor"));
    CHECK(w.Has("manifest.not-listed"));
    std::vector<std::string> names;
    for (const MemberInfo& m : r->members) names.push_back(m.name);
    CHECK(names == std::vector<std::string>{"app.ovf", "app.mf", "disk1.vmdk",
                                            "disk2.vmdk", "readme.txt",
                                            "other.ovf"});
    CHECK(r->members.back().role == MemberRole::kFile);
    CHECK(Find(*r->report, "readme.txt")->status == FileStatus::kNotListed);
  }
}

TEST_CASE("reader: a descriptor that is not first is found, with a warning") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.disks[0].first, app.disks[0].second);
  tar.File(app.ovf_name(), app.Descriptor());
  tar.File(app.disks[1].first, app.disks[1].second);
  tar.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha512));
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  REQUIRE_OK(file.status);
  CHECK_OK(file.report->ToStatus());
  CHECK(file.report->warnings.Has("ova.descriptor-not-first"));
}

TEST_CASE("reader: no descriptor at all is corrupt") {
  TempDir dir;
  TarBuilder tar;
  tar.File("disk1.vmdk", "x");
  auto [file, pipe] = ReadBothWays(dir, tar.Build());
  CHECK(file.status.code() == ErrorCode::kCorrupt);
  CHECK(Message(file.status) ==
        "no ovf descriptor (.ovf member) in the package");
  auto [empty, empty_pipe] = ReadBothWays(dir, TarBuilder().Build());
  CHECK(Message(empty.status) ==
        "no ovf descriptor (.ovf member) in the package");
}

TEST_CASE("reader: how the archive ends is reported") {
  TempDir dir;
  Appliance app;
  ReadOutcome one = ReadPackage(
      Write(dir, "a.ova", app.Tar().EndBlocks(1).RecordSize(0).Build()));
  CHECK_OK(one.report->ToStatus());
  CHECK(one.warnings.Has("ova.tar-end"));
  ReadOutcome none = ReadPackage(
      Write(dir, "b.ova", app.Tar().EndBlocks(0).RecordSize(0).Build()));
  CHECK_OK(none.report->ToStatus());
  CHECK(none.warnings.Has("ova.tar-end"));
  ReadOutcome good = ReadPackage(Write(dir, "c.ova", app.Tar().Build()));
  CHECK_FALSE(good.warnings.Has("ova.tar-end"));
  CHECK_FALSE(good.warnings.Has("ova.trailing-data"));
  ReadOutcome trailing =
      ReadPackage(Write(dir, "d.ova", app.Tar().Build() + "junk"));
  CHECK_OK(trailing.report->ToStatus());
  CHECK(trailing.warnings.Has("ova.trailing-data"));
}

TEST_CASE("reader: listing without hashing, members skipped by seeking") {
  TempDir dir;
  Appliance app;
  PackageReader::Options options;
  options.hash = false;
  ReadOutcome r = ReadPackage(Write(dir, "x.ova", app.Tar().Build()), options);
  REQUIRE_OK(r.status);
  CHECK(r.members.size() == 4);
  // Finish checks what needs no disk bytes: the descriptor's digest (it
  // is read anyway); the disks are unchecked, not mismatched.
  auto reader = PackageReader::Open(dir.Join("x.ova"), options);
  REQUIRE_OK(reader);
  auto report = (*reader)->Finish({});
  REQUIRE_OK(report);
  CHECK_OK(report->ToStatus());
  CHECK(Find(*report, "app.ovf")->status == FileStatus::kOk);
  CHECK(Find(*report, "disk1.vmdk")->status == FileStatus::kUnchecked);
  CHECK(Find(*report, "disk2.vmdk")->status == FileStatus::kUnchecked);
}

TEST_CASE("reader: without hashing, a missing listed member still fails") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  tar.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha256));
  tar.File(app.disks[0].first, app.disks[0].second);
  PackageReader::Options options;
  options.hash = false;
  auto reader = PackageReader::Open(Write(dir, "x.ova", tar.Build()), options);
  REQUIRE_OK(reader);
  auto report = (*reader)->Finish({});
  REQUIRE_OK(report);
  CHECK(report->ToStatus().message() ==
        "member 'disk2.vmdk' is listed in the manifest but missing");
}

TEST_CASE("reader: progress is told about drained members") {
  struct Recorder : Progress {
    std::vector<std::string> begun;
    uint64_t last = 0;
    void Begin(std::string_view label, uint64_t) override {
      begun.emplace_back(label);
    }
    void Update(uint64_t done) override { last = done; }
    void End() override {}
  } recorder;
  TempDir dir;
  Appliance app;
  PackageReader::Options options;
  options.progress = &recorder;
  ReadOutcome r = ReadPackage(Write(dir, "x.ova", app.Tar().Build()), options);
  CHECK_OK(r.report->ToStatus());
  CHECK(recorder.begun == std::vector<std::string>{"disk1.vmdk", "disk2.vmdk"});
  CHECK(recorder.last == app.disks[1].second.size());
}

TEST_CASE("reader: pax and GNU archives read like ustar") {
  TempDir dir;
  Appliance app;
  app.disks[0].first = std::string(120, 'd') + ".vmdk";  // needs a long name
  for (TarFormat format : {TarFormat::kPax, TarFormat::kGnu}) {
    TarBuilder tar = app.Tar(DigestAlgorithm::kSha256, format);
    auto [file, pipe] = ReadBothWays(dir, tar.Build());
    REQUIRE_OK(file.status);
    CHECK_OK(file.report->ToStatus());
    auto layout = tar.Layout();
    for (size_t i = 0; i < layout.size(); ++i) {
      CHECK(file.members[i].name == layout[i].name);
      CHECK(file.members[i].offset == layout[i].data_offset);
    }
  }
}

TEST_CASE("reader: an I/O error or a cancel stops the pass, naming where") {
  TempDir dir;
  Appliance app;
  app.disks[0].second = testing::PatternBytes(5u << 20, 9);
  std::string path = Write(dir, "x.ova", app.Tar().Build());
  // Whichever read fails -- sniffing, the read-ahead, a header, the
  // descriptor, the disk -- the outcome is a clean I/O error or, when only
  // the read-ahead failed (it then hashes with every algorithm), the right
  // verdict: never a wrong one.
  int failed = 0;
  for (uint64_t nth = 1; nth <= 12; ++nth) {
    CAPTURE(nth);
    ArmIoFault({IoOp::kRead, nth, 5});
    ReadOutcome r = ReadPackage(path);
    DisarmIoFaults();
    if (r.status.ok()) {
      CHECK_OK(r.report->ToStatus());
    } else {
      ++failed;
      CHECK(r.status.code() == ErrorCode::kFailed);
      CHECK(Message(r.status).find("Input/output error") != std::string::npos);
    }
  }
  CHECK(failed >= 5);
  RequestCancel();
  ReadOutcome c = ReadPackage(path);
  ResetCancel();
  CHECK(c.status.code() == ErrorCode::kCancelled);
  CHECK(Message(c.status).rfind("member 'disk1.vmdk': ", 0) == 0);
}

}  // namespace
}  // namespace ova2virt
