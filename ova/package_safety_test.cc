// Hostile packages: every one must fail with kCorrupt (or kUnsupported) and
// a one-line message naming the member, from a file and from a pipe alike.
#include <cstring>

#include "ova/package_reader.h"
#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::Appliance;
using testing::Message;
using testing::ReadOutcome;
using testing::ReadPackage;
using testing::TarBuilder;
using testing::TarFormat;
using testing::TarMember;
using testing::TempDir;
using testing::ThroughPipe;

// The reader's verdict on `bytes` read from a file and through a pipe.
std::pair<Status, Status> Verdicts(const TempDir& dir, const std::string& bytes,
                                   PackageReader::Options options = {}) {
  auto verdict = [&](const ReadOutcome& r) {
    if (!r.status.ok()) return r.status;
    return r.report->ToStatus();
  };
  std::string path = dir.Join("x.ova");
  testing::WriteFileOrDie(path, bytes);
  Status file = verdict(ReadPackage(path, options));
  Status pipe = ThroughPipe(dir, bytes, [&](const std::string& p) {
    return verdict(ReadPackage(p, options));
  });
  return {file, pipe};
}

// Both verdicts are exactly `message`, with code `code`.
void ExpectBoth(const TempDir& dir, const std::string& bytes,
                const std::string& message,
                ErrorCode code = ErrorCode::kCorrupt,
                PackageReader::Options options = {}) {
  auto [file, pipe] = Verdicts(dir, bytes, options);
  CHECK(file.code() == code);
  CHECK(pipe.code() == code);
  CHECK(Message(file) == message);
  CHECK(Message(pipe) == message);
}

// A package with `hostile` added after the descriptor.
std::string WithMember(TarMember hostile,
                       TarFormat format = TarFormat::kUstar) {
  Appliance app;
  TarBuilder tar = app.Tar(DigestAlgorithm::kSha256, format);
  tar.Add(std::move(hostile));
  return tar.Build();
}

TarMember Named(std::string name, std::string data = "x") {
  TarMember m;
  m.name = std::move(name);
  m.data = std::move(data);
  return m;
}

TEST_CASE("safety: absolute paths and '..' components") {
  TempDir dir;
  ExpectBoth(dir, WithMember(Named("/etc/passwd")),
             "member '/etc/passwd': absolute path");
  ExpectBoth(dir, WithMember(Named("../evil.vmdk")),
             "member '../evil.vmdk': '..' component");
  ExpectBoth(dir, WithMember(Named("a/../../evil")),
             "member 'a/../../evil': '..' component");
  ExpectBoth(dir, WithMember(Named("C:evil")),
             "member 'C:evil': absolute path");
  ExpectBoth(dir, WithMember(Named("dir\\..\\evil")),
             "member 'dir\\\\..\\\\evil': name contains a backslash");
  // A long name only pax or GNU can carry is checked the same way.
  std::string deep = std::string(150, 'a') + "/../../../../etc/cron.d/x";
  ExpectBoth(dir, WithMember(Named(deep), TarFormat::kPax),
             "member " + Quote(deep) + ": '..' component");
  ExpectBoth(dir, WithMember(Named(deep), TarFormat::kGnu),
             "member " + Quote(deep) + ": '..' component");
  TarMember pax_path = Named("innocent.vmdk");
  pax_path.pax_records = {{"path", "/etc/shadow"}};
  ExpectBoth(dir, WithMember(pax_path, TarFormat::kPax),
             "member '/etc/shadow': absolute path");
}

TEST_CASE("safety: links, devices and fifos") {
  TempDir dir;
  TarMember link;
  link.name = "disk3.vmdk";
  link.type = '2';
  link.linkname = "/etc/shadow";
  ExpectBoth(dir, WithMember(link),
             "member 'disk3.vmdk': symbolic link to '/etc/shadow' (only "
             "regular files are allowed)");
  link.type = '1';
  link.linkname = "disk1.vmdk";
  ExpectBoth(dir, WithMember(link),
             "member 'disk3.vmdk': hard link to 'disk1.vmdk' (only regular "
             "files are allowed)");
  for (auto [type, what] :
       {std::pair{'3', "character device"}, std::pair{'4', "block device"},
        std::pair{'6', "fifo"}}) {
    TarMember dev;
    dev.name = "dev";
    dev.type = type;
    ExpectBoth(dir, WithMember(dev),
               "member 'dev': " + std::string(what) +
                   " (only regular files are allowed)");
  }
}

