// OvaWriter::ReserveFile/FillReserved: the export's layout, where the
// descriptor, manifest and certificate come first but are known only after
// the disks behind them are written.
#include <algorithm>

#include "core/file.h"
#include "ova/ova_writer.h"
#include "ova/test_fixtures.h"
#include "tests/support/test_pki.h"

namespace ova2virt {
namespace {

using testing::ShellQuote;
using testing::TempDir;

std::string PadTo(std::string s, size_t size) {
  REQUIRE(s.size() <= size);
  s.append(size - s.size(), ' ');
  return s;
}

// Python's tarfile: the member names in archive order.
std::string PythonNames(const std::string& path) {
  testing::CommandResult r =
      testing::RunCommand("python3 -c " + ShellQuote(R"(import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print(" ".join(t.getnames()))
)") + " " + ShellQuote(path));
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Writes the descriptor, manifest and certificate first as reservations,
// the disks after them, and fills the three in place at the end.
void WriteSignedFirst(const std::string& path, const testing::KeyPair& signer,
                      size_t cert_slack) {
  auto file = File::CreateExclusive(path);
  REQUIRE_OK(file);
  FileBlockSink sink(*file);
  OvaWriter ova(sink);
  testing::Appliance app;
  const std::string descriptor = app.Descriptor();
  // Room for more than the descriptor needs: the rest is padding.
  auto ovf = ova.ReserveFile(app.ovf_name(), descriptor.size() + 100);
  REQUIRE_OK(ovf);
  // The manifest's size is known before any digest: one line per file,
  // every digest of the same length.
  std::vector<ManifestItem> placeholder = {
      {app.ovf_name(), std::string(64, '0')}};
  for (const auto& d : app.disks) {
    placeholder.push_back({d.first, std::string(64, '0')});
  }
  std::string mf_shape = MakeManifest(placeholder, DigestAlgorithm::kSha256);
  auto mf = ova.ReserveFile(app.mf_name(), mf_shape.size());
  REQUIRE_OK(mf);
  auto trial = SignManifest(mf_shape, app.mf_name(), signer.key_pem,
                            signer.cert_pem, DigestAlgorithm::kSha256);
  REQUIRE_OK(trial);
  auto cert = ova.ReserveFile(app.cert_name(), trial->size() + cert_slack);
  REQUIRE_OK(cert);
  for (const auto& [name, bytes] : app.disks) {
    auto stream = ova.BeginStream(name);
    REQUIRE_OK(stream);
    REQUIRE_OK((*stream)->Write(AsBytes(bytes)));
    REQUIRE_OK(ova.EndStream());
  }
  REQUIRE_OK(ova.Finish());
  // Now the real content, in place.
  std::string padded = PadTo(descriptor, descriptor.size() + 100);
  REQUIRE_OK(ova.FillReserved(*ovf, AsBytes(padded)));
  std::string manifest =
      MakeManifest(ManifestItems(ova.members()), DigestAlgorithm::kSha256);
  CHECK(manifest.size() == mf_shape.size());
  CHECK(manifest.rfind("SHA256(" + app.ovf_name() + ")= ", 0) == 0);
  REQUIRE_OK(ova.FillReserved(*mf, AsBytes(manifest)));
  auto signed_text = SignManifest(manifest, app.mf_name(), signer.key_pem,
                                  signer.cert_pem, DigestAlgorithm::kSha256);
  REQUIRE_OK(signed_text);
  REQUIRE_OK(ova.FillReserved(
      *cert, AsBytes(PadTo(*signed_text, trial->size() + cert_slack))));
  // Filled once only.
  CHECK(ova.FillReserved(*mf, AsBytes(manifest)).code() == ErrorCode::kUsage);
}

TEST_CASE("writer: reserved members filled after the disks verify") {
  testing::TestPki pki;
  TempDir dir;
  testing::Appliance app;
  // RSA signatures have a fixed size; an EC one varies by a few bytes, so
  // its reservation leaves room that ends as padding.
  struct Case {
    const testing::KeyPair* signer;
    size_t slack;
  };
  for (Case c :
       {Case{&pki.self_signed(), 0}, Case{&pki.ec_self_signed(), 16}}) {
    std::string path = dir.Join("signed-first.ova");
    std::remove(path.c_str());
    WriteSignedFirst(path, *c.signer, c.slack);
    // The order ovftool writes: descriptor, manifest, certificate, disks.
    std::string expected =
        app.ovf_name() + " " + app.mf_name() + " " + app.cert_name();
    for (const auto& d : app.disks) expected += " " + d.first;
    CHECK(PythonNames(path) == expected + "\n");
    VerifyOptions pinned;
    pinned.ca_pem = c.signer->cert_pem;
    pinned.ca_name = "signer.pem";
    testing::ReadOutcome r = testing::ReadPackage(path, {}, pinned);
    REQUIRE_OK(r.status);
    CHECK_OK(r.report->ToStatus());
    CHECK(r.report->signature.valid);
    CHECK(r.report->signature.trust == TrustStatus::kVerified);
  }
}

TEST_CASE("writer: reservations refuse the wrong size and unknown indexes") {
  MemoryBlockSink sink;
  OvaWriter ova(sink);
  auto r = ova.ReserveFile("a.ovf", 10);
  REQUIRE_OK(r);
  CHECK(ova.FillReserved(*r, AsBytes("too short")).message() ==
        "member 'a.ovf': 9 bytes for a 10-byte reservation");
  CHECK(ova.FillReserved(*r + 1, AsBytes("0123456789")).code() ==
        ErrorCode::kUsage);
  REQUIRE_OK(ova.AddFile("b.vmdk", AsBytes("disk")));
  // An ordinary member is not a reservation.
  CHECK(ova.FillReserved(1, AsBytes("disk")).code() == ErrorCode::kUsage);
  CHECK(ova.ReserveFile("../x", 1).status().code() == ErrorCode::kUsage);
  // Unfilled, the reservation holds zeros and has no digest yet.
  CHECK(ova.members()[0].digest.empty());
  CHECK(ManifestItems(ova.members()).size() == 1);
  REQUIRE_OK(ova.FillReserved(*r, AsBytes("0123456789")));
  CHECK(ova.members()[0].digest.size() == 64);
  REQUIRE_OK(ova.Finish());
  CHECK(sink.str().substr(512, 10) == "0123456789");
}

}  // namespace
}  // namespace ova2virt
