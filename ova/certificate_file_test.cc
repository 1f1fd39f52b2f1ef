#include "ova/certificate_file.h"

#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("certificate file: the corpus's padded ovftool certificates") {
  for (const char* name : {"cert/vboxvk_tdAppliance1-t4.cert",
                           "cert/vboxvk_tdAppliance1-t4-ovftool-4.1.0.cert"}) {
    INFO(name);
    std::string text = testing::ReadFileOrDie(testing::CorpusPath(name));
    CHECK(text.size() == 102400);
    auto c = ParseCertificateFile(text);
    REQUIRE_OK(c);
    CHECK(c->algorithm == DigestAlgorithm::kSha1);
    CHECK(c->signed_name.rfind("tdAppliance1-t4", 0) == 0);
    CHECK(c->signature.size() == 128);  // RSA 1024
    REQUIRE(c->certificates.size() == 1);
    CHECK(c->certificates[0].info().subject.find("CN=beispiel.example.org") !=
          std::string::npos);
  }
}

TEST_CASE("certificate file: format and parse round trip, with a chain") {
  testing::TestPki pki;
  std::vector<uint8_t> sig = {1, 2, 3, 0xff};
  std::string text =
      FormatCertificateFile(DigestAlgorithm::kSha256, "app.mf", sig,
                            pki.leaf().cert_pem + pki.intermediate().cert_pem);
  CHECK(text.rfind("SHA256(app.mf)= 010203ff\n-----BEGIN CERTIFICATE-----",
                   0) == 0);
  auto c = ParseCertificateFile("\r\n" + text);
  REQUIRE_OK(c);
  CHECK(c->signed_name == "app.mf");
  CHECK(c->signature == sig);
  REQUIRE(c->certificates.size() == 2);
  CHECK(c->certificates[1].info().subject == "CN=ova2virt test intermediate");
}

TEST_CASE("certificate file: malformed files say what is wrong") {
  testing::TestPki pki;
  const std::string& pem = pki.self_signed().cert_pem;
  auto why = [](const std::string& text) {
    return ParseCertificateFile(text).status().message();
  };
  CHECK(why("") == "no signature line");
  CHECK(why("   \n\n") == "no signature line");
  CHECK(why(pem) == "no signature line before the certificate");
  CHECK(why("signature\n" + pem) ==
        "signature line is not 'ALGO(manifest)= signature'");
  CHECK(why("SHA256(a.mf)= zz\n" + pem) == "signature is not hexadecimal");
  CHECK(why("SHA256(a.mf)= \n" + pem) == "signature of 0 hex digits");
  CHECK(why("SHA256(a.mf)= " + std::string(5000, '0') + "\n" + pem) ==
        "signature of 5000 hex digits");
  CHECK(why("SHA256(a.mf)= 00\n") == "no certificate after the signature line");
  CHECK(why("SHA256(a.mf)= 00\n-----BEGIN CERTIFICATE-----\nAAAA\n") ==
        "certificate 1: no end line");
  Status md5 = ParseCertificateFile("MD5(a.mf)= 00\n" + pem).status();
  CHECK(md5.code() == ErrorCode::kUnsupported);
  for (const std::string& bad :
       {std::string(), std::string("SHA256(a.mf)= 00\n")}) {
    CHECK(ParseCertificateFile(bad).status().code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("certificate file: text that is not UTF-8 is corrupt") {
  auto r = ParseCertificateFile("SHA256(a\xFE.mf)= 00ff\n");
  REQUIRE(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message() ==
        "line 1, column 9: invalid UTF-8: byte 0xfe never appears in UTF-8");
}

}  // namespace
}  // namespace ova2virt