TEST_CASE("safety: duplicate names, also after normalization") {
  TempDir dir;
  Appliance app;
  auto layout = app.Tar().Layout();
  auto first_at = [&](size_t i) {
    return " (first at byte " + std::to_string(layout[i].header_offset) + ")";
  };
  ExpectBoth(dir, WithMember(Named("disk1.vmdk", "other bytes")),
             "member 'disk1.vmdk': duplicate name" + first_at(2));
  ExpectBoth(dir, WithMember(Named("./disk2.vmdk")),
             "member './disk2.vmdk': duplicate name" + first_at(3));
  ExpectBoth(dir, WithMember(Named("app.ovf", app.Descriptor())),
             "member 'app.ovf': duplicate name" + first_at(0));
}

TEST_CASE("safety: control characters in names") {
  TempDir dir;
  ExpectBoth(dir, WithMember(Named("evil\nname.vmdk")),
             "member 'evil\\x0aname.vmdk': name contains control characters");
  ExpectBoth(dir, WithMember(Named("\x1b[2Jclear.vmdk")),
             "member '\\x1b[2Jclear.vmdk': name contains control characters");
  TarMember pax_control = Named("x.vmdk");
  pax_control.pax_records = {{"path", "a\tb.vmdk"}};
  ExpectBoth(dir, WithMember(pax_control, TarFormat::kPax),
             "member 'a\\x09b.vmdk': name contains control characters");
  // libarchive ends a pax path at a NUL (as ustar fields end there), so
  // what follows it is never seen; what comes before is judged as usual.
  TarMember nul = Named("x.vmdk");
  nul.pax_records = {{"path", std::string("../\0innocent.vmdk", 18)}};
  ExpectBoth(dir, WithMember(nul, TarFormat::kPax),
             "member '../': '..' component");
}

TEST_CASE("safety: sizes beyond the archive, huge and negative") {
  TempDir dir;
  for (TarFormat format : {TarFormat::kPax, TarFormat::kGnu}) {
    TarMember huge = Named("huge.vmdk", "tiny");
    huge.declared_size = uint64_t{1} << 40;
    std::string bytes = WithMember(huge, format);
    auto [file, pipe] = Verdicts(dir, bytes);
    CHECK(file.code() == ErrorCode::kCorrupt);
    CHECK(pipe.code() == ErrorCode::kCorrupt);
    // The same words whether the file's size or a dry pipe showed it.
    CHECK(Message(file) == Message(pipe));
    CHECK(Message(file).rfind("member 'huge.vmdk' at byte ", 0) == 0);
    CHECK(Message(file).find(": archive is truncated (the member's "
                             "1099511627776 bytes run past its end at byte " +
                             std::to_string(bytes.size()) + ")") !=
          std::string::npos);
  }
  // A GNU base-256 size with every bit set: negative, or absurd.
  std::string bytes = WithMember(Named("neg.vmdk", "x"), TarFormat::kGnu);
  Appliance app;
  size_t header = app.Tar().Layout().back().header_offset + 512 +
                  ((app.disks.back().second.size() + 511) / 512) * 512;
  REQUIRE(bytes.substr(header, 8) == "neg.vmdk");
  for (int i = 0; i < 12; ++i) bytes[header + 124 + i] = '\xff';
  unsigned sum = 0;
  std::memset(&bytes[header + 148], ' ', 8);
  for (int i = 0; i < 512; ++i)
    sum += static_cast<unsigned char>(bytes[header + i]);
  std::snprintf(&bytes[header + 148], 8, "%06o", sum);
  auto [file, pipe] = Verdicts(dir, bytes);
  CHECK(file.code() == ErrorCode::kCorrupt);
  CHECK(pipe.code() == ErrorCode::kCorrupt);
}

TEST_CASE("safety: truncated archives") {
  TempDir dir;
  Appliance app;
  TarBuilder tar = app.Tar();
  std::string bytes = tar.Build();
  auto layout = tar.Layout();
  // Inside the first disk's data.
  std::string cut = bytes.substr(0, layout[2].data_offset + 1000);
  auto [file, pipe] = Verdicts(dir, cut);
  CHECK(file.code() == ErrorCode::kCorrupt);
  CHECK(pipe.code() == ErrorCode::kCorrupt);
  CHECK(Message(file) == Message(pipe));
  CHECK(Message(file) ==
        "member 'disk1.vmdk' at byte " + std::to_string(layout[2].data_offset) +
            ": archive is truncated (the member's 70000 bytes run past its "
            "end at byte " +
            std::to_string(cut.size()) + ")");
  // Inside a header.
  std::string in_header = bytes.substr(0, layout[3].header_offset + 100);
  auto [hf, hp] = Verdicts(dir, in_header);
  CHECK(hf.code() == ErrorCode::kCorrupt);
  CHECK(Message(hf) == Message(hp));
  CHECK(Message(hf).find("truncated") != std::string::npos);
  // Inside the descriptor, which the reader reads itself.
  auto [df, dp] = Verdicts(dir, bytes.substr(0, 700));
  CHECK(df.code() == ErrorCode::kCorrupt);
  CHECK(dp.code() == ErrorCode::kCorrupt);
  CHECK(Message(dp).rfind("member 'app.ovf'", 0) == 0);
  CHECK(Message(df).rfind("member 'app.ovf'", 0) == 0);
}

