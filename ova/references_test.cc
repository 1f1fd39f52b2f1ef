#include "ova/references.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

TEST_CASE("references: hrefs from every OVF generation") {
  auto ovf1 = ReadFileReferences(R"(<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="68096"/>
    <File ovf:href="disk2.vmdk.gz" ovf:id="file2" ovf:compression="gzip"/>
  </References>
</Envelope>)");
  REQUIRE_OK(ovf1);
  REQUIRE(ovf1->size() == 2);
  CHECK((*ovf1)[0].href == "disk1.vmdk");
  CHECK((*ovf1)[0].id == "file1");
  CHECK((*ovf1)[0].size == 68096);
  CHECK((*ovf1)[1].compression == "gzip");
  CHECK_FALSE((*ovf1)[1].size.has_value());
  auto ovf09 = ReadFileReferences(
      R"(<ovf:Envelope xmlns:ovf="http://www.vmware.com/schema/ovf/1/envelope">
  <ovf:References><ovf:File ovf:href="a.vmdk" ovf:id="f"/></ovf:References>
</ovf:Envelope>)");
  REQUIRE_OK(ovf09);
  CHECK((*ovf09)[0].href == "a.vmdk");
  auto none = ReadFileReferences("<Envelope/>");
  REQUIRE_OK(none);
  CHECK(none->empty());
}

TEST_CASE("references: bad descriptors are corrupt") {
  CHECK(ReadFileReferences("<Envelope><References>").status().code() ==
        ErrorCode::kCorrupt);
  CHECK(ReadFileReferences("<Envelope><References><File/></References>"
                           "</Envelope>")
            .status()
            .message()
            .find("has no href") != std::string::npos);
  CHECK(ReadFileReferences("<Envelope><References><File href='a' "
                           "size='12k'/></References></Envelope>")
            .status()
            .message()
            .find("size '12k' is not a number") != std::string::npos);
}

TEST_CASE("references: chunked files stand for numbered members") {
  FileReference ref;
  ref.href = "disk.vmdk";
  ref.size = 25;
  ref.chunk_size = 10;
  auto names = ReferencedMemberNames(ref);
  REQUIRE_OK(names);
  CHECK(*names == std::vector<std::string>{"disk.vmdk.000000000",
                                           "disk.vmdk.000000001",
                                           "disk.vmdk.000000002"});
  ref.size = uint64_t{1} << 40;
  ref.chunk_size = 1;
  CHECK(ReferencedMemberNames(ref).status().code() == ErrorCode::kCorrupt);
  ref.chunk_size.reset();
  ref.href = "../disk.vmdk";
  CHECK(ReferencedMemberNames(ref).status().message() ==
        "href '../disk.vmdk' leaves the package: '..' component");
}

TEST_CASE("references: every corpus descriptor either reads or is corrupt") {
  int read = 0;
  for (const std::string& path : testing::CorpusFiles("ovf")) {
    INFO(path);
    auto refs = ReadFileReferences(testing::ReadFileOrDie(path));
    if (refs.ok()) {
      ++read;
    } else {
      CHECK(refs.status().code() == ErrorCode::kCorrupt);
    }
  }
  CHECK(read > 40);
}

}  // namespace
}  // namespace ova2virt
