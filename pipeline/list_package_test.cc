#include "pipeline/list_package.h"

#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

TEST_CASE("list package: members, roles, offsets; no hashing needed") {
  testing::TempDir dir;
  testing::Appliance app;
  testing::TarBuilder tar = app.Tar();
  tar.File(app.cert_name(), "not checked by a listing");
  std::string path = dir.Join("app.ova");
  tar.WriteFile(path);
  auto l = ListPackage(path);
  REQUIRE_OK(l);
  CHECK(l->kind == InputKind::kOva);
  CHECK(l->descriptor_name == "app.ovf");
  CHECK(l->descriptor == app.Descriptor());
  CHECK(l->manifest_name == "app.mf");
  CHECK(l->certificate_name == "app.cert");
  auto layout = tar.Layout();
  REQUIRE(l->members.size() == layout.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    CHECK(l->members[i].name == layout[i].name);
    CHECK(l->members[i].offset == layout[i].data_offset);
    CHECK(l->members[i].size == layout[i].size);
  }
  CHECK(l->referenced == std::vector<std::string>{"disk1.vmdk", "disk2.vmdk"});
  CHECK(l->warnings.empty());
}

TEST_CASE("list package: broken packages fail naming the input") {
  auto none =
      ListPackage(testing::CorpusPath("ova/glance_testserver-no-ovf.ova"));
  CHECK(none.status().code() == ErrorCode::kCorrupt);
  CHECK(none.status().message().find(
            "glance_testserver-no-ovf.ova: no ovf descriptor (.ovf member) in "
            "the package") != std::string::npos);
  auto png =
      ListPackage(testing::CorpusPath("ova/glance_testserver-not-tar.ova"));
  CHECK(png.status().message().find("not-tar.ova: not a tar archive") !=
        std::string::npos);
  auto no_disk =
      ListPackage(testing::CorpusPath("ova/glance_testserver-no-disk.ova"));
  REQUIRE_OK(no_disk);
  CHECK(no_disk->warnings.Has("ova.referenced-missing"));
}

}  // namespace
}  // namespace ova2virt
