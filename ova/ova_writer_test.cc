// OvaWriter: what it writes must read back in GNU tar, Python's tarfile and
// PackageReader, byte-identical run after run.
#include "ova/ova_writer.h"

#include <sstream>

#include "core/file.h"
#include "ova/certificate_file.h"
#include "ova/test_fixtures.h"
#include "tests/support/test_pki.h"

namespace ova2virt {
namespace {

using testing::ShellQuote;
using testing::TempDir;

// A BlockSink into a file that leaves holes where it is handed the shared
// zero buffer: an 8 GiB member costs neither time nor disk.
class HoleSink : public BlockSink {
 public:
  static const std::vector<uint8_t>& Zeros() {
    static const std::vector<uint8_t> zeros(64u << 20);
    return zeros;
  }
  explicit HoleSink(File& file) : file_(file) {}
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    if (data.data() == Zeros().data()) return OkStatus();
    return file_.WriteAllAt(offset, data);
  }
  Status SetSize(uint64_t size) override { return file_.Truncate(size); }

 private:
  File& file_;
};

struct Written {
  std::string path;
  std::vector<WrittenMember> members;
};

// Writes descriptor, a streamed disk, manifest: the export's layout.
Written WriteAppliance(const TempDir& dir, const std::string& name,
                       OvaWriter::Options options = {}) {
  Written w;
  w.path = dir.Join(name);
  auto file = File::CreateExclusive(w.path);
  REQUIRE_OK(file);
  FileBlockSink sink(*file);
  OvaWriter ova(sink, options);
  testing::Appliance app;
  REQUIRE_OK(ova.AddFile(app.ovf_name(), AsBytes(app.Descriptor())));
  for (const auto& [disk, bytes] : app.disks) {
    auto stream = ova.BeginStream(disk);
    REQUIRE_OK(stream);
    // Uneven pieces, as a VMDK writer produces them.
    size_t pos = 0, piece = 1;
    while (pos < bytes.size()) {
      size_t n = std::min(piece, bytes.size() - pos);
      REQUIRE_OK(
          (*stream)->Write(AsBytes(std::string_view(bytes).substr(pos, n))));
      pos += n;
      piece = piece * 3 + 7;
    }
    REQUIRE_OK(ova.EndStream());
  }
  REQUIRE_OK(ova.AddFile(app.mf_name(),
                         AsBytes(MakeManifest(ManifestItems(ova.members()),
                                              DigestAlgorithm::kSha256))));
  REQUIRE_OK(ova.Finish());
  w.members = ova.members();
  CHECK(ova.size() % 10240 == 0);
  return w;
}

// Python's view: name, offset_data, size, mode, uid, gid, uname, mtime,
// type, and whether pax headers were used.
std::string PythonView(const std::string& path) {
  testing::CommandResult r =
      testing::RunCommand("python3 -c " + ShellQuote(R"(import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        print(m.name, m.offset_data, m.size, oct(m.mode), m.uid, m.gid,
              m.uname, m.gname, m.mtime, m.type.decode(), sorted(m.pax_headers))
)") + " " + ShellQuote(path));
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string ExpectedView(const std::vector<WrittenMember>& members,
                         uint64_t mtime = 0,
                         const std::vector<std::string>& pax = {}) {
  std::string out;
  for (size_t i = 0; i < members.size(); ++i) {
    const MemberInfo& m = members[i].info;
    out += m.name + " " + std::to_string(m.offset) + " " +
           std::to_string(m.size) + " 0o644 0 0 root root " +
           std::to_string(mtime) + " 0 " + (i < pax.size() ? pax[i] : "[]") +
           "\n";
  }
  return out;
}

TEST_CASE("writer: an OVA that every reader reads") {
  TempDir dir;
  Written w = WriteAppliance(dir, "app.ova");
  REQUIRE(w.members.size() == 4);
  CHECK(w.members[0].info.role == MemberRole::kDescriptor);
  CHECK(w.members[3].info.role == MemberRole::kManifest);
  // Python's tarfile.
  CHECK(PythonView(w.path) == ExpectedView(w.members));
  // Our reader: the same members, and a manifest that verifies.
  testing::ReadOutcome r = testing::ReadPackage(w.path);
  REQUIRE_OK(r.status);
  CHECK_OK(r.report->ToStatus());
  REQUIRE(r.members.size() == w.members.size());
  for (size_t i = 0; i < r.members.size(); ++i) {
    CHECK(r.members[i].name == w.members[i].info.name);
    CHECK(r.members[i].offset == w.members[i].info.offset);
    CHECK(r.members[i].size == w.members[i].info.size);
  }
  CHECK(r.warnings.empty());
  // GNU tar: lists and extracts the same bytes.
  REQUIRE(testing::HaveTool("tar"));
  std::string out = dir.Join("x");
  testing::CommandResult t = testing::RunCommand(
      "mkdir " + ShellQuote(out) + " && tar -xf " + ShellQuote(w.path) +
      " -C " + ShellQuote(out) + " 2>&1 && tar -tvf " + ShellQuote(w.path));
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("-rw-r--r-- root/root") != std::string::npos);
  testing::Appliance app;
  CHECK(testing::ReadFileOrDie(out + "/disk1.vmdk") == app.disks[0].second);
  CHECK(testing::ReadFileOrDie(out + "/app.ovf") == app.Descriptor());
}

TEST_CASE("writer: byte-identical run after run; a fixed mtime") {
  TempDir dir;
  Written a = WriteAppliance(dir, "a.ova");
  Written b = WriteAppliance(dir, "b.ova");
  CHECK(testing::ReadFileOrDie(a.path) == testing::ReadFileOrDie(b.path));
  OvaWriter::Options options;
  options.mtime = 1700000000;
  Written c = WriteAppliance(dir, "c.ova", options);
  CHECK(PythonView(c.path) == ExpectedView(c.members, 1700000000));
  CHECK(testing::ReadFileOrDie(a.path) != testing::ReadFileOrDie(c.path));
}

TEST_CASE("writer: pax headers only when a name needs one") {
  TempDir dir;
  std::string path = dir.Join("names.ova");
  auto file = File::CreateExclusive(path);
  REQUIRE_OK(file);
  FileBlockSink sink(*file);
  OvaWriter ova(sink);
  const std::string split = std::string(90, 'p') + "/" + std::string(90, 'q');
  const std::string long_name = std::string(200, 'l') + ".vmdk";
  const std::string utf8 = "d\xC3\xAFsk.vmdk";
  REQUIRE_OK(ova.AddFile("plain.ovf", AsBytes("<Envelope/>")));
  REQUIRE_OK(ova.AddFile(split, AsBytes("a")));
  REQUIRE_OK(ova.AddFile(long_name, AsBytes("b")));
  auto s = ova.BeginStream(utf8);
  REQUIRE_OK(s);
  REQUIRE_OK((*s)->Write(AsBytes("streamed")));
  REQUIRE_OK(ova.EndStream());
  REQUIRE_OK(ova.Finish());
  REQUIRE_OK(file->Close());
  CHECK(PythonView(path) ==
        ExpectedView(ova.members(), 0, {"[]", "[]", "['path']", "['path']"}));
  std::string bytes = testing::ReadFileOrDie(path);
  CHECK(bytes[156] == '0');  // no pax header before a short name
  auto ours = testing::ReadPackage(path, [] {
    PackageReader::Options o;
    o.hash = false;
    return o;
  }());
  REQUIRE_OK(ours.status);
  REQUIRE(ours.members.size() == 4);
  CHECK(ours.members[1].name == split);
  CHECK(ours.members[2].name == long_name);
  CHECK(ours.members[3].name == utf8);
  testing::CommandResult t = testing::RunCommand("tar -tf " + ShellQuote(path));
  REQUIRE(t.exit_code == 0);
  CHECK(t.out == "plain.ovf\n" + split + "\n" + long_name + "\n" + utf8 + "\n");
}

TEST_CASE("writer: streams over 8 GiB, with and without a size limit") {
  TempDir dir;
  std::string path = dir.Join("big.ova");
  auto file = File::CreateExclusive(path);
  REQUIRE_OK(file);
  HoleSink sink(*file);
  OvaWriter::Options options;
  options.digest.reset();  // 16 GiB of zeros need no hashing here
  OvaWriter ova(sink, options);
  const uint64_t big = (uint64_t{8} << 30) + 100;
  REQUIRE_OK(ova.AddFile("app.ovf", AsBytes("<Envelope/>")));
  for (bool limit : {true, false}) {
    auto s = ova.BeginStream(
        limit ? "reserved.vmdk" : "base256.vmdk",
        limit ? std::optional<uint64_t>(big + 1000) : std::nullopt);
    REQUIRE_OK(s);
    uint64_t left = big - 4;
    while (left > 0) {
      size_t n = static_cast<size_t>(
          std::min<uint64_t>(left, HoleSink::Zeros().size()));
      REQUIRE_OK((*s)->Write(std::span(HoleSink::Zeros()).first(n)));
      left -= n;
    }
    REQUIRE_OK((*s)->Write(AsBytes("END!")));
    REQUIRE_OK(ova.EndStream());
  }
  REQUIRE_OK(ova.AddFile("after.txt", AsBytes("after")));
  REQUIRE_OK(ova.Finish());
  CHECK(PythonView(path) ==
        ExpectedView(ova.members(), 0, {"[]", "['size']", "[]", "[]"}));
  PackageReader::Options listing;
  listing.hash = false;
  auto ours = testing::ReadPackage(path, listing);
  REQUIRE_OK(ours.status);
  REQUIRE(ours.members.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(ours.members[i].offset == ova.members()[i].info.offset);
    CHECK(ours.members[i].size == ova.members()[i].info.size);
  }
  CHECK(ours.members[1].size == big);
  testing::CommandResult t =
      testing::RunCommand("tar -tvf " + ShellQuote(path));
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find(std::to_string(big) + " 1970-01-01 00:00 reserved.vmdk") !=
        std::string::npos);
  CHECK(t.out.find(std::to_string(big) + " 1970-01-01 00:00 base256.vmdk") !=
        std::string::npos);
}

