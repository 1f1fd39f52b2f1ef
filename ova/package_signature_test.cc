// Signed packages: the .cert member's signature over the manifest, the
// signer's certificate, and its chain when trust anchors are given.
#include "core/crypto.h"
#include "ova/certificate_file.h"
#include "ova/package_reader.h"
#include "ova/test_fixtures.h"
#include "tests/support/test_pki.h"

namespace ova2virt {
namespace {

using testing::Appliance;
using testing::KeyPair;
using testing::Message;
using testing::ReadOutcome;
using testing::ReadPackage;
using testing::TarBuilder;
using testing::TempDir;
using testing::TestPki;
using testing::ThroughPipe;

std::string Sign(const KeyPair& signer, const std::string& manifest,
                 const std::string& chain_pem = "",
                 DigestAlgorithm algo = DigestAlgorithm::kSha256) {
  auto sig = SignData(signer.key_pem, algo, AsBytes(manifest));
  REQUIRE_OK(sig);
  return FormatCertificateFile(algo, "app.mf", *sig,
                               signer.cert_pem + chain_pem);
}

// descriptor, manifest, certificate, disks -- or with manifest and
// certificate at the end, as OVF 2.0 allows streaming producers.
std::string SignedOva(const Appliance& app, const std::string& manifest,
                      const std::string& cert, bool at_end = false) {
  TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  if (!at_end) tar.File(app.mf_name(), manifest).File(app.cert_name(), cert);
  for (const auto& d : app.disks) tar.File(d.first, d.second);
  if (at_end) tar.File(app.mf_name(), manifest).File(app.cert_name(), cert);
  return tar.Build();
}

ReadOutcome ReadBytes(const TempDir& dir, const std::string& bytes,
                      const VerifyOptions& verify = {}) {
  std::string path = dir.Join("signed.ova");
  testing::WriteFileOrDie(path, bytes);
  ReadOutcome file = ReadPackage(path, {}, verify);
  ReadOutcome pipe = ThroughPipe(dir, bytes, [&](const std::string& p) {
    return ReadPackage(p, {}, verify);
  });
  REQUIRE_OK(file.status);
  REQUIRE_OK(pipe.status);
  CHECK(Message(file.report->ToStatus()) == Message(pipe.report->ToStatus()));
  return file;
}

VerifyOptions Anchors(const KeyPair& ca, const std::string& name) {
  VerifyOptions v;
  v.ca_pem = ca.cert_pem;
  v.ca_name = name;
  return v;
}

TEST_CASE("signature: a self-signed package verifies and names its signer") {
  TestPki pki;
  TempDir dir;
  Appliance app;
  std::string mf = app.Manifest(DigestAlgorithm::kSha256);
  for (bool at_end : {false, true}) {
    ReadOutcome r =
        ReadBytes(dir, SignedOva(app, mf, Sign(pki.self_signed(), mf), at_end));
    CHECK_OK(r.report->ToStatus());
    const SignatureCheck& sig = r.report->signature;
    CHECK(sig.present);
    CHECK(sig.valid);
    CHECK(sig.member == "app.cert");
    CHECK(sig.algorithm == DigestAlgorithm::kSha256);
    REQUIRE(sig.signer.has_value());
    CHECK(sig.signer->subject == "O=ova2virt,CN=ova2virt test signer");
    CHECK(sig.signer->self_signed);
    CHECK(sig.trust == TrustStatus::kNotChecked);
    CHECK_FALSE(sig.expired);
    CHECK(r.report->warnings.Has("signature.self-signed"));
    CHECK_FALSE(r.report->warnings.Has("signature.weak-digest"));
  }
  // ECDSA and SHA512 too.
  ReadOutcome ec = ReadBytes(dir, SignedOva(app, mf,
                                            Sign(pki.ec_self_signed(), mf, "",
                                                 DigestAlgorithm::kSha512)));
  CHECK_OK(ec.report->ToStatus());
  CHECK(ec.report->signature.signer->key == "EC 256");
}

TEST_CASE("signature: a tampered manifest or signature fails") {
  TestPki pki;
  TempDir dir;
  Appliance app;
  std::string mf = app.Manifest(DigestAlgorithm::kSha256);
  std::string cert = Sign(pki.self_signed(), mf);
  // The manifest still matches the files, but not what was signed.
  ReadOutcome edited = ReadBytes(dir, SignedOva(app, mf + "\n", cert));
  CHECK(Message(edited.report->ToStatus()) ==
        "member 'app.cert': signature does not match (manifest 'app.mf')");
  CHECK_FALSE(edited.report->signature.valid);
  std::string bad_sig = cert;
  bad_sig[20] = bad_sig[20] == '0' ? '1' : '0';
  ReadOutcome flipped = ReadBytes(dir, SignedOva(app, mf, bad_sig));
  CHECK(flipped.report->ToStatus().code() == ErrorCode::kCorrupt);
  // Another key's signature with this certificate.
  auto other =
      SignData(pki.leaf().key_pem, DigestAlgorithm::kSha256, AsBytes(mf));
  REQUIRE_OK(other);
  ReadOutcome wrong_key = ReadBytes(
      dir,
      SignedOva(app, mf,
                FormatCertificateFile(DigestAlgorithm::kSha256, "app.mf",
                                      *other, pki.self_signed().cert_pem)));
  CHECK(wrong_key.report->ToStatus().code() == ErrorCode::kCorrupt);
  // A disk changed after signing: the digest check names the disk first.
  Appliance changed = app;
  changed.disks[0].second[5] ^= 1;
  ReadOutcome disk = ReadBytes(dir, SignedOva(changed, mf, cert));
  CHECK(Message(disk.report->ToStatus()) ==
        "member 'disk1.vmdk': SHA256 digest mismatch");
  CHECK(disk.report->signature.valid);
}

TEST_CASE("signature: chains verify against --ca anchors") {
  TestPki pki;
  TempDir dir;
  Appliance app;
  std::string mf = app.Manifest(DigestAlgorithm::kSha256);
  std::string ova =
      SignedOva(app, mf, Sign(pki.leaf(), mf, pki.intermediate().cert_pem));

  ReadOutcome plain = ReadBytes(dir, ova);
  CHECK_OK(plain.report->ToStatus());
  CHECK(plain.report->warnings.Has("signature.not-verified"));
  CHECK(plain.report->signature.intermediates.size() == 1);

  ReadOutcome trusted = ReadBytes(dir, ova, Anchors(pki.root(), "root.pem"));
  CHECK_OK(trusted.report->ToStatus());
  CHECK(trusted.report->signature.trust == TrustStatus::kVerified);

  ReadOutcome untrusted =
      ReadBytes(dir, ova, Anchors(pki.other_root(), "other.pem"));
  CHECK(Message(untrusted.report->ToStatus()) ==
        "member 'app.cert': certificate chain does not verify: unable to get "
        "local issuer certificate (anchors 'other.pem')");
  CHECK(untrusted.report->signature.trust == TrustStatus::kFailed);

  // The signer's own certificate as the anchor: self-signed packages can
  // be pinned.
  std::string self = SignedOva(app, mf, Sign(pki.self_signed(), mf));
  ReadOutcome pinned = ReadBytes(dir, self, Anchors(pki.self_signed(), "me"));
  CHECK_OK(pinned.report->ToStatus());
}

TEST_CASE("signature: --ca demands a signature covering every member") {
  TestPki pki;
  TempDir dir;
  Appliance app;
  TarBuilder unsigned_tar = app.Tar();
  ReadOutcome r =
      ReadBytes(dir, unsigned_tar.Build(), Anchors(pki.root(), "root.pem"));
  CHECK(Message(r.report->ToStatus()) ==
        "the package is not signed (--ca was given)");

  std::string mf = app.Manifest(DigestAlgorithm::kSha256, false);
  std::string ova = SignedOva(app, mf, Sign(pki.self_signed(), mf));
  ReadOutcome lax = ReadBytes(dir, ova);
  CHECK_OK(lax.report->ToStatus());
  bool said = false;
  for (const Diagnostic& d : lax.report->warnings.items()) {
    said |=
        d.id == "manifest.not-listed" &&
        d.message.find("the signature does not cover it") != std::string::npos;
  }
  CHECK(said);
  ReadOutcome strict = ReadBytes(dir, ova, Anchors(pki.self_signed(), "me"));
  CHECK(Message(strict.report->ToStatus()) ==
        "member 'app.ovf' is not covered by the signed manifest (--ca was "
        "given)");
}

TEST_CASE("signature: expiry and odd certificate members") {
  TestPki pki;
  TempDir dir;
  Appliance app;
  std::string mf = app.Manifest(DigestAlgorithm::kSha256);
  std::string ova = SignedOva(app, mf, Sign(pki.self_signed(), mf));
  VerifyOptions later;
  later.now = int64_t{4102444800};  // 2100-01-01
  ReadOutcome expired = ReadBytes(dir, ova, later);
  CHECK_OK(expired.report->ToStatus());
  CHECK(expired.report->signature.expired);
  CHECK(expired.report->warnings.Has("signature.expired"));
  VerifyOptions earlier;
  earlier.now = 0;
  ReadOutcome early = ReadBytes(dir, ova, earlier);
  CHECK(early.report->signature.not_yet_valid);
  CHECK(early.report->warnings.Has("signature.not-yet-valid"));

  // A certificate member but no manifest.
  TarBuilder no_mf;
  no_mf.File(app.ovf_name(), app.Descriptor());
  no_mf.File(app.cert_name(), Sign(pki.self_signed(), mf));
  for (const auto& d : app.disks) no_mf.File(d.first, d.second);
  ReadOutcome lonely = ReadBytes(dir, no_mf.Build());
  CHECK(Message(lonely.report->ToStatus()) ==
        "member 'app.cert': the package has no manifest for the signature "
        "to cover");
  // A certificate member that is not one.
  ReadOutcome junk = ReadBytes(dir, SignedOva(app, mf, "hello\n"));
  CHECK(Message(junk.report->ToStatus()) ==
        "member 'app.cert': signature line is not 'ALGO(manifest)= "
        "signature'");
  // The signature line names another manifest: verified all the same.
  auto sig = SignData(pki.self_signed().key_pem, DigestAlgorithm::kSha256,
                      AsBytes(mf));
  REQUIRE_OK(sig);
  ReadOutcome named = ReadBytes(
      dir, SignedOva(app, mf,
                     FormatCertificateFile(DigestAlgorithm::kSha256, "other.mf",
                                           *sig, pki.self_signed().cert_pem)));
  CHECK_OK(named.report->ToStatus());
  CHECK(named.report->warnings.Has("signature.other-file"));
}

TEST_CASE("signature: the corpus's ovftool packages are signed with SHA1") {
  for (const char* name : {"ova/vboxvk_tdAppliance1-t4.ova",
                           "ova/vboxvk_tdAppliance1-t4-ovftool-4.1.0.ova"}) {
    INFO(name);
    ReadOutcome r = ReadPackage(testing::CorpusPath(name));
    REQUIRE_OK(r.status);
    CHECK_OK(r.report->ToStatus());
    const SignatureCheck& sig = r.report->signature;
    CHECK(sig.valid);
    CHECK(sig.algorithm == DigestAlgorithm::kSha1);
    CHECK(sig.signer->subject.find("CN=beispiel.example.org") !=
          std::string::npos);
    CHECK(sig.signer->self_signed);
    CHECK(r.report->warnings.Has("signature.weak-digest"));
    CHECK(r.report->warnings.Has("signature.self-signed"));
  }
  // ovftool 4.0 left the descriptor out of the manifest: the signature
  // does not cover it, and --ca says so.
  ReadOutcome t4 =
      ReadPackage(testing::CorpusPath("ova/vboxvk_tdAppliance1-t4.ova"));
  CHECK(t4.report->warnings.Has("manifest.not-listed"));
  std::string cert_text = testing::ReadFileOrDie(
      testing::CorpusPath("cert/vboxvk_tdAppliance1-t4.cert"));
  VerifyOptions pin;
  pin.ca_pem = cert_text;
  pin.ca_name = "t4.cert";
  ReadOutcome strict = ReadPackage(
      testing::CorpusPath("ova/vboxvk_tdAppliance1-t4.ova"), {}, pin);
  CHECK(Message(strict.report->ToStatus()) ==
        "member 'tdAppliance1-t4.ovf' is not covered by the signed manifest "
        "(--ca was given)");
  ReadOutcome strict41 = ReadPackage(
      testing::CorpusPath("ova/vboxvk_tdAppliance1-t4-ovftool-4.1.0.ova"), {},
      pin);
  CHECK_OK(strict41.report->ToStatus());
  CHECK(strict41.report->signature.trust == TrustStatus::kVerified);
}

}  // namespace
}  // namespace ova2virt
