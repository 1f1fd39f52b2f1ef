#include "ova/member_name.h"

#include "tests/support/test_util.h"

namespace ova2virt {
namespace {

std::string Why(std::string_view name) {
  auto r = ValidateMemberName(name);
  return r.ok() ? "ok:" + *r : r.status().message();
}

std::string HrefWhy(std::string_view href) {
  auto r = ValidateHref(href);
  return r.ok() ? "ok:" + *r : r.status().message();
}

TEST_CASE("member names: plain names pass, normalized") {
  CHECK(Why("disk1.vmdk") == "ok:disk1.vmdk");
  CHECK(Why("./disk1.vmdk") == "ok:disk1.vmdk");
  CHECK(Why("a//b/./c.vmdk") == "ok:a/b/c.vmdk");
  CHECK(Why("dir/") == "ok:dir");
  CHECK(Why("./") == "ok:");
  CHECK(Why("disk (1).vmdk") == "ok:disk (1).vmdk");
  CHECK(Why("d\xC3\xAFsk.vmdk") == "ok:d\xC3\xAFsk.vmdk");
  CHECK(Why("..disk") == "ok:..disk");  // not a component
  CHECK(Why("a..b/c") == "ok:a..b/c");
}

TEST_CASE("member names: hostile names are corrupt, naming the member") {
  CHECK(Why("") == "member '': empty name");
  CHECK(Why("/etc/passwd") == "member '/etc/passwd': absolute path");
  CHECK(Why("C:evil") == "member 'C:evil': absolute path");
  CHECK(Why("../x") == "member '../x': '..' component");
  CHECK(Why("a/../../x") == "member 'a/../../x': '..' component");
  CHECK(Why("a/..") == "member 'a/..': '..' component");
  CHECK(Why("..") == "member '..': '..' component");
  CHECK(Why("a\\..\\x") == "member 'a\\\\..\\\\x': name contains a backslash");
  CHECK(Why(std::string("a\0b", 3)) ==
        "member 'a\\x00b': name contains control characters");
  CHECK(Why("evil\nline") ==
        "member 'evil\\x0aline': name contains control characters");
  CHECK(Why("del\x7f") ==
        "member 'del\\x7f': name contains control characters");
  CHECK(Why(std::string(1025, 'a')).find("longer than 1024 bytes") !=
        std::string::npos);
  CHECK(Why(std::string(1024, 'a')) == "ok:" + std::string(1024, 'a'));
  for (auto* m : {"", "/x", "../x"}) {
    CHECK(ValidateMemberName(m).status().code() == ErrorCode::kCorrupt);
  }
}

TEST_CASE("hrefs: relative names pass, anything leaving the package fails") {
  CHECK(HrefWhy("disk1.vmdk") == "ok:disk1.vmdk");
  CHECK(HrefWhy("./sub/disk 1.vmdk") == "ok:sub/disk 1.vmdk");
  CHECK(HrefWhy("disk%201.vmdk") == "ok:disk%201.vmdk");
  CHECK(HrefWhy("../x") == "href '../x' leaves the package: '..' component");
  CHECK(HrefWhy("/etc/passwd") ==
        "href '/etc/passwd' leaves the package: absolute path");
  CHECK(HrefWhy("file:///etc/passwd") ==
        "href 'file:///etc/passwd' leaves the package: url 'file:'");
  CHECK(HrefWhy("http://example.com/disk.vmdk") ==
        "href 'http://example.com/disk.vmdk' leaves the package: url "
        "'http:'");
  CHECK(HrefWhy("HTTPS://x/y") ==
        "href 'HTTPS://x/y' leaves the package: url 'HTTPS:'");
  CHECK(HrefWhy("C:\\Windows\\x") ==
        "href 'C:\\\\Windows\\\\x' leaves the package: url 'C:'");
  CHECK(HrefWhy("%2e%2e/x") ==
        "href '%2e%2e/x' leaves the package: '..' component once "
        "percent-decoded");
  CHECK(HrefWhy("%2Fetc%2Fpasswd") ==
        "href '%2Fetc%2Fpasswd' leaves the package: absolute path once "
        "percent-decoded");
  CHECK(HrefWhy("a%00b") ==
        "href 'a%00b' leaves the package: name contains control characters "
        "once percent-decoded");
  CHECK(HrefWhy("") == "href '': empty name");
  CHECK(HrefWhy("./") == "href './': names no file");
  CHECK(HrefWhy("a\nb") == "href 'a\\x0ab': name contains control characters");
}

TEST_CASE("member names: AppleDouble, extensions, base names") {
  CHECK(IsAppleDouble("._disk1.vmdk"));
  CHECK(IsAppleDouble("dir/._x.ovf"));
  CHECK_FALSE(IsAppleDouble("._"));
  CHECK_FALSE(IsAppleDouble("a._b"));
  CHECK(HasExtension("X.OVF", ".ovf"));
  CHECK_FALSE(HasExtension("x.ovf.gz", ".ovf"));
  CHECK_FALSE(HasExtension("f", ".ovf"));
  CHECK(BaseName("dir/app.v1.ovf") == "app.v1");
  CHECK(BaseName("app") == "app");
}

}  // namespace
}  // namespace ova2virt
