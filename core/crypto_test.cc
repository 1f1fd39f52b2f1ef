#include "core/crypto.h"

#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

using testing::CorpusPath;
using testing::ReadFileOrDie;
using testing::TestPki;

// The corpus's signed ovftool package: a SHA1 signature line, then a
// self-signed certificate, then space padding to 100 KiB.
struct CorpusSignature {
  std::string manifest;
  std::vector<uint8_t> signature;
  std::string cert_text;
};

CorpusSignature LoadCorpusT4() {
  CorpusSignature s;
  s.manifest = ReadFileOrDie(CorpusPath("mf/vboxvk_tdAppliance1-t4.mf"));
  s.cert_text = ReadFileOrDie(CorpusPath("cert/vboxvk_tdAppliance1-t4.cert"));
  std::string first = s.cert_text.substr(0, s.cert_text.find('\n'));
  REQUIRE(first.rfind("SHA1(tdAppliance1-t4.mf)= ", 0) == 0);
  auto sig = FromHex(first.substr(first.find("= ") + 2));
  REQUIRE(sig.has_value());
  s.signature = *sig;
  return s;
}

TEST_CASE("crypto: the corpus certificate describes itself") {
  CorpusSignature t4 = LoadCorpusT4();
  auto cert = Certificate::ParsePem(t4.cert_text);
  REQUIRE_OK(cert);
  const CertificateInfo& info = cert->info();
  CHECK(info.subject ==
        "CN=beispiel.example.org,O=Beispiel GmbH,L=For Instance,ST=Example,"
        "C=DE");
  CHECK(info.issuer == info.subject);
  CHECK(info.self_signed);
  CHECK(FormatUtcTime(info.not_before) == "2016-02-01T01:45:27Z");
  CHECK(FormatUtcTime(info.not_after) == "2046-01-24T01:45:27Z");
  CHECK(info.key == "RSA 1024");
  CHECK(info.serial == "c4cc0bf54fb45bcc");
  CHECK(info.sha256_fingerprint.size() == 64);
  CHECK(cert->ValidAt(info.not_before));
  CHECK_FALSE(cert->ValidAt(info.not_after + 1));
}

TEST_CASE("crypto: the corpus signature covers the padded manifest, SHA1") {
  CorpusSignature t4 = LoadCorpusT4();
  auto cert = Certificate::ParsePem(t4.cert_text);
  REQUIRE_OK(cert);
  // The manifest is signed as stored, padding included.
  CHECK_OK(VerifySignature(*cert, DigestAlgorithm::kSha1, AsBytes(t4.manifest),
                           t4.signature));
  Status wrong_algo = VerifySignature(*cert, DigestAlgorithm::kSha256,
                                      AsBytes(t4.manifest), t4.signature);
  CHECK(wrong_algo.code() == ErrorCode::kCorrupt);
  std::string trimmed =
      t4.manifest.substr(0, t4.manifest.find_last_not_of(" \n") + 1);
  CHECK(VerifySignature(*cert, DigestAlgorithm::kSha1, AsBytes(trimmed),
                        t4.signature)
            .code() == ErrorCode::kCorrupt);
  std::string flipped = t4.manifest;
  flipped[10] ^= 1;
  Status bad = VerifySignature(*cert, DigestAlgorithm::kSha1, AsBytes(flipped),
                               t4.signature);
  CHECK(bad.code() == ErrorCode::kCorrupt);
  CHECK(bad.message() == "signature does not match");
  std::vector<uint8_t> sig = t4.signature;
  sig.back() ^= 0x80;
  CHECK(
      VerifySignature(*cert, DigestAlgorithm::kSha1, AsBytes(t4.manifest), sig)
          .code() == ErrorCode::kCorrupt);
}

TEST_CASE("crypto: sign and verify with RSA and EC keys, every digest") {
  TestPki pki;
  const std::string data = "SHA256(disk1.vmdk)= 00\n";
  for (const auto* kp : {&pki.self_signed(), &pki.ec_self_signed()}) {
    auto cert = Certificate::ParsePem(kp->cert_pem);
    REQUIRE_OK(cert);
    CHECK(cert->info().self_signed);
    for (DigestAlgorithm a : kAllDigests) {
      auto sig = SignData(kp->key_pem, a, AsBytes(data));
      REQUIRE_OK(sig);
      CHECK_OK(VerifySignature(*cert, a, AsBytes(data), *sig));
      CHECK(VerifySignature(*cert, a, AsBytes(data + " "), *sig).code() ==
            ErrorCode::kCorrupt);
    }
    auto match = KeyMatchesCertificate(kp->key_pem, *cert);
    REQUIRE_OK(match);
    CHECK(*match);
  }
  auto rsa_cert = Certificate::ParsePem(pki.self_signed().cert_pem);
  REQUIRE_OK(rsa_cert);
  CHECK(rsa_cert->info().key == "RSA 2048");
  CHECK(rsa_cert->info().subject == "O=ova2virt,CN=ova2virt test signer");
  auto other = KeyMatchesCertificate(pki.ec_self_signed().key_pem, *rsa_cert);
  REQUIRE_OK(other);
  CHECK_FALSE(*other);
  // A signature by another key does not verify.
  auto sig =
      SignData(pki.leaf().key_pem, DigestAlgorithm::kSha256, AsBytes(data));
  REQUIRE_OK(sig);
  CHECK(
      VerifySignature(*rsa_cert, DigestAlgorithm::kSha256, AsBytes(data), *sig)
          .code() == ErrorCode::kCorrupt);
}

