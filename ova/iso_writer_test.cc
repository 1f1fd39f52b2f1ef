// The OVF environment CD, read back by an independent ISO 9660 reader (a
// few lines of Python following ECMA-119, Rock Ridge and Joliet), since no
// ISO tool is installed and mounting is not an option in tests.
#include "ova/iso_writer.h"

#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

// Prints the volume id, then "rr NAME SIZE DIGEST" for every Rock Ridge
// name in the root and "joliet NAME SIZE DIGEST" for every Joliet name.
constexpr const char* kIsoReader = R"(import sys, hashlib, struct
iso = open(sys.argv[1], 'rb').read()
S = 2048
def records(lba, size):
    d = iso[lba * S: lba * S + size]
    i = 0
    while i < len(d):
        n = d[i]
        if n == 0:
            i = (i // S + 1) * S
            continue
        yield d[i:i + n]
        i += n
def extent(rec):
    return struct.unpack('<I', rec[2:6])[0], struct.unpack('<I', rec[10:14])[0]
pvd = iso[16 * S: 17 * S]
assert pvd[0] == 1 and pvd[1:6] == b'CD001', 'no primary volume descriptor'
print('volume', pvd[40:72].decode().rstrip())
root = pvd[156:190]
for rec in records(*extent(root)):
    idlen = rec[32]
    ident = rec[33:33 + idlen]
    if ident in (b'\0', b'\1'):
        continue
    su = rec[33 + idlen + (1 - idlen % 2):]
    name = None
    j = 0
    while j + 4 <= len(su):
        sig, ln = su[j:j + 2], su[j + 2]
        if ln == 0:
            break
        if sig == b'NM':
            name = su[j + 5:j + ln].decode()
        j += ln
    lba, size = extent(rec)
    data = iso[lba * S: lba * S + size]
    print('iso', ident.decode())
    print('rr', name, size, hashlib.sha256(data).hexdigest())
n = 17
while iso[n * S] != 255:
    svd = iso[n * S: (n + 1) * S]
    if svd[0] == 2 and svd[88:91] in (b'%/@', b'%/C', b'%/E'):
        print('joliet-volume', svd[40:72].decode('utf-16-be').rstrip())
        for rec in records(*extent(svd[156:190])):
            idlen = rec[32]
            ident = rec[33:33 + idlen]
            if ident in (b'\0', b'\1'):
                continue
            lba, size = extent(rec)
            data = iso[lba * S: lba * S + size]
            name = ident.decode('utf-16-be').split(';')[0]
            print('joliet', name, size, hashlib.sha256(data).hexdigest())
    n += 1
)";

TEST_CASE("iso: the OVF environment CD keeps its label, names and bytes") {
  REQUIRE(testing::HaveTool("python3"));
  testing::TempDir dir;
  const std::string env =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Environment xmlns=\"http://schemas.dmtf.org/ovf/environment/1\">"
      "<PropertySection><Property key=\"hostname\" value=\"vm1\"/>"
      "</PropertySection></Environment>\n";
  const std::string big = testing::PatternBytes(5000, 3);
  StringSink sink;
  REQUIRE_OK(WriteIso9660({{"ovf-env.xml", env}, {"user-data", big}},
                          kOvfEnvironmentLabel, sink));
  CHECK(sink.str().size() % 2048 == 0);
  testing::WriteFileOrDie(dir.Join("env.iso"), sink.str());
  testing::WriteFileOrDie(dir.Join("read_iso.py"), kIsoReader);
  testing::CommandResult r = testing::RunCommand(
      "python3 " + testing::ShellQuote(dir.Join("read_iso.py")) + " " +
      testing::ShellQuote(dir.Join("env.iso")) + " 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("volume OVF ENV\n") != std::string::npos);
  CHECK(r.out.find("joliet-volume OVF ENV\n") != std::string::npos);
  auto digest = [](const std::string& s) {
    return DigestHex(DigestAlgorithm::kSha256, AsBytes(s));
  };
  for (const char* kind : {"rr", "joliet"}) {
    CHECK(r.out.find(std::string(kind) + " ovf-env.xml " +
                     std::to_string(env.size()) + " " + digest(env)) !=
          std::string::npos);
    CHECK(r.out.find(std::string(kind) + " user-data 5000 " + digest(big)) !=
          std::string::npos);
  }
}

TEST_CASE("iso: bad names and labels are refused") {
  StringSink sink;
  for (const char* bad : {"", ".", "..", "a/b", "a\nb"}) {
    CHECK(WriteIso9660({{bad, "x"}}, "L", sink).code() == ErrorCode::kUsage);
  }
  CHECK(WriteIso9660({{"a", "x"}, {"a", "y"}}, "L", sink).code() ==
        ErrorCode::kUsage);
  CHECK(WriteIso9660({}, std::string(33, 'L'), sink).code() ==
        ErrorCode::kUsage);
  CHECK(WriteIso9660({}, "L\n", sink).code() == ErrorCode::kUsage);
  CHECK(sink.str().empty());
}

}  // namespace
}  // namespace ova2virt
