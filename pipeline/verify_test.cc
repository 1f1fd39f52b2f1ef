#include "pipeline/verify.h"

#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::Appliance;
using testing::TempDir;

TEST_CASE("verify: a good package, its members and its verdict") {
  TempDir dir;
  Appliance app;
  std::string path = dir.Join("app.ova");
  app.Tar().WriteFile(path);
  auto r = VerifyPackage({path});
  REQUIRE_OK(r);
  CHECK_OK(r->Verdict());
  CHECK(r->kind == InputKind::kOva);
  CHECK_FALSE(r->streamed);
  CHECK(r->members.size() == 4);
  CHECK(r->descriptor_name == "app.ovf");
  CHECK(r->report.files.size() == 3);
}

TEST_CASE("verify: verdicts and errors name the input") {
  TempDir dir;
  Appliance app;
  app.disks[1].second[0] ^= 1;
  testing::TarBuilder tar;
  tar.File(app.ovf_name(), app.Descriptor());
  Appliance original;
  tar.File(app.mf_name(), original.Manifest(DigestAlgorithm::kSha512));
  for (const auto& d : app.disks) tar.File(d.first, d.second);
  std::string path = dir.Join("flip.ova");
  tar.WriteFile(path);
  auto r = VerifyPackage({path});
  REQUIRE_OK(r);
  CHECK(r->Verdict().code() == ErrorCode::kCorrupt);
  CHECK(r->Verdict().message() ==
        path + ": member 'disk2.vmdk': SHA512 digest mismatch");

  VerifyRequest with_ca{path};
  with_ca.ca_file = dir.Join("no-such-ca.pem");
  auto no_ca = VerifyPackage(with_ca);
  CHECK(no_ca.status().code() == ErrorCode::kNotFound);
  CHECK(no_ca.status().message().rfind(path + ": " + with_ca.ca_file, 0) == 0);

  auto bad_xml =
      VerifyPackage({testing::CorpusPath("ova/glance_testserver-bad-ovf.ova")});
  CHECK(bad_xml.status().code() == ErrorCode::kCorrupt);
  CHECK(bad_xml.status().message().find(
            "glance_testserver-bad-ovf.ova: member 'illegal-xml.ovf': line ") !=
        std::string::npos);

  Appliance hostile;
  hostile.extra_hrefs = {"/etc/shadow"};
  hostile.Tar().WriteFile(dir.Join("hostile.ova"));
  auto h = VerifyPackage({dir.Join("hostile.ova")});
  CHECK(h.status().message() ==
        dir.Join("hostile.ova") +
            ": href '/etc/shadow' leaves the package: absolute path");
  CHECK(InputDisplayName("-") == "stdin");
}

TEST_CASE("verify: chunked references expect every chunk") {
  TempDir dir;
  Appliance app;
  app.disks = {{"disk.vmdk.000000000", "aaaa"}, {"disk.vmdk.000000001", "bb"}};
  std::string ovf =
      "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
      "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"><References>"
      "<File ovf:href=\"disk.vmdk\" ovf:id=\"f\" ovf:size=\"10\" "
      "ovf:chunkSize=\"4\"/></References></Envelope>";
  testing::TarBuilder tar;
  tar.File("app.ovf", ovf);
  for (const auto& d : app.disks) tar.File(d.first, d.second);
  tar.WriteFile(dir.Join("chunked.ova"));
  auto r = VerifyPackage({dir.Join("chunked.ova")});
  REQUIRE_OK(r);
  CHECK(r->Verdict().message() ==
        dir.Join("chunked.ova") +
            ": member 'disk.vmdk.000000002' is referenced by the descriptor "
            "but missing");
}

}  // namespace
}  // namespace ova2virt