TEST_CASE("crypto: certificate chains verify against the given anchors") {
  TestPki pki;
  auto leaf = Certificate::ParsePem(pki.leaf().cert_pem);
  auto inter = Certificate::ParsePem(pki.intermediate().cert_pem);
  REQUIRE_OK(leaf);
  REQUIRE_OK(inter);
  CHECK_FALSE(leaf->info().self_signed);
  CHECK(leaf->info().issuer == "CN=ova2virt test intermediate");
  std::vector<Certificate> chain = {*inter};

  CHECK_OK(VerifyCertificateChain(*leaf, chain, pki.root().cert_pem));
  // The intermediate given as the anchor is accepted (partial chain).
  CHECK_OK(VerifyCertificateChain(*leaf, {}, pki.intermediate().cert_pem));
  // Without the intermediate the root alone cannot reach the leaf.
  Status no_inter = VerifyCertificateChain(*leaf, {}, pki.root().cert_pem);
  CHECK(no_inter.code() == ErrorCode::kCorrupt);
  CHECK(no_inter.message().find("unable to get local issuer") !=
        std::string::npos);
  // An unrelated root does not vouch for it.
  CHECK(
      VerifyCertificateChain(*leaf, chain, pki.other_root().cert_pem).code() ==
      ErrorCode::kCorrupt);
  // A self-signed signer verifies only when it is itself trusted.
  auto self = Certificate::ParsePem(pki.self_signed().cert_pem);
  REQUIRE_OK(self);
  CHECK(VerifyCertificateChain(*self, {}, pki.root().cert_pem).code() ==
        ErrorCode::kCorrupt);
  CHECK_OK(VerifyCertificateChain(*self, {}, pki.self_signed().cert_pem));
  // Several anchors in one file: any may match.
  CHECK_OK(VerifyCertificateChain(
      *leaf, chain, pki.other_root().cert_pem + pki.root().cert_pem));
  CHECK(VerifyCertificateChain(*leaf, chain, "no pem here").code() ==
        ErrorCode::kCorrupt);
}

TEST_CASE("crypto: several certificates in one text, in order") {
  TestPki pki;
  auto all =
      Certificate::ParseAllPem("SHA1(x.mf)= 00\n" + pki.leaf().cert_pem + "\n" +
                               pki.intermediate().cert_pem + "   \n");
  REQUIRE_OK(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].info().subject == "CN=ova2virt test leaf");
  CHECK((*all)[1].info().subject == "CN=ova2virt test intermediate");
}

TEST_CASE("crypto: malformed certificate text is corrupt, never a crash") {
  CHECK(Certificate::ParseAllPem("").status().code() == ErrorCode::kCorrupt);
  CHECK(Certificate::ParseAllPem("hello").status().message() ==
        "no certificate found");
  Status no_end =
      Certificate::ParseAllPem("-----BEGIN CERTIFICATE-----\nMIIB\n").status();
  CHECK(no_end.code() == ErrorCode::kCorrupt);
  CHECK(no_end.message() == "certificate 1: no end line");
  Status garbage = Certificate::ParseAllPem(
                       "-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
                       "-----END CERTIFICATE-----\n")
                       .status();
  CHECK(garbage.code() == ErrorCode::kCorrupt);
  CHECK(garbage.message().rfind("certificate 1 does not parse", 0) == 0);
  std::string many;
  CorpusSignature t4 = LoadCorpusT4();
  std::string one =
      t4.cert_text.substr(t4.cert_text.find("-----BEGIN"),
                          t4.cert_text.find("-----END CERTIFICATE-----") + 25 -
                              t4.cert_text.find("-----BEGIN"));
  for (int i = 0; i < 40; ++i) many += one + "\n";
  CHECK(Certificate::ParseAllPem(many).status().code() == ErrorCode::kCorrupt);
}

TEST_CASE("crypto: keys that do not parse are usage errors") {
  auto r = SignData("not a key", DigestAlgorithm::kSha256, AsBytes("x"));
  CHECK(r.status().code() == ErrorCode::kUsage);
  TestPki pki;
  testing::RunCommand("cd " + testing::ShellQuote(pki.dir()) +
                      " && openssl pkey -in self.key -aes256 -passout "
                      "pass:secret -out enc.key 2>/dev/null");
  std::string encrypted = ReadFileOrDie(pki.dir() + "/enc.key");
  CHECK(encrypted.find("ENCRYPTED") != std::string::npos);
  auto e = SignData(encrypted, DigestAlgorithm::kSha256, AsBytes("x"));
  CHECK(e.status().code() == ErrorCode::kUsage);
}

TEST_CASE("crypto: utc times format as ISO 8601") {
  CHECK(FormatUtcTime(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatUtcTime(2147483648) == "2038-01-19T03:14:08Z");
}

}  // namespace
}  // namespace ova2virt
