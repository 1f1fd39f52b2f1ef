#include "pipeline/describe.h"

#include "core/vmspec_dump.h"
#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("describe: the kind from the name, else from the content") {
  CHECK(GuessDescriptorKind("a.OVF", "") == DescriptorKind::kOvf);
  CHECK(GuessDescriptorKind("a.vmx", "") == DescriptorKind::kVmx);
  CHECK(GuessDescriptorKind("-", "\xEF\xBB\xBF  <?xml version='1.0'?>") ==
        DescriptorKind::kOvf);
  CHECK(GuessDescriptorKind("-", ".encoding = \"UTF-8\"\n") ==
        DescriptorKind::kVmx);
  CHECK(!GuessDescriptorKind("-", "\x89PNG").has_value());
}

TEST_CASE("describe: a lone descriptor of each kind") {
  for (const char* path :
       {"ovf/virtv2v_test-i-ova.ovf", "vmx/virtv2v_test-i-vmx-6_nvme.vmx"}) {
    CAPTURE(path);
    std::string text = testing::ReadFileOrDie(testing::CorpusPath(path));
    auto kind = GuessDescriptorKind(path, text);
    REQUIRE(kind.has_value());
    Diagnostics diag;
    auto a = DescribeDescriptor(text, *kind, {}, &diag);
    REQUIRE_OK(a);
    CHECK(a->systems.size() == 1);
  }
  CHECK(DescribeDescriptor("x = 1", DescriptorKind::kVmx, {"small"}, nullptr)
            .status()
            .code() == ErrorCode::kUsage);
}

TEST_CASE("describe: hrefs that leave the descriptor's folder only warn") {
  // The corpus has one: ovftool's test template points at ../../../vmdk/.
  std::string text = testing::ReadFileOrDie(
      testing::CorpusPath("ovf/govmomi_ovftooltest_gzip_compression.ovf"));
  Diagnostics diag;
  auto a = DescribeDescriptor(text, DescriptorKind::kOvf, {}, &diag);
  REQUIRE_OK(a);
  CHECK(WarnAboutOutsideHrefs(*a, &diag) == 1);
  CHECK(diag.Has("ovf.href-outside-package"));
  ApplianceSpec b;
  b.files = {{"1", "ok.vmdk"},
             {"2", "sub/ok.vmdk"},
             {"3", "/etc/passwd"},
             {"4", "a/../../b"},
             {"5", "http://x/y"},
             {"6", "c:\\x"},
             {"7", "dots..in..name.vmdk"}};
  CHECK(WarnAboutOutsideHrefs(b, nullptr) == 4);
  // A .vmx naming an ISO on a datastore: a warning, not an error.
  text = testing::ReadFileOrDie(
      testing::CorpusPath("vmx/virtv2v_test-i-vmx-2_fedora_sata.vmx"));
  a = DescribeDescriptor(text, DescriptorKind::kVmx, {}, nullptr);
  REQUIRE_OK(a);
  CHECK(WarnAboutOutsideHrefs(*a, nullptr) == 1);
}

TEST_CASE("describe: files not beside a lone descriptor are a warning") {
  testing::TempDir dir;
  ApplianceSpec a;
  a.files = {{"1", "here.vmdk"},
             {"2", "chunked.vmdk"},
             {"3", "gone.vmdk"},
             {"4", "../outside.vmdk"}};
  testing::WriteFileOrDie(dir.Join("here.vmdk"), "x");
  testing::WriteFileOrDie(dir.Join("chunked.vmdk.000000000"), "x");
  Diagnostics diag;
  CHECK(WarnAboutMissingFiles(a, dir.path(), &diag) == 1);
  REQUIRE(diag.size() == 1);
  CHECK(diag.items()[0].id == "ovf.file-missing");
  CHECK(diag.items()[0].where == "gone.vmdk");
  // The corpus descriptors come without their disks.
  std::string text =
      testing::ReadFileOrDie(testing::CorpusPath("ovf/virtv2v_test-i-ova.ovf"));
  auto b = DescribeDescriptor(text, DescriptorKind::kOvf, {}, nullptr);
  REQUIRE_OK(b);
  CHECK(WarnAboutMissingFiles(*b, testing::CorpusPath("ovf"), nullptr) == 1);
}

}  // namespace
}  // namespace ova2virt
