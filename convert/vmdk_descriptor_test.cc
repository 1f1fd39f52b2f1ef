#include "convert/vmdk_descriptor.h"

#include "convert/disk_test_util.h"
#include "tests/support/vmdk_builder.h"

namespace ova2virt {
namespace {

using testing::CorpusPath;
using testing::ReadFileOrDie;

TEST_CASE("vmdk descriptor: the real descriptors of the corpus") {
  struct Expect {
    const char* file;
    const char* create_type;
    const char* access;
    uint64_t sectors;
    const char* adapter;
  };
  for (const Expect& e : {
           Expect{"desc_cot_input_vmware-streamOptimized.txt",
                  "streamOptimized", "RDONLY", 2097152, "lsilogic"},
           Expect{"desc_ganeti_new_disk_qemu-monolithicSparse.txt",
                  "monolithicSparse", "RW", 100, "ide"},
           Expect{"desc_vboxvk_t2_ovftool-4.0-streamOptimized.txt",
                  "streamOptimized", "RDONLY", 4194304, "ide"},
           Expect{"desc_vboxvk_t4_ovftool-4.0-gz-streamOptimized.txt",
                  "streamOptimized", "RDONLY", 125829120, "lsilogic"},
       }) {
    CAPTURE(e.file);
    std::string text = ReadFileOrDie(CorpusPath(std::string("vmdk/") + e.file));
    CHECK(LooksLikeVmdkDescriptor(text));
    auto d = ParseVmdkDescriptor(text);
    REQUIRE_OK(d);
    CHECK(d->create_type == e.create_type);
    CHECK(d->parent_cid == "ffffffff");
    REQUIRE(d->extents.size() == 1);
    CHECK(d->extents[0].access == e.access);
    CHECK(d->extents[0].sectors == e.sectors);
    CHECK(d->extents[0].type == "SPARSE");
    CHECK(d->Ddb("ddb.adapterType") == e.adapter);
    CHECK_OK(CheckVmdkDescriptorSupported(*d));
    auto cap = d->CapacityBytes();
    REQUIRE_OK(cap);
    CHECK(*cap == e.sectors * 512);
  }
}

TEST_CASE("vmdk descriptor: extents of every kind, CRLF, padding") {
  std::string text =
      "\xef\xbb\xbf# Disk DescriptorFile\r\n"
      "version=1\r\n"
      "CID=fffffffe\r\n"
      "parentCID=ffffffff\r\n"
      "createType=\"twoGbMaxExtentFlat\"\r\n"
      "RW 4192256 FLAT \"disk name-f001.vmdk\" 0\r\n"
      "RW 2048 ZERO\r\n"
      "RDONLY 100 SPARSE \"sub/disk-s002.vmdk\"\r\n"
      "RW 8 VMFS \"x-flat.vmdk\"\r\n"
      "ddb.adapterType = \"lsilogic\"   \r\n"
      "some line the parser does not know\n";
  text += std::string(300, '\0');  // embedded descriptors are NUL-padded
  auto d = ParseVmdkDescriptor(text);
  REQUIRE_OK(d);
  REQUIRE(d->extents.size() == 4);
  CHECK(d->extents[0].file == "disk name-f001.vmdk");
  CHECK(d->extents[0].type == "FLAT");
  CHECK(d->extents[1].type == "ZERO");
  CHECK(d->extents[1].file.empty());
  CHECK(d->extents[2].file == "sub/disk-s002.vmdk");
  CHECK(d->extents[3].type == "VMFS");
  CHECK(d->Ddb("ddb.adapterType") == "lsilogic");
  auto cap = d->CapacityBytes();
  REQUIRE_OK(cap);
  CHECK(*cap == (4192256ull + 2048 + 100 + 8) * 512);
}

TEST_CASE("vmdk descriptor: malformed extent lines are corrupt") {
  for (const char* line : {"RW abc SPARSE \"x.vmdk\"", "RW 10 SPARSE x.vmdk",
                           "RW 10 SPARSE \"x.vmdk", "RW 10 FLAT \"x.vmdk\" zz",
                           "RW 99999999999999999999999 FLAT \"x\" 0",
                           "RW 10 SPARSE", "RW 10 FLAT \"x.vmdk\" 0 extra"}) {
    CAPTURE(line);
    auto d = ParseVmdkDescriptor(std::string("# Disk DescriptorFile\n") + line +
                                 "\n");
    CHECK(d.status().code() == ErrorCode::kCorrupt);
    CHECK(d.status().message().find("descriptor line 2") != std::string::npos);
  }
  std::string many = "# Disk DescriptorFile\n";
  for (int i = 0; i < 1100; ++i) many += "RW 1 ZERO\n";
  CHECK(ParseVmdkDescriptor(many).status().code() == ErrorCode::kCorrupt);
  CHECK(ParseVmdkDescriptor(std::string(2 << 20, 'x')).status().code() ==
        ErrorCode::kCorrupt);
}

TEST_CASE("vmdk descriptor: extent names never leave the folder") {
  for (const char* ok :
       {"disk-flat.vmdk", "sub/disk.vmdk", "a..b.vmdk", "disk name (1).vmdk"}) {
    CAPTURE(ok);
    CHECK_OK(CheckExtentName(ok));
  }
  for (const char* bad : {"", "/etc/passwd", "../secret", "a/../../b", "..",
                          "sub/..", "a\\b", "new\nline"}) {
    CAPTURE(bad);
    CHECK(CheckExtentName(bad).code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("vmdk descriptor: create types, parents and encryption") {
  auto check = [](std::string type, std::string extra = "") {
    auto d = ParseVmdkDescriptor("# Disk DescriptorFile\ncreateType=\"" + type +
                                 "\"\nparentCID=ffffffff\n" + extra);
    REQUIRE_OK(d);
    return CheckVmdkDescriptorSupported(*d);
  };
  for (const char* t :
       {"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
        "twoGbMaxExtentFlat", "streamOptimized", "vmfs", "vmfsThin"}) {
    CHECK_OK(check(t));
  }
  for (const char* t : {"vmfsSparse", "seSparse", "vmfsRaw", "vmfsRawDeviceMap",
                        "fullDevice", "", "custom"}) {
    CAPTURE(t);
    Status s = check(t);
    CHECK(s.code() == ErrorCode::kUnsupported);
    CHECK(s.message().find(Quote(t)) != std::string::npos);
  }
  CHECK(check("monolithicSparse", "parentFileNameHint=\"../base.vmdk\"\n")
            .code() == ErrorCode::kUnsupported);
  CHECK(check("monolithicSparse", "encryption=\"keySafe=x\"\n").code() ==
        ErrorCode::kUnsupported);
}

TEST_CASE("vmdk descriptor: what we format, we parse back") {
  VmdkDescriptor d;
  d.version = "1";
  d.encoding = "UTF-8";
  d.cid = "0badc0de";
  d.parent_cid = "ffffffff";
  d.create_type = "streamOptimized";
  d.extents.push_back({"RW", 1234, "SPARSE", "disk1.vmdk", 0});
  d.ddb = {{"ddb.adapterType", "lsilogic"}, {"ddb.virtualHWVersion", "4"}};
  auto back = ParseVmdkDescriptor(FormatVmdkDescriptor(d));
  REQUIRE_OK(back);
  CHECK(back->cid == d.cid);
  CHECK(back->create_type == d.create_type);
  CHECK(back->encoding == "UTF-8");
  REQUIRE(back->extents.size() == 1);
  CHECK(back->extents[0].file == "disk1.vmdk");
  CHECK(back->ddb == d.ddb);
}

TEST_CASE("vmdk descriptor files: extents are opened only when safe") {
  testing::TempDir dir;
  std::string disk(1 << 20, 'q');
  testing::WriteFileOrDie(dir.Join("d-flat.vmdk"), disk);
  std::string head =
      "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
      "createType=\"monolithicFlat\"\n";
  std::vector<std::string> opened;
  auto open = [&](const std::string& desc) -> Status {
    testing::WriteFileOrDie(dir.Join("d.vmdk"), desc);
    auto ra = FileRandomAccess::Open(dir.Join("d.vmdk"));
    REQUIRE_OK(ra);
    DiskSource src;
    src.name = "d.vmdk";
    src.random = ra->get();
    src.open_extent = [&](std::string_view name)
        -> Result<std::unique_ptr<RandomAccessSource>> {
      opened.emplace_back(name);
      ASSIGN_OR_RETURN(auto f,
                       FileRandomAccess::Open(dir.Join(std::string(name))));
      return std::unique_ptr<RandomAccessSource>(std::move(f));
    };
    auto r = OpenDiskReader(src, {});
    if (!r.ok()) return r.status();
    return testing::TryReadDisk(**r).status();
  };
  CHECK_OK(open(head + "RW 2048 FLAT \"d-flat.vmdk\" 0\n"));
  CHECK(opened == std::vector<std::string>{"d-flat.vmdk"});
  opened.clear();
  Status s = open(head + "RW 2048 FLAT \"/etc/passwd\" 0\n");
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("absolute path") != std::string::npos);
  s = open(head + "RW 2048 FLAT \"../d-flat.vmdk\" 0\n");
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(opened.empty());
  // A flat extent larger than its file is corrupt, not zeros.
  s = open(head + "RW 4096 FLAT \"d-flat.vmdk\" 0\n");
  CHECK(s.code() == ErrorCode::kCorrupt);
  CHECK(s.message().find("shorter than its extent") != std::string::npos);
  s = open(head + "RW 2048 VMFSSPARSE \"d-flat.vmdk\"\n");
  CHECK(s.code() == ErrorCode::kUnsupported);
}

TEST_CASE("vmdk descriptor files: FLAT, VMFS, ZERO and SPARSE extents mixed") {
  testing::TempDir dir;
  std::string a = testing::RealisticDiskImage(1 << 20, 81);
  std::string b = testing::RealisticDiskImage(512 * 1024, 82);
  std::string c = testing::RealisticDiskImage(256 * 1024, 83);
  testing::WriteFileOrDie(dir.Join("a-flat.vmdk"), std::string(4096, 'p') + a);
  testing::WriteFileOrDie(dir.Join("b-flat.vmdk"), b);
  // A sparse extent whose header says more than its line: the line wins.
  testing::WriteFileOrDie(
      dir.Join("c-s001.vmdk"),
      testing::VmdkBuilder(testing::VmdkBuilder::Layout::kMonolithicSparse,
                           c + std::string(65536, 'x'))
          .Build());
  testing::WriteFileOrDie(
      dir.Join("d.vmdk"),
      "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
      "createType=\"vmfs\"\n"
      "RW 2048 FLAT \"a-flat.vmdk\" 8\n"
      "RW 100 ZERO\n"
      "RW 1024 VMFS \"b-flat.vmdk\"\n"
      "RW 512 SPARSE \"c-s001.vmdk\"\n");
  std::unique_ptr<FileRandomAccess> keep;
  auto r = testing::OpenFileReader(dir.Join("d.vmdk"), &keep);
  REQUIRE_OK(r);
  CHECK((*r)->format_name() == "vmdk-vmfs");
  auto got = testing::TryReadDisk(**r);
  REQUIRE_OK(got);
  CHECK(*got == a + std::string(100 * 512, '\0') + b + c);
}

}  // namespace
}  // namespace ova2virt
