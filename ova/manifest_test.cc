#include "ova/manifest.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

const std::string kSha1 = "869560d342a5105beed671e747da4115bfde420c";
const std::string kSha256 =
    "17720197c516b84e93a2376a57f7a15264de4fcbca3f0bcde81235ba53404d45";
const std::string kSha512(128, 'a');

TEST_CASE("manifest: every style real producers write") {
  const std::string text =
      "SHA1(a.ovf)= " + kSha1 + "\n" +                 // ovftool
      "SHA256 (b.vmdk) = " + kSha256 + "\r\n" +        // older tools, CRLF
      "\n   \n" +                                      // blank lines
      "sha512(c d (1).iso)=" + kSha512 + "   \n" +     // lower case, brackets
      "SHA-256(./e.nvram)= " + std::string(64, 'F') +  // "SHA-256", upper hex
      "\n" + std::string(68, ' ');                     // VirtualBox padding
  auto m = ParseManifest(text);
  REQUIRE_OK(m);
  REQUIRE(m->entries.size() == 4);
  CHECK(m->entries[0].name == "a.ovf");
  CHECK(m->entries[0].algorithm == DigestAlgorithm::kSha1);
  CHECK(m->entries[0].digest == kSha1);
  CHECK(m->entries[0].line == 1);
  CHECK(m->entries[1].name == "b.vmdk");
  CHECK(m->entries[1].algorithm == DigestAlgorithm::kSha256);
  CHECK(m->entries[2].name == "c d (1).iso");
  CHECK(m->entries[2].algorithm == DigestAlgorithm::kSha512);
  CHECK(m->entries[2].line == 5);
  CHECK(m->entries[3].name == "e.nvram");
  CHECK(m->entries[3].digest == std::string(64, 'f'));
  CHECK(m->Algorithms() == std::vector<DigestAlgorithm>{
                               DigestAlgorithm::kSha1, DigestAlgorithm::kSha256,
                               DigestAlgorithm::kSha512});
  CHECK(m->AlgorithmsFor("b.vmdk") ==
        std::vector<DigestAlgorithm>{DigestAlgorithm::kSha256});
  CHECK(m->AlgorithmsFor("nope").empty());
  CHECK(m->Find("a.ovf").size() == 1);
}

TEST_CASE("manifest: empty and blank manifests have no entries") {
  for (std::string text : {std::string(), std::string(68, ' '),
                           std::string("\r\n\r\n"), std::string(30, '\0')}) {
    auto m = ParseManifest(text);
    REQUIRE_OK(m);
    CHECK(m->entries.empty());
  }
}

TEST_CASE("manifest: every corpus manifest parses") {
  for (const std::string& path : testing::CorpusFiles("mf")) {
    INFO(path);
    auto m = ParseManifest(testing::ReadFileOrDie(path));
    CHECK_OK(m);
  }
  auto t4 = ParseManifest(testing::ReadFileOrDie(
      testing::CorpusPath("mf/vboxvk_tdAppliance1-t4.mf")));
  REQUIRE_OK(t4);
  CHECK(t4->entries.size() == 2);
  CHECK(t4->entries[1].name == "tdAppliance1-t4-disk2.vmdk.gz");
}

TEST_CASE("manifest: malformed lines are corrupt, with the line number") {
  auto why = [](const std::string& text) {
    return ParseManifest(text).status().message();
  };
  CHECK(why("hello\n") == "line 1: not a manifest entry: 'hello'");
  CHECK(why("\nSHA1(x)\n") == "line 2: not a manifest entry: 'SHA1(x)'");
  CHECK(why("SHA1 x = 00\n") == "line 1: not a manifest entry: 'SHA1 x = 00'");
  CHECK(why("(x)= " + kSha1) ==
        "line 1: not a manifest entry: '(x)= " + kSha1 + "'");
  CHECK(why("SHA1(x)= abc") ==
        "line 1: SHA1 digest of 'x' has 3 hex digits, expected 40");
  CHECK(why("SHA256(x)= " + kSha1) ==
        "line 1: SHA256 digest of 'x' has 40 hex digits, expected 64");
  CHECK(why("SHA1(x)= " + std::string(40, 'g')) ==
        "line 1: digest of 'x' is not hexadecimal: '" + std::string(40, 'g') +
            "'");
  CHECK(why("SHA1(../etc/passwd)= " + kSha1) ==
        "line 1: member '../etc/passwd': '..' component");
  CHECK(why("SHA1(/x)= " + kSha1) == "line 1: member '/x': absolute path");
  CHECK(why("SHA1()= " + kSha1) == "line 1: member '': empty name");
  CHECK(why("SHA1(./)= " + kSha1) == "line 1: entry names no file");
  Status md5 = ParseManifest("MD5(x)= " + std::string(32, '0')).status();
  CHECK(md5.code() == ErrorCode::kUnsupported);
  CHECK(md5.message() ==
        "line 1: digest algorithm 'MD5' is not supported (SHA1, SHA256, "
        "SHA512 are)");
  CHECK(ParseManifest(std::string(200, 'x')).status().message() ==
        "line 1: not a manifest entry: '" + std::string(80, 'x') + "'...");
}

TEST_CASE("manifest: lines format as ovftool writes them") {
  CHECK(FormatManifestLine(DigestAlgorithm::kSha256, "disk1.vmdk", kSha256) ==
        "SHA256(disk1.vmdk)= " + kSha256 + "\n");
  auto back = ParseManifest(
      FormatManifestLine(DigestAlgorithm::kSha1, "a (b).ovf", kSha1));
  REQUIRE_OK(back);
  CHECK(back->entries[0].name == "a (b).ovf");
}

TEST_CASE("manifest: a line in invalid UTF-8 is corrupt, with its column") {
  const std::string digest(64, 'a');
  auto r = ParseManifest("SHA256(a.ovf)= " + digest +
                         "\nSHA256(d\xE2\x82.vmdk)= " + digest + "\n");
  REQUIRE(r.status().code() == ErrorCode::kCorrupt);
  CHECK(r.status().message() ==
        "line 2, column 9: invalid UTF-8: sequence cut short (bytes 0xe2 0x82 "
        "then 0x2e)");
  // Valid UTF-8 names are fine, with or without a byte order mark.
  CHECK_OK(ParseManifest("\xEF\xBB\xBFSHA256(caf\xC3\xA9.vmdk)= " + digest));
}

}  // namespace
}  // namespace ova2virt