TEST_CASE("writer: manifest and signature that verify") {
  testing::TestPki pki;
  TempDir dir;
  std::string path = dir.Join("signed.ova");
  auto file = File::CreateExclusive(path);
  REQUIRE_OK(file);
  FileBlockSink sink(*file);
  OvaWriter ova(sink);
  testing::Appliance app;
  REQUIRE_OK(ova.AddFile(app.ovf_name(), AsBytes(app.Descriptor())));
  for (const auto& d : app.disks)
    REQUIRE_OK(ova.AddFile(d.first, AsBytes(d.second)));
  std::string mf =
      MakeManifest(ManifestItems(ova.members()), DigestAlgorithm::kSha256);
  CHECK(mf == app.Manifest(DigestAlgorithm::kSha256));
  auto cert =
      SignManifest(mf, app.mf_name(), pki.self_signed().key_pem,
                   pki.self_signed().cert_pem, DigestAlgorithm::kSha256);
  REQUIRE_OK(cert);
  CHECK(cert->rfind("SHA256(app.mf)= ", 0) == 0);
  REQUIRE_OK(ova.AddFile(app.mf_name(), AsBytes(mf)));
  REQUIRE_OK(ova.AddFile(app.cert_name(), AsBytes(*cert)));
  REQUIRE_OK(ova.Finish());
  VerifyOptions pinned;
  pinned.ca_pem = pki.self_signed().cert_pem;
  pinned.ca_name = "self.pem";
  testing::ReadOutcome r = testing::ReadPackage(path, {}, pinned);
  REQUIRE_OK(r.status);
  CHECK_OK(r.report->ToStatus());
  CHECK(r.report->signature.valid);
  CHECK(r.report->signature.trust == TrustStatus::kVerified);
  // The wrong key, or no certificate.
  CHECK(SignManifest(mf, "app.mf", pki.leaf().key_pem,
                     pki.self_signed().cert_pem, DigestAlgorithm::kSha256)
            .status()
            .code() == ErrorCode::kUsage);
  CHECK(SignManifest(mf, "app.mf", pki.leaf().key_pem, "not pem",
                     DigestAlgorithm::kSha256)
            .status()
            .code() == ErrorCode::kUsage);
}

TEST_CASE("writer: misuse and hostile names are refused") {
  MemoryBlockSink sink;
  OvaWriter ova(sink);
  for (const char* bad : {"../x", "/etc/passwd", "", "a\nb", "dir/", "./"}) {
    CHECK(ova.AddFile(bad, AsBytes("x")).code() == ErrorCode::kUsage);
  }
  REQUIRE_OK(ova.AddFile("a.ovf", AsBytes("x")));
  CHECK(ova.AddFile("./a.ovf", AsBytes("x")).message() ==
        "member 'a.ovf': written already");
  CHECK(ova.EndStream().code() == ErrorCode::kUsage);
  auto s = ova.BeginStream("disk.vmdk");
  REQUIRE_OK(s);
  CHECK(ova.AddFile("b", AsBytes("x")).code() == ErrorCode::kUsage);
  CHECK(ova.Finish().code() == ErrorCode::kUsage);
  REQUIRE_OK(ova.EndStream());
  REQUIRE_OK(ova.Finish());
  CHECK(ova.AddFile("c", AsBytes("x")).code() == ErrorCode::kUsage);
  CHECK(sink.str().size() == 10240);
}

}  // namespace
}  // namespace ova2virt