TEST_CASE("safety: a damaged header") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  TarMember bad = Named("disk1.vmdk", app.disks[0].second);
  bad.bad_checksum = true;
  tar.Add(bad);
  ExpectBoth(dir, tar.Build(),
             "at byte " + std::to_string(tar.Layout()[1].header_offset) +
                 ": damaged tar header (bad checksum or not a header)");
}

TEST_CASE("safety: caps on descriptor, manifest and certificate") {
  TempDir dir;
  Appliance app;
  PackageReader::Options small;
  small.max_descriptor_bytes = 100;
  ExpectBoth(dir, app.Tar().Build(),
             "member 'app.ovf': descriptor of " +
                 std::to_string(app.Descriptor().size()) +
                 " bytes exceeds the limit of 100 bytes",
             ErrorCode::kCorrupt, small);
  small = {};
  small.max_manifest_bytes = 64;
  ExpectBoth(dir, app.Tar().Build(),
             "member 'app.mf': manifest of " +
                 std::to_string(app.Manifest(DigestAlgorithm::kSha256).size()) +
                 " bytes exceeds the limit of 64 bytes",
             ErrorCode::kCorrupt, small);
  TarBuilder tar = app.Tar();
  tar.File(app.cert_name(), std::string(5u << 20, ' '));
  ExpectBoth(dir, tar.Build(),
             "member 'app.cert': certificate of 5242880 bytes exceeds the "
             "limit of 4194304 bytes");
  // The default descriptor cap is 32 MiB.
  TarBuilder big;
  big.File("big.ovf", std::string((32u << 20) + 1, ' '));
  ExpectBoth(dir, big.Build(),
             "member 'big.ovf': descriptor of 33554433 bytes exceeds the "
             "limit of 33554432 bytes");
}

TEST_CASE("safety: hrefs that leave the package") {
  TempDir dir;
  for (const char* href :
       {"../../etc/passwd", "/etc/passwd", "file:///etc/passwd",
        "http://evil.example/x.vmdk", "%2e%2e/x"}) {
    Appliance app;
    app.extra_hrefs = {href};
    auto [file, pipe] = Verdicts(dir, app.Tar().Build());
    CHECK(file.code() == ErrorCode::kCorrupt);
    CHECK(Message(file) == Message(pipe));
    CHECK(Message(file).rfind("href " + Quote(href) + " leaves the package: ",
                              0) == 0);
  }
}

TEST_CASE("safety: hostile manifests") {
  TempDir dir;
  Appliance app;
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  tar.File(app.mf_name(), "SHA256(../../etc/passwd)= " + std::string(64, '0'));
  ExpectBoth(dir, tar.Build(),
             "member 'app.mf': line 1: member '../../etc/passwd': '..' "
             "component");
  TarBuilder garbage;
  garbage.File(app.ovf_name(), app.Descriptor());
  garbage.File(app.mf_name(), std::string("\x89PNG\r\n", 6));
  ExpectBoth(dir, garbage.Build(),
             "member 'app.mf': line 1, column 1: invalid UTF-8: 0x89 is a "
             "continuation byte with no lead byte");
  TarBuilder text;
  text.File(app.ovf_name(), app.Descriptor());
  text.File(app.mf_name(), "PNG\r\n");
  ExpectBoth(dir, text.Build(),
             "member 'app.mf': line 1: not a manifest entry: 'PNG'");
}

TEST_CASE("safety: reading never writes") {
  TempDir dir;
  Appliance app;
  TarBuilder tar = app.Tar();
  tar.File("../escape.txt", "x");
  std::string path = dir.Join("x.ova");
  testing::WriteFileOrDie(path, tar.Build());
  auto before = dir.List();
  ReadOutcome r = ReadPackage(path);
  CHECK(r.status.code() == ErrorCode::kCorrupt);
  CHECK(dir.List() == before);
}

}  // namespace
}  // namespace ova2virt
