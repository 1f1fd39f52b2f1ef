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

TEST_CASE("references: how many names a descriptor may stand for is bounded") {
  auto envelope = [](const std::string& files) {
    return "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
           "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">"
           "<References>" +
           files + "</References></Envelope>";
  };
  std::string many;
  for (int i = 0; i < 4097; ++i) {
    many += "<File ovf:href=\"d" + std::to_string(i) + "\"/>";
  }
  auto r = ReadFileReferences(envelope(many));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message().find("more than 4096 files") != std::string::npos);
  // 4096 files are fine; so are 100000 chunks in all, but not one more.
  many.resize(many.rfind("<File"));
  CHECK_OK(ReadFileReferences(envelope(many)));
  std::string chunks =
      "<File ovf:href=\"a\" ovf:size=\"60000\" ovf:chunkSize=\"1\"/>"
      "<File ovf:href=\"b\" ovf:size=\"40000\" ovf:chunkSize=\"1\"/>";
  CHECK_OK(ReadFileReferences(envelope(chunks)));
  auto over = ReadFileReferences(envelope(chunks + "<File ovf:href=\"c\"/>"));
  REQUIRE(!over.ok());
  CHECK(over.status().message().find("more than 100000 files and chunks") !=
        std::string::npos);
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
